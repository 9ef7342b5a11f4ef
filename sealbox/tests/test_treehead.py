"""Signed tree heads: the exact statement, round trips through JSON, and every change refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbox import SigningKeyPair, context, merkle
from sealbox.treehead import (
    SignedTreeHead,
    TreeHeadError,
    sign_tree_head,
    tree_head_statement,
    verify_tree_head,
)

# The organisation's log key (RFC 8032 test 1's seed, so the signature below is a known answer).
LOG_KEY = SigningKeyPair.from_seed(bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
OUTSIDER = SigningKeyPair.generate()
LOG_ID = "safe-passage/evidence/7f3a"
ROOT = merkle.root([merkle.leaf_hash(f"custody entry {i}".encode()) for i in range(5)])
WHEN = datetime(2017, 4, 1, 12, 30, 5, 123456, tzinfo=UTC)


def head(**changes: Any) -> SignedTreeHead:
    fields: dict[str, Any] = {"log_id": LOG_ID, "tree_size": 5, "root_hash": ROOT, "timestamp": WHEN}
    fields.update(changes)
    return sign_tree_head(LOG_KEY.seed, **fields)


def test_the_statement_encoding_is_fixed() -> None:
    """A known answer: changing the encoding would orphan every head ever signed."""
    expected = context("sp.tree-head.v1", LOG_ID, "5", ROOT, "2017-04-01T12:30:05.123456+00:00")
    assert head().statement == expected
    assert expected[:19] == b"\x00\x00\x00\x0fsp.tree-head.v1"
    assert hashlib.sha256(expected).hexdigest()[:32] == "463234889355954fced853ae02fe2c3b"
    assert head().signature.hex() == (
        "3737fe065f4efe8e7c68ecc37bc8d0b6e82842d22741b3c4e574ec55c7b2ab9e"
        "c56c9d64b38f9b00483cd9603d90feb17c5f60e6f7b16cc998fc899cf25c0701"
    )


def test_a_head_round_trips_through_json_and_verifies() -> None:
    signed = head()
    verify_tree_head(signed, LOG_KEY.public_key)
    text = json.dumps(signed.to_json(), sort_keys=True)
    again = SignedTreeHead.from_json(json.loads(text))
    assert again == signed
    verify_tree_head(again, LOG_KEY.public_key)
    assert json.loads(text) == {
        "format": "sp.tree-head.v1",
        "log_id": LOG_ID,
        "tree_size": 5,
        "root_hash": ROOT.hex(),
        "timestamp": "2017-04-01T12:30:05.123456+00:00",
        "signature": signed.to_json()["signature"],
    }


def test_the_time_is_kept_in_utc_whatever_the_zone() -> None:
    moscow = timezone(timedelta(hours=3))
    local = head(timestamp=WHEN.astimezone(moscow))
    assert local == head()
    assert local.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    "change",
    [
        {"log_id": LOG_ID + "x"},
        {"tree_size": 4},
        {"tree_size": 6},
        {"root_hash": bytes([ROOT[0] ^ 1]) + ROOT[1:]},
        {"root_hash": merkle.root([merkle.leaf_hash(f"custody entry {i}".encode()) for i in range(4)])},
        {"timestamp": WHEN + timedelta(microseconds=1)},
    ],
)
def test_changing_any_signed_field_breaks_the_signature(change: dict[str, Any]) -> None:
    tampered = dataclasses.replace(head(), **change)
    with pytest.raises(TreeHeadError, match="does not hold"):
        verify_tree_head(tampered, LOG_KEY.public_key)


def test_a_head_signed_by_another_key_is_refused() -> None:
    forged = sign_tree_head(OUTSIDER.seed, log_id=LOG_ID, tree_size=5, root_hash=ROOT, timestamp=WHEN)
    verify_tree_head(forged, OUTSIDER.public_key)
    with pytest.raises(TreeHeadError):
        verify_tree_head(forged, LOG_KEY.public_key)


def test_a_flipped_signature_bit_is_refused() -> None:
    signed = head()
    for bit in (0, 255, 511):
        flipped = bytearray(signed.signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(TreeHeadError):
            verify_tree_head(dataclasses.replace(signed, signature=bytes(flipped)), LOG_KEY.public_key)


@pytest.mark.parametrize(
    "change",
    [
        {"log_id": ""},
        {"log_id": "x" * 201},
        {"log_id": 7},
        {"tree_size": -1},
        {"tree_size": True},
        {"tree_size": "5"},
        {"root_hash": ROOT[:31]},
        {"root_hash": ROOT.hex()},
        {"timestamp": WHEN.replace(tzinfo=None)},
    ],
)
def test_malformed_fields_are_refused_when_signing(change: dict[str, Any]) -> None:
    with pytest.raises(TreeHeadError):
        head(**change)


def test_a_short_signature_is_refused() -> None:
    with pytest.raises(TreeHeadError, match="64 bytes"):
        SignedTreeHead(LOG_ID, 5, ROOT, WHEN, b"\x00" * 63)


def spelled(field: str, value: object) -> dict[str, Any]:
    data = head().to_json()
    data[field] = value
    return data


@pytest.mark.parametrize(
    "data",
    [
        spelled("root_hash", ROOT.hex().upper()),
        spelled("root_hash", ROOT.hex()[:-2]),
        spelled("timestamp", "2017-04-01T12:30:05.123456Z"),
        spelled("timestamp", "2017-04-01T15:30:05.123456+03:00"),
        spelled("timestamp", "2017-04-01T12:30:05+00:00"),
        spelled("timestamp", "2017-04-01T12:30:05.123456"),
        spelled("timestamp", "the first of April"),
        spelled("signature", head().to_json()["signature"].rstrip("=")),
        spelled("signature", " " + head().to_json()["signature"]),
        spelled("signature", head().signature.hex()),
        spelled("format", "sp.tree-head.v2"),
        spelled("tree_size", 5.0),
        spelled("tree_size", True),
        spelled("extra", "field"),
        {k: v for k, v in head().to_json().items() if k != "signature"},
        [],
    ],
)
def test_only_the_exact_json_form_is_read(data: Any) -> None:
    """One head, one JSON spelling: a second spelling of the same head is refused, not normalised."""
    with pytest.raises(TreeHeadError):
        SignedTreeHead.from_json(data)


@settings(max_examples=60, deadline=None)
@given(
    log_id=st.text(min_size=1, max_size=200),
    tree_size=st.integers(min_value=0, max_value=2**63),
    root_hash=st.binary(min_size=32, max_size=32),
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive by design
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))),
    ),
    bit=st.integers(min_value=0, max_value=511),
)
def test_any_head_round_trips_and_any_flipped_signature_bit_fails(
    log_id: str, tree_size: int, root_hash: bytes, moment: datetime, bit: int
) -> None:
    signed = sign_tree_head(LOG_KEY.seed, log_id=log_id, tree_size=tree_size, root_hash=root_hash, timestamp=moment)
    again = SignedTreeHead.from_json(json.loads(json.dumps(signed.to_json())))
    assert again == signed
    assert again.statement == tree_head_statement(log_id, tree_size, root_hash, moment)
    verify_tree_head(again, LOG_KEY.public_key)
    flipped = bytearray(signed.signature)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(TreeHeadError):
        verify_tree_head(dataclasses.replace(signed, signature=bytes(flipped)), LOG_KEY.public_key)
