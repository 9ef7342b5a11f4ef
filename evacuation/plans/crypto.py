"""Sealing a leg's places and notes to the case key, and opening them with a member's case keys.

The ciphertext is bound to the leg, its plan and its case, so it cannot be moved to another
leg, plan or case (see sealbox.boxes).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass

import sealbox
from casework.models import Case, CaseKey


@dataclass(frozen=True)
class LegContent:
    from_place: str
    to_place: str
    notes: str
    destination_id: int | None


def leg_ctx(leg_id: uuid.UUID, plan_id: uuid.UUID, case: Case) -> bytes:
    return sealbox.context("evac.leg", leg_id.bytes, plan_id.bytes, case.public_id)


def seal_leg(case_key: CaseKey, content: LegContent, *, ctx: bytes) -> bytes:
    data = json.dumps(asdict(content), ensure_ascii=False, sort_keys=True).encode()
    return sealbox.seal(bytes(case_key.public_key), data, ctx=ctx)


def open_leg(opened: dict[int, bytes], case_key_id: int, ciphertext: bytes, *, ctx: bytes) -> LegContent | None:
    """The content, or None when ``opened`` (case private keys by CaseKey id) lacks the version
    it is sealed to."""
    private = opened.get(case_key_id)
    if private is None:
        return None
    data = json.loads(sealbox.unseal(private, bytes(ciphertext), ctx=ctx))
    return LegContent(data["from_place"], data["to_place"], data["notes"], data["destination_id"])
