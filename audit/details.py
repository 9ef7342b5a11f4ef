"""The audit log's details as the coordinator reads them, in the console's language.

An entry's details are stored as codes (they are part of what the hash chain covers) and are
shown with a label per key and, for a code an app has registered, its label: "role: analyst"
reads «роль: аналитик». Numbers, ids and fingerprints are shown as they are; a code nobody
registered too, so nothing recorded is ever hidden.

Apps register the codes they write from their AppConfig.ready(), so this module imports none
of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

Label = str | Promise

# Every key the code base writes. A key missing here is shown as stored.
KEY_LABELS: dict[str, Label] = {
    "action": pgettext_lazy("audit detail", "action"),
    "active": pgettext_lazy("audit detail", "active"),
    "actor": pgettext_lazy("audit detail", "staff member"),
    "added": pgettext_lazy("audit detail", "shift added"),
    "address_shared": pgettext_lazy("audit detail", "address shared"),
    "attachment": pgettext_lazy("audit detail", "file"),
    "canned": pgettext_lazy("audit detail", "canned reply"),
    "cases": pgettext_lazy("audit detail", "cases"),
    "ceremony": pgettext_lazy("audit detail", "recovery ceremony"),
    "conversation": pgettext_lazy("audit detail", "conversation"),
    "coordinators": pgettext_lazy("audit detail", "coordinators"),
    "count": pgettext_lazy("audit detail", "shares in all"),
    "currency": pgettext_lazy("audit detail", "currency"),
    "destination": pgettext_lazy("audit detail", "destination"),
    "done": pgettext_lazy("audit detail", "done"),
    "entry": pgettext_lazy("audit detail", "payment"),
    "fields": pgettext_lazy("audit detail", "fields"),
    "fingerprint": pgettext_lazy("audit detail", "fingerprint"),
    "flag": pgettext_lazy("audit detail", "red flag"),
    "from": pgettext_lazy("audit detail", "from"),
    "funds_entry": pgettext_lazy("audit detail", "payment"),
    "grace_minutes": pgettext_lazy("audit detail", "grace minutes"),
    "handle_hash": pgettext_lazy("audit detail", "login name (hashed)"),
    "head": pgettext_lazy("audit detail", "latest entry"),
    "held": pgettext_lazy("audit detail", "held"),
    "interval_hours": pgettext_lazy("audit detail", "interval in hours"),
    "item": pgettext_lazy("audit detail", "item"),
    "key_version": pgettext_lazy("audit detail", "key version"),
    "keys": pgettext_lazy("audit detail", "keys"),
    "kind": pgettext_lazy("audit detail", "kind"),
    "kinds": pgettext_lazy("audit detail", "kinds"),
    "last": pgettext_lazy("audit detail", "entries checked"),
    "left": pgettext_lazy("audit detail", "left"),
    "leg": pgettext_lazy("audit detail", "leg"),
    "legs": pgettext_lazy("audit detail", "legs"),
    "link": pgettext_lazy("audit detail", "link"),
    "member": pgettext_lazy("audit detail", "staff member"),
    "members": pgettext_lazy("audit detail", "staff members"),
    "message": pgettext_lazy("audit detail", "message"),
    "missed_due": pgettext_lazy("audit detail", "missed check-in"),
    "not_opened": pgettext_lazy("audit detail", "not opened"),
    "note": pgettext_lazy("audit detail", "note"),
    "over_budget": pgettext_lazy("audit detail", "beyond the budget"),
    "owner": pgettext_lazy("audit detail", "owner"),
    "packet": pgettext_lazy("audit detail", "packet"),
    "page": pgettext_lazy("audit detail", "page"),
    "partner": pgettext_lazy("audit detail", "partner"),
    "placement": pgettext_lazy("audit detail", "placement"),
    "plan": pgettext_lazy("audit detail", "plan"),
    "purpose": pgettext_lazy("audit detail", "purpose"),
    "reason": pgettext_lazy("audit detail", "reason"),
    "release": pgettext_lazy("audit detail", "released"),
    "removed": pgettext_lazy("audit detail", "shift removed"),
    "result": pgettext_lazy("audit detail", "result"),
    "revision": pgettext_lazy("audit detail", "revision"),
    "rewrapped": pgettext_lazy("audit detail", "keys sealed again"),
    "role": pgettext_lazy("audit detail", "role"),
    "rotated": pgettext_lazy("audit detail", "key changed"),
    "rows": pgettext_lazy("audit detail", "rows"),
    "safe_house": pgettext_lazy("audit detail", "safe house"),
    "scope": pgettext_lazy("audit detail", "scope"),
    "seconds": pgettext_lazy("audit detail", "seconds"),
    "sequence": pgettext_lazy("audit detail", "entry"),
    "share": pgettext_lazy("audit detail", "share number"),
    "sign_off": pgettext_lazy("audit detail", "sign-off"),
    "signing_key": pgettext_lazy("audit detail", "signing key"),
    "stage": pgettext_lazy("audit detail", "stage"),
    "status": pgettext_lazy("audit detail", "status"),
    "step": pgettext_lazy("audit detail", "step"),
    "task": pgettext_lazy("audit detail", "task"),
    "tasks": pgettext_lazy("audit detail", "tasks"),
    "team": pgettext_lazy("audit detail", "team"),
    "teams": pgettext_lazy("audit detail", "teams"),
    "template": pgettext_lazy("audit detail", "plan template"),
    "threshold": pgettext_lazy("audit detail", "shares needed"),
    "to": pgettext_lazy("audit detail", "to"),
    "untrusted": pgettext_lazy("audit detail", "untrusted"),
    "version": pgettext_lazy("audit detail", "version"),
    "via": pgettext_lazy("audit detail", "via"),
    "when": pgettext_lazy("audit detail", "when"),
}
_YES = pgettext_lazy("audit detail", "yes")
_NO = pgettext_lazy("audit detail", "no")

# (action or "" for any action, key) -> {code: label}
_CODES: dict[tuple[str, str], dict[str, Label]] = {}


def detail_codes_register(key: str, choices: Iterable[tuple[str, Label]], *, actions: Iterable[str] = ("",)) -> None:
    """Labels for the codes an app writes under ``key`` (for the given actions only, when the
    same key means different things in different actions)."""
    for action in actions:
        _CODES.setdefault((str(action), key), {}).update((str(code), label) for code, label in choices)


@dataclass(frozen=True)
class Detail:
    label: Label
    value: Any


def readable_details(action: str, details: Mapping[str, Any]) -> list[Detail]:
    """In the order of the keys' names: PostgreSQL's jsonb does not keep the written order."""
    return [
        Detail(KEY_LABELS.get(key, key), _readable_value(action, key, details[key]))
        for key in sorted(details)
        if details[key] is not None
    ]


def _readable_value(action: str, key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return _YES if value else _NO
    if not isinstance(value, str):
        return value
    codes = _CODES.get((action, key)) or _CODES.get(("", key))
    if codes is None:
        return value
    # Several codes are stored joined by dots ("safe_house.meeting_point").
    return ", ".join(str(codes.get(part, part)) for part in value.split("."))
