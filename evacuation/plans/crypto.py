"""Sealing a leg's content to the case key, and opening it with a member's case keys.

The content is everything about the leg that only key holders need: its places, notes and
destination, how it travels (mode) and its planned and actual dates. It is sealed as one JSON
document bound to the leg, its plan and its case, so it cannot be moved to another leg, plan or
case (see sealbox.boxes); casework.sealed seals and opens it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date

import sealbox
from casework.models import Case, CaseKey
from casework.sealed import open_bytes, seal_bytes

_DATES = ("planned_departure", "planned_arrival", "actual_departure", "actual_arrival")


@dataclass(frozen=True)
class LegContent:
    from_place: str
    to_place: str
    notes: str
    destination_id: int | None
    mode: str
    planned_departure: date | None
    planned_arrival: date | None
    actual_departure: date | None
    actual_arrival: date | None


def leg_ctx(leg_id: uuid.UUID, plan_id: uuid.UUID, case: Case) -> bytes:
    return sealbox.context("evac.leg", leg_id.bytes, plan_id.bytes, case.public_id)


def seal_leg(case_key: CaseKey, content: LegContent, *, ctx: bytes) -> bytes:
    fields = asdict(content)
    for name in _DATES:
        fields[name] = fields[name].isoformat() if fields[name] else None
    data = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
    return seal_bytes(case_key, data, ctx=ctx)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def open_leg(opened: dict[int, bytes], case_key_id: int, ciphertext: bytes, *, ctx: bytes) -> LegContent | None:
    """The content, or None when ``opened`` (case private keys by CaseKey id) lacks the version
    it is sealed to; casework.sealed.RecordDoesNotOpen when it holds it and the leg does not open."""
    raw = open_bytes(opened, case_key_id, ciphertext, ctx=ctx)
    if raw is None:
        return None
    data = json.loads(raw)
    return LegContent(
        from_place=data["from_place"],
        to_place=data["to_place"],
        notes=data["notes"],
        destination_id=data["destination_id"],
        mode=data["mode"],
        **{name: _day(data[name]) for name in _DATES},
    )
