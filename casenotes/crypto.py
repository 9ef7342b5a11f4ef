"""Sealing notes and tasks to the case key, and opening them with a member's case keys.

Each ciphertext is bound to its record, its case and its field, so it cannot be moved to
another row, case or column (see sealbox.boxes). A note is also bound to its author: a
database-level attacker cannot make a note appear to come from someone else.
"""

from __future__ import annotations

import sealbox
from casework import keys
from casework.models import Case, CaseKey


def note_body_ctx(note_id: bytes, case: Case, author_id: int) -> bytes:
    return sealbox.context("note.body", note_id, case.public_id, author_id)


def task_ctx(field: str, task_id: bytes, case: Case) -> bytes:
    return sealbox.context(f"task.{field}", task_id, case.public_id)


def seal_text(case_key: CaseKey, text: str, *, ctx: bytes) -> bytes:
    return sealbox.seal(keys.sealable_public_key(case_key), text.encode(), ctx=ctx)


def open_text(opened: dict[int, bytes], case_key_id: int, ciphertext: bytes, *, ctx: bytes) -> str | None:
    """The plaintext, or None when ``opened`` (case private keys by CaseKey id, from
    casework.keys.case_private_keys) lacks the version it is sealed to."""
    private = opened.get(case_key_id)
    if private is None:
        return None
    return sealbox.unseal(private, bytes(ciphertext), ctx=ctx).decode()
