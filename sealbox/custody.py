"""Custody entries: the leaf data of the organisation's custody log.

Every action on an evidence item (received, viewed, a derivative made, exported...) is one
entry appended to one organisation-wide Merkle log (``sealbox.merkle``); the entry names the
item, so the log proves the order of actions across all items. Format (docs/crypto.md,
"Custody entries"):

    entry = context("sp.custody-entry.v1", item id (16 bytes), action (ASCII word),
                    at (ISO 8601 UTC, microseconds), actor (ASCII staff code, may be ""),
                    subject (SHA-256 of the bytes the action concerns, 32 bytes, or ""),
                    salt (16 random bytes))

The salt is there because leaf hashes are stored and published in plaintext (proof bundles,
tree paths): without it, whoever guesses an entry (a known photo's hash, the day, the action)
could confirm the guess from a leaf hash alone. ``parse_entry`` accepts one spelling only, so
one entry has one byte form and one leaf hash.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sealbox import merkle
from sealbox.boxes import context
from sealbox.treehead import CustodyError

CUSTODY_ENTRY_LABEL = "sp.custody-entry.v1"
ITEM_ID_BYTES = 16
SUBJECT_BYTES = 32
SALT_BYTES = 16
MAX_ACTOR_CHARS = 64
ACTIONS = frozenset(
    {
        "received",
        "promoted",
        "viewed",
        "derivative",
        "exported",
        "consent",
        "consent-revoked",
        "hold",
        "hold-released",
        "shredded",
    }
)
# These actions are about particular bytes (the original as it came in, the derivative made):
# without the subject the entry would prove nothing about them.
ACTIONS_WITH_SUBJECT = frozenset({"received", "promoted", "derivative"})
_ACTOR = re.compile(rf"[A-Za-z0-9._-]{{0,{MAX_ACTOR_CHARS}}}")
_FIELD_COUNT = 7  # the label and six fields
_LENGTH_BYTES = 4


class CustodyEntryError(CustodyError):
    """Bytes that are not exactly one custody entry, or fields that cannot make one."""


@dataclass(frozen=True)
class CustodyEntry:
    """One action on one item. ``at`` is kept in UTC; a naive time is refused."""

    item_id: bytes
    action: str
    at: datetime
    actor: str
    subject: bytes
    salt: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_fields(self)
        object.__setattr__(self, "at", self.at.astimezone(UTC))

    def to_bytes(self) -> bytes:
        return context(
            CUSTODY_ENTRY_LABEL, self.item_id, self.action, utc_text(self.at), self.actor, self.subject, self.salt
        )

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.to_bytes())


def new_entry(
    item_id: bytes, action: str, *, actor: str = "", subject: bytes = b"", at: datetime | None = None
) -> CustodyEntry:
    """An entry with a fresh random salt, at ``at`` or now."""
    moment = datetime.now(UTC) if at is None else at
    return CustodyEntry(item_id, action, moment, actor, subject, secrets.token_bytes(SALT_BYTES))


def parse_entry(data: bytes) -> CustodyEntry:
    """The entry ``data`` encodes; CustodyEntryError for anything but its one exact byte form."""
    fields = _split_fields(data)
    label, item_id, action, at, actor, subject, salt = fields
    if label != CUSTODY_ENTRY_LABEL.encode("ascii"):
        raise CustodyEntryError(f"not a {CUSTODY_ENTRY_LABEL} entry")
    return CustodyEntry(
        item_id=item_id,
        action=_ascii(action, "action"),
        at=parse_utc_text(_ascii(at, "time"), CustodyEntryError),
        actor=_ascii(actor, "actor"),
        subject=subject,
        salt=salt,
    )


def utc_text(moment: datetime) -> str:
    """The one spelling of a time in custody formats: ISO 8601, UTC, microseconds, "+00:00"."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_utc_text(value: object, error: type[ValueError]) -> datetime:
    """A time written exactly as ``utc_text`` writes it; ``error`` for any other spelling."""
    if not isinstance(value, str):
        raise error("a time is ISO 8601 text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise error(f"not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None or utc_text(moment) != value:
        raise error(f"a time is written in UTC with microseconds, like 2017-04-01T12:30:05.123456+00:00: {value!r}")
    return moment


def _split_fields(data: bytes) -> list[bytes]:
    if not isinstance(data, bytes):
        raise CustodyEntryError("an entry is bytes")
    fields: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(fields) == _FIELD_COUNT:
            raise CustodyEntryError(f"an entry has exactly {_FIELD_COUNT - 1} fields after its label")
        if offset + _LENGTH_BYTES > len(data):
            raise CustodyEntryError("an entry ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + _LENGTH_BYTES], "big")
        offset += _LENGTH_BYTES
        if offset + length > len(data):
            raise CustodyEntryError("a field of the entry runs past its end")
        fields.append(data[offset : offset + length])
        offset += length
    if len(fields) != _FIELD_COUNT:
        raise CustodyEntryError(f"an entry has exactly {_FIELD_COUNT - 1} fields after its label")
    return fields


def _ascii(raw: bytes, what: str) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise CustodyEntryError(f"an entry's {what} is ASCII") from exc


def _check_fields(entry: CustodyEntry) -> None:
    if not isinstance(entry.item_id, bytes) or len(entry.item_id) != ITEM_ID_BYTES:
        raise CustodyEntryError(f"an item id is {ITEM_ID_BYTES} bytes")
    if entry.action not in ACTIONS:
        raise CustodyEntryError(f"unknown custody action {entry.action!r}; known: {', '.join(sorted(ACTIONS))}")
    at = entry.at
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise CustodyEntryError("an entry's time must be aware")
    if not isinstance(entry.actor, str) or not _ACTOR.fullmatch(entry.actor):
        raise CustodyEntryError(f"an actor is a staff code of up to {MAX_ACTOR_CHARS} letters, digits, '.', '_', '-'")
    if not isinstance(entry.subject, bytes) or len(entry.subject) not in (0, SUBJECT_BYTES):
        raise CustodyEntryError(f"a subject is a {SUBJECT_BYTES}-byte SHA-256 or empty")
    if entry.action in ACTIONS_WITH_SUBJECT and not entry.subject:
        raise CustodyEntryError(f"a {entry.action!r} entry names the SHA-256 of its bytes")
    if not isinstance(entry.salt, bytes) or len(entry.salt) != SALT_BYTES:
        raise CustodyEntryError(f"a salt is {SALT_BYTES} bytes")
