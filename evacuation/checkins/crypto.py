"""Sealing what this app keeps secret.

"On what information" a fate status was set is case content: sealed to the case key, bound
to the entry, its case and its author (casework.sealed seals and opens it under the context
below). The partner contact's address is sealed under the
notification key (the worker must read it with nobody logged in), bound to its schedule, and
so is the reference agreed with the partner (what the partner's notice carries instead of a
case id or a console link).
"""

from __future__ import annotations

import sealbox
from casework.models import Case
from notifications.addresses import notification_key


def fate_information_ctx(entry_id: bytes, case: Case, set_by_id: int) -> bytes:
    return sealbox.context("fate.information", entry_id, case.public_id, set_by_id)


def _partner_ctx(schedule_id: int, case: Case) -> bytes:
    return sealbox.context("checkin.partner", schedule_id, case.public_id)


def partner_address_seal(schedule_id: int, case: Case, address: str) -> bytes:
    if not address:
        return b""
    return sealbox.encrypt(notification_key(), address.encode(), ctx=_partner_ctx(schedule_id, case))


def partner_address_open(schedule_id: int, case: Case, ciphertext: bytes) -> str:
    if not ciphertext:
        return ""
    return sealbox.decrypt(notification_key(), bytes(ciphertext), ctx=_partner_ctx(schedule_id, case)).decode()


def _partner_reference_ctx(schedule_id: int, case: Case) -> bytes:
    return sealbox.context("checkin.partner_reference", schedule_id, case.public_id)


def partner_reference_seal(schedule_id: int, case: Case, reference: str) -> bytes:
    if not reference:
        return b""
    return sealbox.encrypt(notification_key(), reference.encode(), ctx=_partner_reference_ctx(schedule_id, case))


def partner_reference_open(schedule_id: int, case: Case, ciphertext: bytes) -> str:
    if not ciphertext:
        return ""
    ctx = _partner_reference_ctx(schedule_id, case)
    return sealbox.decrypt(notification_key(), bytes(ciphertext), ctx=ctx).decode()
