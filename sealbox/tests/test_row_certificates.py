"""Row certificates: bound to the table, the row and each certified value; keyed with a key
derived from the instance secret; re-derived here with hashlib as an independent check."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sealbox

PEPPER = bytes(range(64))


def _key() -> bytes:
    return sealbox.server_subkey(PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)


def _framed(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def test_it_matches_a_derivation_made_with_hashlib() -> None:
    key = hashlib.blake2b(b"", digest_size=32, key=PEPPER, person=b"sp.row-cert-k.v1").digest()
    statement = _framed(b"sp.row.v1", b"case.key", b"ABCDEFGH23", b"7", bytes(range(32)))
    expected = hashlib.blake2b(statement, digest_size=32, key=key, person=b"sp.row-cert.v1").digest()

    assert _key() == key
    assert sealbox.row_certificate(key, "case.key", "ABCDEFGH23", 7, bytes(range(32))) == expected


def test_the_pinned_vector_does_not_change() -> None:
    certificate = sealbox.row_certificate(_key(), "case.key", "ABCDEFGH23", 7, bytes(range(32)))
    assert certificate.hex() == _PINNED


# Computed once from the definition in docs/crypto.md; a change of format must change this.
_PINNED = "8e90f0cc909023cc14c3b969c75befe866b859c7e5fc87b6130453613799f0bd"


def test_a_certificate_holds_only_for_its_table_and_values() -> None:
    key = _key()
    certificate = sealbox.row_certificate(key, "person.credential", "CASE1", "lookup", b"k" * 32, "real")

    assert sealbox.row_certificate_valid(key, certificate, "person.credential", "CASE1", "lookup", b"k" * 32, "real")
    assert not sealbox.row_certificate_valid(key, certificate, "case.key", "CASE1", "lookup", b"k" * 32, "real")
    assert not sealbox.row_certificate_valid(
        key, certificate, "person.credential", "CASE2", "lookup", b"k" * 32, "real"
    )
    assert not sealbox.row_certificate_valid(
        key, certificate, "person.credential", "CASE1", "lookup", b"k" * 32, "duress"
    )
    assert not sealbox.row_certificate_valid(key, certificate, "person.credential", "CASE1", "lookup", b"k" * 32)
    other = sealbox.server_subkey(bytes(64) + b"x", sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    assert not sealbox.row_certificate_valid(
        other, certificate, "person.credential", "CASE1", "lookup", b"k" * 32, "real"
    )


def test_a_missing_or_short_certificate_is_never_valid() -> None:
    key = _key()
    assert not sealbox.row_certificate_valid(key, None, "case.key", "A")
    assert not sealbox.row_certificate_valid(key, b"", "case.key", "A")
    assert not sealbox.row_certificate_valid(key, sealbox.row_certificate(key, "case.key", "A")[:31], "case.key", "A")


def test_the_row_key_is_not_any_other_certificate_key() -> None:
    purposes = {sealbox.CERTIFICATE_KEY_PURPOSE, sealbox.BOX_CERTIFICATE_KEY_PURPOSE, sealbox.MESSAGE_TAG_KEY_PURPOSE}
    others = {sealbox.server_subkey(PEPPER, purpose) for purpose in purposes}
    assert _key() not in others


def test_a_flag_must_be_spelled_out() -> None:
    with pytest.raises(TypeError):
        sealbox.row_certificate(_key(), "case", True)
    with pytest.raises(ValueError):
        sealbox.row_certificate(b"short", "case", "A")
    with pytest.raises(ValueError):
        sealbox.row_certificate(_key(), "", "A")


@given(
    st.lists(st.one_of(st.text(max_size=8), st.binary(max_size=8), st.integers(0, 10**6)), max_size=4),
    st.lists(st.one_of(st.text(max_size=8), st.binary(max_size=8), st.integers(0, 10**6)), max_size=4),
)
def test_different_rows_never_share_a_certificate(first: list, second: list) -> None:
    key = _key()
    encoded = [sealbox.context("t", *first), sealbox.context("t", *second)]
    if encoded[0] == encoded[1]:
        return
    assert sealbox.row_certificate(key, "t", *first) != sealbox.row_certificate(key, "t", *second)
