"""The associated data notes and tasks are sealed under (casework.sealed seals and opens them).

Each ciphertext is bound to its record, its case and its field, so it cannot be moved to
another row, case or column (see sealbox.boxes). A note is also bound to its author: a
database-level attacker cannot make a note appear to come from someone else.
"""

from __future__ import annotations

import sealbox
from casework.models import Case


def note_body_ctx(note_id: bytes, case: Case, author_id: int) -> bytes:
    return sealbox.context("note.body", note_id, case.public_id, author_id)


def task_ctx(field: str, task_id: bytes, case: Case) -> bytes:
    return sealbox.context(f"task.{field}", task_id, case.public_id)
