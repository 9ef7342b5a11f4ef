"""Staff signatures, server tags and key certificates: known answers, round trips, tampering."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import nacl.hash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder

from sealbox import (
    CERTIFICATE_KEY_PURPOSE,
    MESSAGE_TAG_KEY_PURPOSE,
    SigningKeyPair,
    context,
    key_certificate,
    key_certificate_valid,
    message_statement,
    message_tag,
    message_tag_valid,
    server_subkey,
    sign,
    signature_valid,
)

PEPPER = bytes(range(32))
CASEWORKER = SigningKeyPair.generate()
OUTSIDER = SigningKeyPair.generate()
WHEN = datetime(2017, 4, 1, 12, 30, 5, 123456, tzinfo=UTC)
MESSAGE_ID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff").bytes


def statement(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "case_public_id": "ABCDEFGH23",
        "message_id": MESSAGE_ID,
        "sender": "staff",
        "author_id": 7,
        "signer_id": 7,
        "created_at": WHEN,
        "after_duress": False,
        "is_decoy": False,
        "held": False,
        "body_ct": b"\x01" + b"ciphertext" * 5,
    }
    fields.update(changes)
    return message_statement(**fields)  # type: ignore[arg-type]


# RFC 8032, section 7.1, tests 1 and 2.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(("seed", "public", "message", "signature"), RFC8032)
def test_it_matches_the_rfc8032_known_answers(seed: str, public: str, message: str, signature: str) -> None:
    pair = SigningKeyPair.from_seed(bytes.fromhex(seed))
    assert pair.public_key.hex() == public
    assert sign(pair.seed, bytes.fromhex(message)).hex() == signature
    assert signature_valid(pair.public_key, bytes.fromhex(message), bytes.fromhex(signature))


def test_the_statement_encoding_is_fixed() -> None:
    """A known answer for the canonical encoding: changing it would orphan every signature."""
    body_hash = nacl.hash.blake2b(
        b"\x01" + b"ciphertext" * 5, digest_size=32, person=b"sp.msg-body.v1", encoder=RawEncoder
    )
    expected = context(
        "sp.message.v1",
        "ABCDEFGH23",
        MESSAGE_ID,
        "staff",
        "7",
        "7",
        "2017-04-01T12:30:05.123456+00:00",
        "-",
        "-",
        "-",
        body_hash,
    )
    assert statement() == expected
    assert nacl.hash.blake2b(expected, digest_size=16, encoder=RawEncoder).hex() == ("a544ec591fa4d33ce6104b0dec11823a")


def test_the_time_is_encoded_in_utc_whatever_the_zone() -> None:
    moscow = timezone(timedelta(hours=3))
    assert statement(created_at=WHEN.astimezone(moscow)) == statement()


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        statement(created_at=WHEN.replace(tzinfo=None))


@pytest.mark.parametrize(
    "change",
    [
        {"case_public_id": "ABCDEFGH24"},
        {"message_id": uuid.uuid4().bytes},
        {"sender": "automatic"},
        {"author_id": 8},
        {"author_id": None},
        {"signer_id": 9},
        {"created_at": WHEN + timedelta(microseconds=1)},
        {"after_duress": True},
        {"is_decoy": True},
        {"held": True},
        {"body_ct": b"\x01" + b"ciphertext" * 5 + b"!"},
    ],
)
def test_a_signature_fails_when_any_field_changes(change: dict[str, object]) -> None:
    signature = sign(CASEWORKER.seed, statement())
    assert signature_valid(CASEWORKER.public_key, statement(), signature)
    assert not signature_valid(CASEWORKER.public_key, statement(**change), signature)


def test_a_signature_by_another_key_fails() -> None:
    forged = sign(OUTSIDER.seed, statement())
    assert not signature_valid(CASEWORKER.public_key, statement(), forged)


def test_malformed_keys_and_signatures_fail_without_raising() -> None:
    good = sign(CASEWORKER.seed, statement())
    assert not signature_valid(CASEWORKER.public_key[:31], statement(), good)
    assert not signature_valid(CASEWORKER.public_key, statement(), good[:63])
    assert not signature_valid(bytes(32), statement(), bytes(64))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=512), st.integers(min_value=0, max_value=64 * 8 - 1))
def test_round_trip_and_any_flipped_signature_bit_fails(message: bytes, bit: int) -> None:
    signature = sign(CASEWORKER.seed, message)
    assert signature_valid(CASEWORKER.public_key, message, signature)
    flipped = bytearray(signature)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert not signature_valid(CASEWORKER.public_key, message, bytes(flipped))


def test_server_subkeys_are_separate_per_purpose_and_per_pepper() -> None:
    cert = server_subkey(PEPPER, CERTIFICATE_KEY_PURPOSE)
    tag = server_subkey(PEPPER, MESSAGE_TAG_KEY_PURPOSE)
    assert cert != tag
    assert server_subkey(bytes(reversed(PEPPER)), CERTIFICATE_KEY_PURPOSE) != cert
    assert (
        cert.hex()
        == nacl.hash.blake2b(b"", digest_size=32, key=PEPPER, person=b"sp.cert-key.v1", encoder=RawEncoder).hex()
    )


def test_a_short_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        server_subkey(PEPPER[:31], CERTIFICATE_KEY_PURPOSE)


def test_a_certificate_binds_the_key_to_the_member() -> None:
    key = server_subkey(PEPPER, CERTIFICATE_KEY_PURPOSE)
    certificate = key_certificate(key, 7, CASEWORKER.public_key)
    assert key_certificate_valid(key, 7, CASEWORKER.public_key, certificate)
    assert not key_certificate_valid(key, 8, CASEWORKER.public_key, certificate)
    assert not key_certificate_valid(key, 7, OUTSIDER.public_key, certificate)
    assert not key_certificate_valid(key, 7, CASEWORKER.public_key[:31], certificate)
    other_pepper = server_subkey(bytes(reversed(PEPPER)), CERTIFICATE_KEY_PURPOSE)
    assert not key_certificate_valid(other_pepper, 7, CASEWORKER.public_key, certificate)


def test_a_server_tag_covers_the_statement() -> None:
    key = server_subkey(PEPPER, MESSAGE_TAG_KEY_PURPOSE)
    tag = message_tag(key, statement(sender="automatic", author_id=None, signer_id=None))
    assert message_tag_valid(key, statement(sender="automatic", author_id=None, signer_id=None), tag)
    assert not message_tag_valid(key, statement(sender="staff", author_id=None, signer_id=None), tag)
    assert not message_tag_valid(key, statement(sender="automatic", author_id=None, signer_id=None), tag[:31])


def test_the_private_half_never_shows_in_repr() -> None:
    assert CASEWORKER.seed.hex() not in repr(CASEWORKER)
    assert CASEWORKER.seed.hex()[:16] not in repr(CASEWORKER)
