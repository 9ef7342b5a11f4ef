"""Sealing an entry's payee description and a decision's reason to the case key.

Each ciphertext is bound to its entry, its case and its field; a reason is also bound to who
decided and what they decided, so flipping a rejection to an approval in the database (or moving
the decision to another coordinator) leaves a reason that no longer opens.
"""

from __future__ import annotations

import sealbox
from casework import keys
from casework.models import Case, CaseKey


def payee_ctx(entry_id: bytes, case: Case) -> bytes:
    return sealbox.context("funds.payee", entry_id, case.public_id)


def reason_ctx(entry_id: bytes, case: Case, decided_by_id: int, status: str) -> bytes:
    return sealbox.context("funds.reason", entry_id, case.public_id, decided_by_id, status)


def seal_text(case_key: CaseKey, text: str, *, ctx: bytes) -> bytes:
    return sealbox.seal(keys.sealable_public_key(case_key), text.encode(), ctx=ctx)


def open_text(opened: dict[int, bytes], case_key_id: int | None, ciphertext: bytes, *, ctx: bytes) -> str | None:
    """The plaintext, or None when ``opened`` lacks the key version it is sealed to."""
    private = opened.get(case_key_id) if case_key_id is not None else None
    if private is None:
        return None
    try:
        return sealbox.unseal(private, bytes(ciphertext), ctx=ctx).decode()
    except sealbox.CryptoError:
        return None
