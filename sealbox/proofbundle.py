"""Proof bundles: what goes with one exported custody entry so anyone can check it offline.

A bundle carries the entry (its bytes, or only its leaf hash when the bytes stay behind), its
index in the log, the inclusion proof, the signed tree head the proof leads to and, optionally,
an RFC 3161 token over that head's statement. ``verify_bundle`` needs nothing else than the
bundle, the organisation's log public key and, for a timestamped bundle, the TSA certificate
to trust (docs/crypto.md, "Custody log: signed tree heads and timestamps"):

    {"format": "sp.custody-proof.v1",
     "leaf_data": base64  |  "leaf_hash": 64 hex digits,
     "leaf_index": n, "inclusion_proof": [64 hex digits, ...],
     "tree_head": {signed tree head, sealbox.treehead},
     "timestamp_token": base64 DER (optional)}

The tree size is carried once, inside the signed head, so it cannot disagree with itself.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sealbox import merkle
from sealbox.timestamp import TimestampError, verify_token
from sealbox.treehead import (
    CustodyError,
    SignedTreeHead,
    TreeHeadError,
    parse_base64,
    parse_hex_hash,
    verify_tree_head,
)

BUNDLE_FORMAT = "sp.custody-proof.v1"
_REQUIRED = frozenset({"format", "leaf_index", "inclusion_proof", "tree_head"})
_OPTIONAL = frozenset({"timestamp_token"})
_FIELDS = "a bundle has format, leaf_data or leaf_hash, leaf_index, inclusion_proof, tree_head, timestamp_token?"


class BundleError(CustodyError):
    """A proof bundle that is malformed or does not hold; the message says which part failed."""


@dataclass(frozen=True)
class VerifiedEntry:
    """What a bundle that holds proves: this leaf is entry ``index`` of the signed head's log,
    and, when timestamped, the head existed no later than ``timestamped_at`` (the TSA's time)."""

    leaf_hash: bytes
    index: int
    tree_head: SignedTreeHead
    timestamped_at: datetime | None


def make_bundle(
    leaf_hashes: Sequence[bytes],
    index: int,
    head: SignedTreeHead,
    *,
    leaf_data: bytes | None = None,
    timestamp_token: bytes | None = None,
) -> dict[str, Any]:
    """The bundle for entry ``index`` of the log whose leaf hashes are given, under ``head``.
    Refuses a head that is not the root of the log's first ``head.tree_size`` entries."""
    size = head.tree_size
    proof = merkle.inclusion_proof(leaf_hashes, index, size)
    if merkle.root(leaf_hashes[:size]) != head.root_hash:
        raise BundleError("the tree head is not this log's root at its size")
    bundle: dict[str, Any] = {"format": BUNDLE_FORMAT, **_leaf_field(leaf_hashes[index], leaf_data)}
    bundle |= {"leaf_index": index, "inclusion_proof": [p.hex() for p in proof], "tree_head": head.to_json()}
    if timestamp_token is not None:
        bundle["timestamp_token"] = base64.b64encode(timestamp_token).decode("ascii")
    return bundle


def verify_bundle(bundle: Mapping[str, Any], public_key: bytes, *, tsa_cert_pem: bytes | None = None) -> VerifiedEntry:
    """Check a bundle offline; BundleError unless every part holds. A timestamped bundle needs
    ``tsa_cert_pem``: a token that cannot be checked is refused, never ignored."""
    _check_keys(bundle)
    head = _verified_head(bundle["tree_head"], public_key)
    leaf = _leaf_hash(bundle)
    index = _index(bundle["leaf_index"])
    try:
        merkle.verify_inclusion(leaf, index, head.tree_size, _proof(bundle["inclusion_proof"]), head.root_hash)
    except merkle.ProofError as exc:
        raise BundleError(f"the inclusion proof does not hold: {exc}") from exc
    return VerifiedEntry(leaf, index, head, _timestamped_at(bundle, head, tsa_cert_pem))


def _leaf_field(leaf_hash: bytes, leaf_data: bytes | None) -> dict[str, str]:
    if leaf_data is None:
        return {"leaf_hash": leaf_hash.hex()}
    if merkle.leaf_hash(leaf_data) != leaf_hash:
        raise BundleError("the entry's bytes are not the leaf at this index")
    return {"leaf_data": base64.b64encode(leaf_data).decode("ascii")}


def _check_keys(bundle: Mapping[str, Any]) -> None:
    if not isinstance(bundle, Mapping) or bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not a {BUNDLE_FORMAT} bundle")
    leaf_keys = {"leaf_data", "leaf_hash"} & set(bundle)
    if len(leaf_keys) != 1 or not _REQUIRED <= set(bundle) <= _REQUIRED | _OPTIONAL | leaf_keys:
        raise BundleError(_FIELDS)


def _verified_head(data: object, public_key: bytes) -> SignedTreeHead:
    try:
        if not isinstance(data, Mapping):
            raise TreeHeadError("a tree head is a JSON object")
        head = SignedTreeHead.from_json(data)
        verify_tree_head(head, public_key)
    except TreeHeadError as exc:
        raise BundleError(f"the tree head: {exc}") from exc
    return head


def _leaf_hash(bundle: Mapping[str, Any]) -> bytes:
    if "leaf_hash" in bundle:
        return parse_hex_hash(bundle["leaf_hash"], BundleError)
    return merkle.leaf_hash(parse_base64(bundle["leaf_data"], BundleError))


def _index(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BundleError("a leaf index is a whole number")
    return value


def _proof(value: object) -> list[bytes]:
    if not isinstance(value, list):
        raise BundleError("an inclusion proof is a list of hashes")
    return [parse_hex_hash(element, BundleError) for element in value]


def _timestamped_at(bundle: Mapping[str, Any], head: SignedTreeHead, tsa_cert_pem: bytes | None) -> datetime | None:
    if "timestamp_token" not in bundle:
        return None
    if tsa_cert_pem is None:
        raise BundleError("the bundle is timestamped: give the TSA certificate to check it against")
    token = parse_base64(bundle["timestamp_token"], BundleError)
    try:
        return verify_token(token, head.statement, tsa_cert_pem)
    except TimestampError as exc:
        raise BundleError(f"the timestamp: {exc}") from exc
