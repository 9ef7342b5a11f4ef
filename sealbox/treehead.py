"""Signed tree heads: the organisation's signed statement of a custody log's size and root.

An evidence item's custody log is an append-only Merkle log (``sealbox.merkle``). Its head,
the number of entries and the root over them, is signed with the organisation's Ed25519 log key
at a moment, so an exported item can later be shown to be the ``index``-th entry of a log the
organisation vouched for, and two heads of the same log can be shown to be consistent.

Format (docs/crypto.md, "Custody log: signed tree heads and timestamps"):

    statement = context("sp.tree-head.v1", log id (UTF-8), tree size (decimal),
                        root hash (32 bytes), timestamp (ISO 8601 UTC, microseconds))
    signature = Ed25519(log key, statement)                                          64 bytes

The JSON form carries the same fields: ``root_hash`` as lowercase hex, ``signature`` as
base64, ``timestamp`` exactly as it is written in the statement. Parsing refuses any other
spelling, so one head has one JSON form.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sealbox.boxes import context
from sealbox.merkle import HASH_BYTES
from sealbox.signing import SIGNATURE_BYTES, sign, signature_valid

TREE_HEAD_LABEL = "sp.tree-head.v1"
MAX_LOG_ID_CHARS = 200
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_JSON_KEYS = frozenset({"format", "log_id", "tree_size", "root_hash", "timestamp", "signature"})


class CustodyError(ValueError):
    """Something about a custody log's proofs does not hold."""


class TreeHeadError(CustodyError):
    """A tree head that is malformed, or whose signature does not hold under the given key."""


@dataclass(frozen=True)
class SignedTreeHead:
    """One signed head. ``timestamp`` is kept in UTC; a naive time is refused."""

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp: datetime
    signature: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_fields(self.log_id, self.tree_size, self.root_hash, self.timestamp)
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_BYTES:
            raise TreeHeadError("a tree head signature is 64 bytes")
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(UTC))

    @property
    def statement(self) -> bytes:
        return tree_head_statement(self.log_id, self.tree_size, self.root_hash, self.timestamp)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TREE_HEAD_LABEL,
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": _utc_text(self.timestamp),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedTreeHead:
        """The head in ``data`` (parsed JSON); TreeHeadError for anything but the exact form."""
        if not isinstance(data, Mapping) or set(data) != _JSON_KEYS or data["format"] != TREE_HEAD_LABEL:
            raise TreeHeadError(f"a tree head has exactly the fields {sorted(_JSON_KEYS)}")
        return cls(
            log_id=data["log_id"],
            tree_size=data["tree_size"],
            root_hash=parse_hex_hash(data["root_hash"], TreeHeadError),
            timestamp=_parse_utc_text(data["timestamp"]),
            signature=parse_base64(data["signature"], TreeHeadError),
        )


def tree_head_statement(log_id: str, tree_size: int, root_hash: bytes, timestamp: datetime) -> bytes:
    """The bytes the log key signs (and an RFC 3161 timestamp's imprint hashes)."""
    _check_fields(log_id, tree_size, root_hash, timestamp)
    return context(TREE_HEAD_LABEL, log_id, tree_size, root_hash, _utc_text(timestamp))


def sign_tree_head(
    seed: bytes, *, log_id: str, tree_size: int, root_hash: bytes, timestamp: datetime
) -> SignedTreeHead:
    """Sign the head with the log key's 32-byte seed."""
    signature = sign(seed, tree_head_statement(log_id, tree_size, root_hash, timestamp))
    return SignedTreeHead(log_id, tree_size, root_hash, timestamp, signature)


def verify_tree_head(head: SignedTreeHead, public_key: bytes) -> None:
    """Raises TreeHeadError unless ``public_key`` signed exactly this head."""
    if not signature_valid(public_key, head.statement, head.signature):
        raise TreeHeadError("the tree head's signature does not hold under this log key")


def parse_hex_hash(value: object, error: type[CustodyError]) -> bytes:
    if not isinstance(value, str) or not _HEX_HASH.fullmatch(value):
        raise error("a hash is 64 lowercase hex digits")
    return bytes.fromhex(value)


def parse_base64(value: object, error: type[CustodyError]) -> bytes:
    """Standard base64 with padding, nothing else: one value, one spelling."""
    if not isinstance(value, str):
        raise error("expected base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error("not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != value:
        raise error("not canonical base64")
    return raw


def _check_fields(log_id: object, tree_size: object, root_hash: object, timestamp: object) -> None:
    if not isinstance(log_id, str) or not 0 < len(log_id) <= MAX_LOG_ID_CHARS:
        raise TreeHeadError(f"a log id is 1 to {MAX_LOG_ID_CHARS} characters")
    # bool is an int to Python; a head of size True is a bug, not a size.
    if not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0:
        raise TreeHeadError("a tree size is a whole number of entries")
    if not isinstance(root_hash, bytes) or len(root_hash) != HASH_BYTES:
        raise TreeHeadError("a root hash is 32 bytes")
    if not isinstance(timestamp, datetime) or timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise TreeHeadError("a tree head's time must be aware")


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_utc_text(value: object) -> datetime:
    if not isinstance(value, str):
        raise TreeHeadError("a tree head's time is ISO 8601 text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TreeHeadError("a tree head's time is ISO 8601 text") from exc
    if moment.tzinfo is None or _utc_text(moment) != value:
        raise TreeHeadError("a tree head's time is written in UTC with microseconds")
    return moment
