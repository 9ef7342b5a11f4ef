"""Hashing and verifying the audit chain.

entry_hash = BLAKE2b-256, keyed with a key derived from the instance secret SP_PEPPER (kept
outside the database), over a length-prefixed encoding of (sequence, time, actor id, action,
case id, canonical JSON details, previous_hash). Keyed, so someone holding only the database
(a dump, a backup, a database login) cannot recompute a valid chain after changing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

GENESIS_HASH = "0" * 64


def _audit_key() -> bytes:
    return hashlib.blake2b(settings.SP_PEPPER, digest_size=32, person=b"sp.audit-key.v1").digest()


def canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit times must be aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _field(value: str | None) -> bytes:
    # A tag byte tells None from "", a length prefix keeps field boundaries unambiguous.
    if value is None:
        return b"\x00"
    raw = value.encode()
    return b"\x01" + len(raw).to_bytes(8, "big") + raw


def entry_hash(
    *,
    sequence: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    case_public_id: str | None,
    details: dict[str, Any],
    previous_hash: str,
) -> str:
    fields = (
        str(sequence),
        canonical_time(at),
        None if actor_id is None else str(actor_id),
        action,
        case_public_id,
        canonical_details(details),
        previous_hash,
    )
    digest = hashlib.blake2b(key=_audit_key(), digest_size=32, person=b"sp.audit.v1")
    for value in fields:
        digest.update(_field(value))
    return digest.hexdigest()


def handle_hash(handle: str) -> str:
    """A keyed hash of a login handle someone typed: staff may type a password into the
    handle field, so the typed text itself is never stored."""
    key = _audit_key()
    return hmac.new(key, b"handle\x00" + handle.strip().casefold().encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Verdict:
    intact: bool
    checked: int  # entries checked
    first_bad: int | None = None  # the first sequence number that does not verify
    reason: str = ""


# (sequence, at, actor_id, action, case_public_id, details, previous_hash, entry_hash)
Row = tuple[int, datetime, int | None, str, str | None, dict[str, Any], str, str]
ROW_FIELDS = ("sequence", "at", "actor_id", "action", "case_public_id", "details", "previous_hash", "entry_hash")


def verify_rows(rows: Iterable[Row], *, start: int = 1, previous: str = GENESIS_HASH) -> Verdict:
    """Check rows given in sequence order, the first of which should be number ``start``
    and follow an entry whose hash is ``previous``."""
    expected = start
    checked = 0
    for sequence, at, actor_id, action, case_id, details, previous_hash, stored_hash in rows:
        if sequence != expected:
            reason = f"entry {expected} is missing or out of order (found {sequence})"
            return Verdict(False, checked, expected, reason)
        if previous_hash != previous:
            return Verdict(False, checked, sequence, f"entry {sequence} does not follow entry {sequence - 1}")
        computed = entry_hash(
            sequence=sequence,
            at=at,
            actor_id=actor_id,
            action=action,
            case_public_id=case_id,
            details=details,
            previous_hash=previous_hash,
        )
        if not hmac.compare_digest(computed, stored_hash):
            return Verdict(False, checked, sequence, f"entry {sequence} was changed")
        previous = stored_hash
        expected += 1
        checked += 1
    return Verdict(True, checked)


def verify_chain() -> Verdict:
    """The whole chain, then the head: an intact chain that ends early was truncated."""
    from audit.models import AuditEntry

    rows = AuditEntry.objects.order_by("sequence").values_list(*ROW_FIELDS).iterator(chunk_size=2000)
    verdict = verify_rows(rows)
    if not verdict.intact:
        return verdict
    return _check_head(verdict, last_hash=_last_hash())


def _last_hash() -> str:
    from audit.models import AuditEntry

    last = AuditEntry.objects.order_by("-sequence").values_list("entry_hash", flat=True).first()
    return last or GENESIS_HASH


def _check_head(verdict: Verdict, *, last_hash: str) -> Verdict:
    from audit.models import AuditHead

    head = AuditHead.objects.filter(slot=1).values_list("sequence", "entry_hash").first()
    count = verdict.checked
    if head is None:
        if count == 0:
            return verdict
        return Verdict(False, count, count, "the chain head is missing")
    head_sequence, head_hash = head
    if head_sequence > count:
        return Verdict(False, count, count + 1, f"entries {count + 1} to {head_sequence} are missing")
    if head_sequence != count or head_hash != last_hash:
        return Verdict(False, count, head_sequence + 1, "the chain head does not name the last entry")
    return verdict


def verify_range(first: int, last: int) -> Verdict:
    """Entries ``first`` to ``last`` only (the console checks the page it shows), anchored
    on the entry before ``first``; the head is checked when no entry follows the range, so
    the newest page also shows when entries were cut off the end."""
    from audit.models import AuditEntry

    previous = GENESIS_HASH
    if first > 1:
        anchor = AuditEntry.objects.filter(sequence=first - 1).values_list("entry_hash", flat=True).first()
        if anchor is None:
            return Verdict(False, 0, first - 1, f"entry {first - 1} is missing")
        previous = anchor
    rows = AuditEntry.objects.filter(sequence__gte=first, sequence__lte=last).order_by("sequence")
    listed = list(rows.values_list(*ROW_FIELDS))
    verdict = verify_rows(listed, start=first, previous=previous)
    if not verdict.intact:
        return verdict
    if verdict.checked != last - first + 1:
        return Verdict(False, verdict.checked, first + verdict.checked, f"entry {first + verdict.checked} is missing")
    if not AuditEntry.objects.filter(sequence__gt=last).exists():
        ended = _check_head(Verdict(True, last), last_hash=listed[-1][7] if listed else previous)
        if not ended.intact:
            return Verdict(False, verdict.checked, ended.first_bad, ended.reason)
    return verdict
