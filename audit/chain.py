"""Hashing and verifying the audit chain.

entry_hash = BLAKE2b-256, keyed with a key derived from the instance secret SP_PEPPER (kept
outside the database), over a length-prefixed encoding of (sequence, time, actor id, action,
case id, canonical JSON details, previous_hash). Keyed, so someone holding only the database
(a dump, a backup, a database login) cannot recompute a valid chain after changing it.

The head row carries a MAC under the same key with its own personalisation, over the last
sequence number and hash: cutting entries off the end and making the head name the new last
one needs that key too. A head copied from an earlier dump still holds; only a head written
down off the server catches that (``NotedHead``, ``verify_audit --expect-head``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

GENESIS_HASH = "0" * 64
HEAD_PERSON = b"sp.audit-head.v1"
# The shortest prefix of a noted hash that is accepted: 128 bits. Making some entry's keyed
# hash start with a given prefix is a brute-force search even for someone holding the key.
MIN_NOTED_HEX = 32


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


def head_mac(*, sequence: int, entry_hash: str) -> str:
    """The head row's MAC: only the application (holding the pepper) can write a head."""
    digest = hashlib.blake2b(key=_audit_key(), digest_size=32, person=HEAD_PERSON)
    digest.update(_field(str(sequence)))
    digest.update(_field(entry_hash))
    return digest.hexdigest()


def head_mac_holds(*, sequence: int, entry_hash: str, mac: str) -> bool:
    return _same(head_mac(sequence=sequence, entry_hash=entry_hash), mac)


def _same(computed: str, stored: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII text, and a database writer chooses it.
    return hmac.compare_digest(computed.encode(), stored.encode())


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
        if not _same(computed, stored_hash):
            return Verdict(False, checked, sequence, f"entry {sequence} was changed")
        previous = stored_hash
        expected += 1
        checked += 1
    return Verdict(True, checked)


def verify_entries() -> Verdict:
    """Every entry in sequence order, without the head."""
    from audit.models import AuditEntry

    rows = AuditEntry.objects.order_by("sequence").values_list(*ROW_FIELDS).iterator(chunk_size=2000)
    try:
        return verify_rows(rows)
    finally:
        # On PostgreSQL a server-side cursor: closed now, not whenever the generator is
        # collected (perhaps after the caller's savepoint was rolled back).
        rows.close()  # type: ignore[attr-defined]  # iterator() returns a generator; the stubs say Iterator


def verify_chain() -> Verdict:
    """The whole chain, then the head: an intact chain that ends early was truncated."""
    verdict = verify_entries()
    if not verdict.intact:
        return verdict
    return _check_head(verdict, last_hash=_last_hash())


def _last_hash() -> str:
    from audit.models import AuditEntry

    last = AuditEntry.objects.order_by("-sequence").values_list("entry_hash", flat=True).first()
    return last or GENESIS_HASH


def _check_head(verdict: Verdict, *, last_hash: str) -> Verdict:
    from audit.models import AuditHead

    head = AuditHead.objects.filter(slot=1).values_list("sequence", "entry_hash", "mac").first()
    count = verdict.checked
    if head is None:
        if count == 0:
            return verdict
        return Verdict(False, count, count, "the chain head is missing")
    head_sequence, head_hash, mac = head
    if not head_mac_holds(sequence=head_sequence, entry_hash=head_hash, mac=mac):
        reason = (
            "the chain head's MAC does not hold: the head was written outside the application, "
            f"so entries after entry {head_sequence} may have been removed"
        )
        return Verdict(False, count, head_sequence + 1, reason)
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


@dataclass(frozen=True)
class HeadState:
    sequence: int
    entry_hash: str
    holds: bool  # its MAC holds: the application wrote it


def head_state() -> HeadState | None:
    from audit.models import AuditHead

    row = AuditHead.objects.filter(slot=1).values_list("sequence", "entry_hash", "mac").first()
    if row is None:
        return None
    sequence, last_hash, mac = row
    return HeadState(sequence, last_hash, head_mac_holds(sequence=sequence, entry_hash=last_hash, mac=mac))


# --- heads written down off the server ------------------------------------------------------


class NotedHeadInvalid(ValueError):
    """Not something a head could have been written down as. ``code`` names the reason for the
    console's translated message; the text says it plainly for the command line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NotedHead:
    """A head someone wrote down: the entry number if they noted it, and the hash (or at least
    its first MIN_NOTED_HEX digits) in lower case."""

    sequence: int | None
    hash_prefix: str


# Spaces and dashes between groups, as people copy or write them (word processors turn "-"
# into en and em dashes, some pages into no-break spaces).
_GROUP_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
_HEX = re.compile(r"[0-9a-f]+")
_MAX_NOTED_CHARS = 200
_MAX_SEQUENCE_DIGITS = 18  # below the largest value of the sequence column


def parse_noted_head(text: str) -> NotedHead:
    """``HASH`` or ``SEQ:HASH``; raises NotedHeadInvalid."""
    if len(text) > _MAX_NOTED_CHARS:
        raise NotedHeadInvalid("format", "this is longer than any head")
    number, colon, rest = text.partition(":")
    sequence = None
    if colon:
        sequence = _noted_sequence(number.strip())
    else:
        rest = number
    compact = _GROUP_SEPARATORS.sub("", rest).lower()
    if not compact:
        raise NotedHeadInvalid("empty", "no hash was given")
    if not _HEX.fullmatch(compact):
        raise NotedHeadInvalid(
            "format", "the hash must be hexadecimal digits (0-9, a-f), after the entry number and a colon: SEQ:HASH"
        )
    if len(compact) > len(GENESIS_HASH):
        raise NotedHeadInvalid("long", "the hash has more than 64 hexadecimal digits")
    if len(compact) < MIN_NOTED_HEX:
        raise NotedHeadInvalid(
            "short",
            f"give at least the first {MIN_NOTED_HEX} hexadecimal digits of the hash: "
            "a shorter part could be matched by a forged entry",
        )
    return NotedHead(sequence, compact)


def _noted_sequence(digits: str) -> int:
    if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_SEQUENCE_DIGITS):
        raise NotedHeadInvalid("number", "the entry number before the colon must be digits")
    if int(digits) < 1:
        raise NotedHeadInvalid("number", "entry numbers start at 1")
    return int(digits)


def noted_head_text(sequence: int, value: str) -> str:
    """How a head is shown for writing down: the number, then the hash in 16 groups of 4."""
    return f"{sequence}: " + " ".join(value[i : i + 4] for i in range(0, len(value), 4))


@dataclass(frozen=True)
class NotedHeadFinding:
    sequence: int | None  # where the noted hash is in the chain; None when it is missing
    reason: str = ""  # why it is missing


def find_noted_head(noted: NotedHead) -> NotedHeadFinding:
    """Where the noted head is in the chain as stored (no hash is recomputed here)."""
    from audit.models import AuditEntry

    prefix = noted.hash_prefix
    if noted.sequence is not None:
        number = noted.sequence
        stored = AuditEntry.objects.filter(sequence=number).values_list("entry_hash", flat=True).first()
        if stored is None:
            reason = f"entry {number} is not in the chain, so entries were removed since the head was noted"
            return NotedHeadFinding(None, reason)
        if not _same(stored[: len(prefix)], prefix):
            reason = (
                f"entry {number} now has another hash, so the chain was rewritten at or before entry "
                f"{number} since the head was noted"
            )
            return NotedHeadFinding(None, reason)
        return NotedHeadFinding(number)
    # The whole hash is found through the unique index; a prefix by a scan, which only this
    # occasional check does.
    lookup = {"entry_hash": prefix} if len(prefix) == len(GENESIS_HASH) else {"entry_hash__startswith": prefix}
    found = AuditEntry.objects.filter(**lookup).order_by("sequence").values_list("sequence", flat=True).first()
    if found is None:
        return NotedHeadFinding(
            None, "no entry has the recorded hash, so entries were removed or rewritten since the head was noted"
        )
    return NotedHeadFinding(found)


@dataclass(frozen=True)
class NotedHeadCheck:
    """What the console tells a coordinator who typed in a head they wrote down."""

    result: str  # found, missing, broken, head_broken or unchecked
    sequence: int | None = None  # where the noted head is
    later: int = 0  # entries after it up to the head
    first_bad: int | None = None


def check_noted_head(noted: NotedHead, *, max_span: int) -> NotedHeadCheck:
    """Is the noted head still in the chain, and do the entries from it to the current head
    verify? Spans longer than ``max_span`` are left to ``verify_audit --expect-head``."""
    finding = find_noted_head(noted)
    if finding.sequence is None:
        return NotedHeadCheck("missing")
    sequence = finding.sequence
    head = head_state()
    if head is None or not head.holds:
        return NotedHeadCheck("head_broken", sequence)
    if head.sequence < sequence:
        return NotedHeadCheck("broken", sequence, first_bad=head.sequence + 1)
    later = head.sequence - sequence
    if later > max_span:
        return NotedHeadCheck("unchecked", sequence, later)
    verdict = verify_range(sequence, head.sequence)
    if not verdict.intact:
        return NotedHeadCheck("broken", sequence, later, verdict.first_bad)
    return NotedHeadCheck("found", sequence, later)
