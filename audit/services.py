"""The one way to write to the audit log."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.chain import (
    GENESIS_HASH,
    NotedHead,
    NotedHeadCheck,
    check_noted_head,
    entry_hash,
    head_mac,
    head_mac_holds,
    verify_entries,
)
from audit.models import Action, AuditEntry, AuditHead

# Details hold identifiers and codes, never text someone typed: short keys, and values that
# are numbers, booleans or short strings of a safe alphabet (ids, hashes, role codes).
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:-]{0,64}")

logger = logging.getLogger(__name__)


class Actor(Protocol):
    """Whoever acted: a staff member (accounts.models.StaffMember, an app above this one)."""

    @property
    def pk(self) -> Any: ...


class ActedOn(Protocol):
    """The case acted on (casework.models.Case, an app above this one): only its public id is kept."""

    @property
    def public_id(self) -> str: ...


def audit_record(
    *,
    actor: Actor | None,
    action: Action | str,
    case: ActedOn | str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, so the entry and the action commit (or
    roll back) together. Appends are serialised by locking the chain head: on PostgreSQL
    with SELECT ... FOR UPDATE, on SQLite by the IMMEDIATE transaction that holds the write
    lock from its first statement. Call it last in the transaction: the head stays locked
    until commit.

    The new head gets its MAC only if the old one held. A head that did not (written or
    deleted outside the application, perhaps to hide entries cut off the end) is extended
    without a MAC: work goes on, and verify_audit keeps saying so until an operator looked
    into it and ran manage.py reseal_audit_head."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    action = Action(action)
    details = dict(details or {})
    _check_details(details)
    case_public_id = case if isinstance(case, str) or case is None else case.public_id
    head = _head_locked()
    holds = head_mac_holds(sequence=head.sequence, entry_hash=head.entry_hash, mac=head.mac)
    sequence = _next_free_sequence(head.sequence)
    # An entry already past the head was written outside the application (a planted row, or an
    # older head put back): append at the first free number after the head rather than fail, so
    # one row cannot stop every audited action, and leave the head unsealed so the alarm stays
    # (verify_audit names it).
    if sequence != head.sequence + 1:
        holds = False
    if not holds:
        logger.warning("audit head does not hold its MAC; entry %s appended, head left unsealed", sequence)
    entry = AuditEntry(
        sequence=sequence,
        at=timezone.now(),
        actor_id=actor.pk if actor is not None else None,
        action=action.value,
        case_public_id=case_public_id,
        details=details,
        previous_hash=head.entry_hash,
    )
    entry.entry_hash = entry_hash(
        sequence=entry.sequence,
        at=entry.at,
        actor_id=actor.pk if actor is not None else None,
        action=entry.action,
        case_public_id=case_public_id,
        details=details,
        previous_hash=entry.previous_hash,
    )
    entry.save(force_insert=True)
    head.sequence = entry.sequence
    head.entry_hash = entry.entry_hash
    head.mac = head_mac(sequence=entry.sequence, entry_hash=entry.entry_hash) if holds else ""
    head.save(update_fields=["sequence", "entry_hash", "mac"])
    return entry


def _next_free_sequence(head_sequence: int) -> int:
    """The first number after the head that no entry has. Normally head + 1; planted entries
    past the head (even one at the largest number the column holds) are stepped over, not
    counted from."""
    candidate = head_sequence + 1
    taken = AuditEntry.objects.filter(sequence__gte=candidate).order_by("sequence").values_list("sequence", flat=True)
    for sequence in taken.iterator(chunk_size=1000):
        if sequence != candidate:
            break
        candidate += 1
    return candidate


def _check_details(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if not (isinstance(key, str) and _SAFE_VALUE.fullmatch(key)):
            raise ValueError(f"audit detail key {key!r} is not a short code")
        if value is None or isinstance(value, bool | int):
            continue
        if not (isinstance(value, str) and _SAFE_VALUE.fullmatch(value)):
            raise ValueError(f"audit detail {key!r} must be an id or a code, not free text")


def _head_locked() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(slot=1).first()
    if head is not None:
        return head
    try:
        # A savepoint, so losing the race to another first writer (unique slot) does not
        # spoil the caller's transaction; the loser then waits for and locks the winner's row.
        with transaction.atomic():
            AuditHead.objects.create(**_first_head())
    except IntegrityError:
        pass
    return AuditHead.objects.select_for_update().get(slot=1)


def _first_head() -> dict[str, Any]:
    """The head of an empty log is sealed. A head missing while entries exist was deleted
    outside the application: it is rebuilt on the last entry without a MAC, so the chain goes
    on and the deletion stays visible."""
    last = AuditEntry.objects.order_by("-sequence").values_list("sequence", "entry_hash").first()
    if last is None:
        return {
            "slot": 1,
            "sequence": 0,
            "entry_hash": GENESIS_HASH,
            "mac": head_mac(sequence=0, entry_hash=GENESIS_HASH),
        }
    logger.warning("audit head missing while entries exist; rebuilt on entry %s without a MAC", last[0])
    return {"slot": 1, "sequence": last[0], "entry_hash": last[1], "mac": ""}


def audit_noted_head_check(*, actor: Actor, noted: NotedHead, max_span: int) -> tuple[NotedHeadCheck, AuditEntry]:
    """A coordinator typed in a head they wrote down off the server: check it and record that
    they did (the number where it was found and the result, never what was typed)."""
    # Checked before the transaction: on SQLite it would hold the write lock while hashing.
    check = check_noted_head(noted, max_span=max_span)
    with transaction.atomic():
        details = {"sequence": check.sequence, "result": check.result}
        entry = audit_record(actor=actor, action=Action.AUDIT_HEAD_CHECK, details=details)
    return check, entry


class ResealRefused(Exception):
    pass


def audit_head_reseal() -> AuditEntry | None:
    """Give the head a MAC again after it failed (an operator's act on the server, after the
    coordinators compared the heads they wrote down). Only over entries that all verify; the
    reseal is itself an entry, so it hides nothing from anyone reading the log. None when the
    head already holds and names the last entry."""
    with transaction.atomic():
        head = _head_locked()
        verdict = verify_entries()
        if not verdict.intact:
            raise ResealRefused(f"audit chain broken at sequence {verdict.first_bad}: {verdict.reason}")
        last = AuditEntry.objects.order_by("-sequence").values_list("entry_hash", flat=True).first() or GENESIS_HASH
        names_last = (head.sequence, head.entry_hash) == (verdict.checked, last)
        if names_last and head_mac_holds(sequence=head.sequence, entry_hash=head.entry_hash, mac=head.mac):
            return None
        details = {"head": head.sequence, "last": verdict.checked}
        head.sequence, head.entry_hash = verdict.checked, last
        head.mac = head_mac(sequence=head.sequence, entry_hash=last)
        head.save(update_fields=["sequence", "entry_hash", "mac"])
        return audit_record(actor=None, action=Action.AUDIT_HEAD_RESEAL, details=details)
