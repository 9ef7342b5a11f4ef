"""The one way to write to the audit log."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.chain import GENESIS_HASH, entry_hash
from audit.models import Action, AuditEntry, AuditHead

if TYPE_CHECKING:
    from accounts.models import StaffMember
    from casework.models import Case

# Details hold identifiers and codes, never text someone typed: short keys, and values that
# are numbers, booleans or short strings of a safe alphabet (ids, hashes, role codes).
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:-]{0,64}")


class AuditChainBroken(Exception):
    """The head is missing while entries exist: refuse to extend a chain someone cut."""


def audit_record(
    *,
    actor: StaffMember | None,
    action: Action | str,
    case: Case | str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, so the entry and the action commit (or
    roll back) together. Appends are serialised by locking the chain head: on PostgreSQL
    with SELECT ... FOR UPDATE, on SQLite by the IMMEDIATE transaction that holds the write
    lock from its first statement. Call it last in the transaction: the head stays locked
    until commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    action = Action(action)
    details = dict(details or {})
    _check_details(details)
    case_public_id = case if isinstance(case, str) or case is None else case.public_id
    head = _head_locked()
    entry = AuditEntry(
        sequence=head.sequence + 1,
        at=timezone.now(),
        actor=actor,
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
    head.save(update_fields=["sequence", "entry_hash"])
    return entry


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
            AuditHead.objects.create(slot=1, sequence=0, entry_hash=GENESIS_HASH)
        created = True
    except IntegrityError:
        created = False
    if created and AuditEntry.objects.exists():
        raise AuditChainBroken("the audit chain head is missing; run manage.py verify_audit")
    return AuditHead.objects.select_for_update().get(slot=1)
