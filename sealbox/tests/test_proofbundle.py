"""Proof bundles over real custody logs built with sealbox.merkle: every honest bundle holds
offline with the log key alone, and every altered part is refused with BundleError."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sealbox import SigningKeyPair, merkle
from sealbox.proofbundle import BundleError, make_bundle, verify_bundle
from sealbox.tests.local_tsa import LocalTsa, make_local_tsa, needs_openssl
from sealbox.timestamp import check_response, make_request
from sealbox.treehead import SignedTreeHead, sign_tree_head

LOG_KEY = SigningKeyPair.generate()
OUTSIDER = SigningKeyPair.generate()
WHEN = datetime(2017, 4, 1, 12, 30, 5, 123456, tzinfo=UTC)
SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33]


def entries(n: int) -> list[bytes]:
    return [f"item 7f3a: action {i} by caseworker 12".encode() for i in range(n)]


def signed_head(hashes: list[bytes], size: int, key: SigningKeyPair = LOG_KEY) -> SignedTreeHead:
    root = merkle.root(hashes[:size])
    return sign_tree_head(key.seed, log_id="evidence/7f3a", tree_size=size, root_hash=root, timestamp=WHEN)


def bundle_for(n: int, index: int, *, with_data: bool = True) -> dict[str, Any]:
    data = entries(n)
    hashes = [merkle.leaf_hash(d) for d in data]
    bundle = make_bundle(hashes, index, signed_head(hashes, n), leaf_data=data[index] if with_data else None)
    return json.loads(json.dumps(bundle))  # what a checker reads back from the exported file


def refused(bundle: Any, match: str | None = None, **kwargs: Any) -> None:
    with pytest.raises(BundleError, match=match):
        verify_bundle(bundle, LOG_KEY.public_key, **kwargs)


@pytest.mark.parametrize("size", SIZES)
def test_every_honest_bundle_holds_with_the_entry_or_its_hash(size: int) -> None:
    for index in range(size):
        for with_data in (True, False):
            verified = verify_bundle(bundle_for(size, index, with_data=with_data), LOG_KEY.public_key)
            assert verified.index == index
            assert verified.leaf_hash == merkle.leaf_hash(entries(size)[index])
            assert verified.tree_head.tree_size == size
            assert verified.timestamped_at is None


def flipped_hex(value: str) -> str:
    return f"{int(value[0], 16) ^ 1:x}{value[1:]}"


def alterations(bundle: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every part of a bundle changed one at a time, the signature left as it was."""
    size = bundle["tree_head"]["tree_size"]
    index = bundle["leaf_index"]
    proof = bundle["inclusion_proof"]
    leaf = ("leaf_data", "QQ==") if "leaf_data" in bundle else ("leaf_hash", flipped_hex(bundle["leaf_hash"]))
    changes: list[tuple[str, Any]] = [
        leaf,
        ("leaf_index", (index + 1) % size if size > 1 else 1),
        ("leaf_index", index + size),
        ("inclusion_proof", [*proof, "00" * 32]),
        ("tree_head.root_hash", flipped_hex(bundle["tree_head"]["root_hash"])),
        ("tree_head.tree_size", size + 1),
        ("tree_head.log_id", "evidence/other"),
        ("tree_head.timestamp", "2017-04-01T12:30:05.123457+00:00"),
    ]
    changes += [("inclusion_proof", [*proof[:i], flipped_hex(p), *proof[i + 1 :]]) for i, p in enumerate(proof)]
    if proof:
        changes.append(("inclusion_proof", proof[:-1]))
    return [(path, _set(bundle, path, value)) for path, value in changes]


def _set(bundle: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(bundle)
    *parents, last = path.split(".")
    target = changed
    for name in parents:
        target = target[name]
    target[last] = value
    return changed


@pytest.mark.parametrize("size", SIZES)
def test_every_altered_part_is_refused(size: int) -> None:
    for index in range(size):
        for with_data in (True, False):
            for path, altered in alterations(bundle_for(size, index, with_data=with_data)):
                assert is_refused(altered), (index, path)


def is_refused(bundle: dict[str, Any]) -> bool:
    try:
        verify_bundle(bundle, LOG_KEY.public_key)
    except BundleError:
        return True
    return False


def test_a_flipped_signature_or_another_key_is_refused() -> None:
    bundle = bundle_for(5, 2)
    with pytest.raises(BundleError, match=r"tree head.*signature"):
        verify_bundle(bundle, OUTSIDER.public_key)
    signature = bundle["tree_head"]["signature"]
    other = "A" + signature[1:] if signature[0] != "A" else "B" + signature[1:]
    refused(_set(bundle, "tree_head.signature", other), "tree head")


def test_a_head_the_log_key_signed_for_another_tree_is_refused() -> None:
    """The signature holds, but the proof does not lead to the root the head vouches for: a
    head of a rewritten log, or of a larger tree than the proof was made for."""
    data = entries(9)
    hashes = [merkle.leaf_hash(d) for d in data]
    bundle = make_bundle(hashes, 3, signed_head(hashes, 9), leaf_data=data[3])
    rewritten = [*hashes]
    rewritten[5] = merkle.leaf_hash(b"a rewritten action")
    refused(_set(bundle, "tree_head", signed_head(rewritten, 9).to_json()), "inclusion proof")
    refused(_set(bundle, "tree_head", signed_head([*hashes, hashes[0]], 10).to_json()), "inclusion proof")
    refused(_set(bundle, "tree_head", signed_head(hashes, 8).to_json()), "inclusion proof")


def test_a_bundle_is_not_made_for_a_head_of_another_log() -> None:
    hashes = [merkle.leaf_hash(d) for d in entries(6)]
    other = [merkle.leaf_hash(d) for d in entries(7)][1:]
    with pytest.raises(BundleError, match="not this log's root"):
        make_bundle(hashes, 2, signed_head(other, 6))
    with pytest.raises(BundleError, match="not the leaf"):
        make_bundle(hashes, 2, signed_head(hashes, 6), leaf_data=b"another action")
    with pytest.raises(merkle.ProofError):
        make_bundle(hashes, 6, signed_head(hashes, 6))


def test_a_bundle_against_an_earlier_head_holds() -> None:
    """The log grew after the head was signed: the bundle proves the entry under that head."""
    data = entries(12)
    hashes = [merkle.leaf_hash(d) for d in data]
    bundle = make_bundle(hashes, 4, signed_head(hashes, 7), leaf_data=data[4])
    assert verify_bundle(bundle, LOG_KEY.public_key).tree_head.tree_size == 7


@pytest.mark.parametrize(
    "change",
    [
        {"format": "sp.custody-proof.v2"},
        {"leaf_hash": "00" * 32},
        {"leaf_index": True},
        {"leaf_index": -1},
        {"leaf_index": "2"},
        {"inclusion_proof": "00" * 32},
        {"tree_head": "not an object"},
        {"timestamp_token": 7},
        {"extra": 1},
    ],
)
def test_malformed_bundles_are_refused(change: dict[str, Any]) -> None:
    refused({**bundle_for(5, 2), **change}, tsa_cert_pem=b"not needed")


def test_a_bundle_without_a_required_field_is_refused() -> None:
    bundle = bundle_for(5, 2)
    for name in bundle:
        refused({k: v for k, v in bundle.items() if k != name})
    refused([])


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> LocalTsa:
    return make_local_tsa(tmp_path_factory.mktemp("bundle-tsa"))


def timestamped_bundle(tsa: LocalTsa, head_for_token: SignedTreeHead | None = None) -> dict[str, Any]:
    data = entries(6)
    hashes = [merkle.leaf_hash(d) for d in data]
    head = signed_head(hashes, 6)
    request = make_request((head_for_token or head).statement)
    token = check_response(tsa.reply(request), request, tsa.tsa_pem)
    return json.loads(json.dumps(make_bundle(hashes, 1, head, leaf_data=data[1], timestamp_token=token)))


@needs_openssl
def test_a_timestamped_bundle_holds_and_gives_the_tsa_time(tsa: LocalTsa) -> None:
    bundle = timestamped_bundle(tsa)
    verified = verify_bundle(bundle, LOG_KEY.public_key, tsa_cert_pem=tsa.tsa_pem)
    assert verified.timestamped_at is not None
    assert abs(verified.timestamped_at - datetime.now(UTC)) < timedelta(minutes=1)
    refused(bundle, "give the TSA certificate")


@needs_openssl
def test_a_timestamp_of_another_head_or_from_another_tsa_is_refused(tsa: LocalTsa, tmp_path: Path) -> None:
    other_head = signed_head([merkle.leaf_hash(d) for d in entries(5)], 5)
    refused(timestamped_bundle(tsa, other_head), "the timestamp", tsa_cert_pem=tsa.tsa_pem)
    stranger = make_local_tsa(tmp_path / "stranger")
    refused(timestamped_bundle(tsa), "the timestamp", tsa_cert_pem=stranger.tsa_pem)
    refused(timestamped_bundle(stranger), "the timestamp", tsa_cert_pem=tsa.ca_pem)
