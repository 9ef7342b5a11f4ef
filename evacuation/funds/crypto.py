"""The associated data an entry's payee description and a decision's reason are sealed to the
case key under (casework.sealed seals and opens them).

Each ciphertext is bound to its entry, its case and its field; a reason is also bound to who
decided and what they decided, so flipping a rejection to an approval in the database (or moving
the decision to another coordinator) leaves a reason that no longer opens.
"""

from __future__ import annotations

import sealbox
from casework.models import Case


def payee_ctx(entry_id: bytes, case: Case) -> bytes:
    return sealbox.context("funds.payee", entry_id, case.public_id)


def reason_ctx(entry_id: bytes, case: Case, decided_by_id: int, status: str) -> bytes:
    return sealbox.context("funds.reason", entry_id, case.public_id, decided_by_id, status)
