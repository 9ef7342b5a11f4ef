"""What goes into a packet: gathering the chosen fields of a case (opened with the exporting
coordinator's keys) and checking a received payload's shape before anything is written.

Left out on purpose, whatever is chosen: the contact value itself (phone number, handle), the
cover phrase, staff names, the cover (decoy) conversation and anything the coordinator's keys
cannot open. The person's codename never leaves: it is not stored anywhere.

Payload versions. Version 2 says of every conversation message whether it was written after a
danger-word login (``after_duress``: possibly a captor's words) and whether it is a staff reply
that was held and never sent to the person (``held``). Version 1, made before, says neither;
it is still accepted, and nothing is invented for it: the receiving page says that the
sender's software did not say.

Held replies travel, marked: the organisation taking the case over must know what the person
was never told (a warning or a meeting point the captor was kept from), or it may refer to it
as if the person knew, or stay silent believing it was said.
"""

from __future__ import annotations

from typing import Any

from accounts.models import StaffMember
from casenotes.selectors import case_notes
from casework import keys
from casework.models import Case
from casework.selectors import conversation_for_staff
from casework.services import CaseDetails
from evacuation.checkins.selectors import fate_history
from evacuation.handoff.models import Field
from evacuation.plans.selectors import active_plan, plan_legs

PAYLOAD_VERSION = 2
FIRST_VERSION_WITH_FLAGS = 2
MAX_TEXT = 100_000


class BadPayload(ValueError):
    """The payload is not one this version can read: wrong shape or types, unknown fields."""


class NewerPayload(BadPayload):
    """Made by a newer version whose payload this one does not know."""


def flags_stated(content: dict[str, Any]) -> bool:
    """Whether the sender said which messages came after a danger-word login or were held."""
    return bool(content.get("version", 1) >= FIRST_VERSION_WITH_FLAGS)


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def gather(
    case: Case, member: StaffMember, member_private_key: bytes, opened: dict[int, bytes], fields: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"version": PAYLOAD_VERSION, "fields": list(fields)}
    if Field.DETAILS in fields:
        raw = keys.details_open(case, opened)
        details = CaseDetails.from_json(raw) if raw is not None else None
        out["details"] = {
            "urgency": case.urgency,
            "region": details.region if details else "",
            "help_kinds": list(details.help_kinds) if details else [],
            "language": details.language if details else "",
            "contact_kind": details.contact_kind if details else "",
        }
    if Field.CONVERSATION in fields:
        out["conversation"] = [
            {
                "from": message.sender,
                "at": message.created_at.isoformat(),
                "body": message.body,
                "after_duress": message.after_duress,
                "held": message.held,
            }
            for message in conversation_for_staff(case, member, member_private_key)
            if not message.is_decoy and message.authentic
        ]
    if Field.NOTES in fields:
        notes = [note for note in case_notes(case, opened) if note.body is not None]
        out["notes"] = [{"at": note.created_at.isoformat(), "body": note.body} for note in reversed(notes)]
    if Field.PLAN in fields:
        plan = active_plan(case)
        legs = plan_legs(plan, opened) if plan is not None else []
        out["plan"] = [
            {
                "position": leg.position,
                "mode": leg.mode,
                "status": leg.status,
                "from": leg.content.from_place if leg.content else "",
                "to": leg.content.to_place if leg.content else "",
                "notes": leg.content.notes if leg.content else "",
                "planned_departure": _day(leg.planned_departure),
                "planned_arrival": _day(leg.planned_arrival),
                "actual_departure": _day(leg.actual_departure),
                "actual_arrival": _day(leg.actual_arrival),
                "documents": [{"kind": d.kind, "status": d.status} for d in leg.documents],
            }
            for leg in legs
        ]
    if Field.FATE in fields:
        out["fate"] = [
            {"status": row.status, "at": row.set_at.isoformat(), "information": row.information or ""}
            for row in reversed(fate_history(case, opened))
        ]
    return out


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadPayload
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _records(value: Any, shape: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise BadPayload
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != set(shape):
            raise BadPayload
        out.append({key: check(item[key]) for key, check in shape.items()})
    return out


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadPayload
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadPayload
    return value


def _documents(value: Any) -> list[dict[str, Any]]:
    return _records(value, {"kind": _text, "status": _text})


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise BadPayload
    return [_text(item) for item in value]


_MESSAGE_V1 = {"from": _text, "at": _text, "body": _text}
_MESSAGE = {**_MESSAGE_V1, "after_duress": _bool, "held": _bool}

_SHAPES: dict[str, Any] = {
    Field.CONVERSATION: _MESSAGE,
    Field.NOTES: {"at": _text, "body": _text},
    Field.PLAN: {
        "position": _int,
        "mode": _text,
        "status": _text,
        "from": _text,
        "to": _text,
        "notes": _text,
        "planned_departure": _optional_text,
        "planned_arrival": _optional_text,
        "actual_departure": _optional_text,
        "actual_arrival": _optional_text,
        "documents": _documents,
    },
    Field.FATE: {"status": _text, "at": _text, "information": _text},
}
_DETAILS = {"urgency": _text, "region": _text, "help_kinds": _text_list, "language": _text, "contact_kind": _text}


def _version(payload: dict[str, Any]) -> int:
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadPayload
    if version > PAYLOAD_VERSION:
        raise NewerPayload
    return version


def _field_list(value: Any) -> list[str]:
    # Every element is checked to be a string first: a list or object among them is
    # unhashable, and must be refused, not crash the set below.
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise BadPayload
    if len(set(value)) != len(value) or any(item not in Field.values for item in value):
        raise BadPayload
    return list(value)


def _conversation(value: Any, version: int) -> list[dict[str, Any]]:
    if version < FIRST_VERSION_WITH_FLAGS:
        return _records(value, _MESSAGE_V1)
    messages = _records(value, _MESSAGE)
    # Only a staff reply is ever held; anything else claiming it is not a packet we made.
    if any(message["held"] and message["from"] != "staff" for message in messages):
        raise BadPayload
    return messages


def validate(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with exactly the fields it claims to carry, each of the expected shape.
    Raises BadPayload (NewerPayload for a version newer than this one) and nothing else,
    whatever JSON value it is given."""
    if not isinstance(payload, dict):
        raise BadPayload
    version = _version(payload)
    fields = _field_list(payload.get("fields"))
    if set(payload) != {"version", "fields", "consent", *fields}:
        raise BadPayload
    consent = payload["consent"]
    if not isinstance(consent, dict) or set(consent) != {"how", "date"}:
        raise BadPayload
    out: dict[str, Any] = {
        "version": version,
        "fields": fields,
        "consent": {"how": _text(consent["how"]), "date": _text(consent["date"])},
    }
    for field in fields:
        if field == Field.DETAILS:
            details = payload[field]
            if not isinstance(details, dict) or set(details) != set(_DETAILS):
                raise BadPayload
            out[field] = {key: check(details[key]) for key, check in _DETAILS.items()}
        elif field == Field.CONVERSATION:
            out[field] = _conversation(payload[field], version)
        else:
            out[field] = _records(payload[field], _SHAPES[field])
    return out
