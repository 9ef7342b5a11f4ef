"""Length padding: Padmé's buckets and overhead, the padded record, and the padded box formats.

The attacker is a database reader: they see every ciphertext's length. With padding that length
tells them only the bucket of the plaintext's size. A database writer may change any byte of a
record (its tag, its padding): the record then does not open, and never opens as something else.
"""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.hash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey

import sealbox.boxes
from sealbox import CryptoError, KeyPair, context, decrypt, encrypt, random_key, seal, unseal
from sealbox.boxes import KEY_BYTES, NONCE_BYTES, TAG_BYTES
from sealbox.padding import (
    LENGTH_BYTES,
    MIN_BUCKET,
    PaddingError,
    bucket,
    pad_record,
    padded_record_size,
    padme,
    unpad_record,
)

lengths = st.integers(min_value=1, max_value=2**40)
CASEWORKER = KeyPair.generate()
CTX = context("message.body", 42)


# --- Padmé ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "padded"),
    [(0, 0), (1, 1), (2, 2), (7, 7), (8, 8), (9, 10), (17, 18), (100, 104), (1000, 1024), (1_000_000, 1_015_808)],
)
def test_padme_matches_values_worked_out_by_hand(length: int, padded: int) -> None:
    # 1000: E = 9, S = 4, last_bits = 5, so multiples of 32: 1024. 100: E = 6, S = 3, multiples of 8.
    assert padme(length) == padded


def padme_from_the_paper(length: int) -> int:
    """The paper's definition with floating-point logarithms, for lengths where they are exact enough."""
    import math

    exponent = math.floor(math.log2(length))
    significant = math.floor(math.log2(exponent)) + 1
    mask = (1 << (exponent - significant)) - 1
    return (length + mask) & ~mask


@settings(max_examples=300)
@given(st.integers(min_value=2, max_value=2**30))
def test_padme_is_the_papers_definition(length: int) -> None:
    assert padme(length) == padme_from_the_paper(length)


@settings(max_examples=300)
@given(lengths)
def test_padme_never_shrinks_and_is_already_a_bucket(length: int) -> None:
    padded = padme(length)
    assert padded >= length
    assert padme(padded) == padded


@settings(max_examples=300)
@given(lengths)
def test_padme_overhead_stays_under_12_percent(length: int) -> None:
    assert padme(length) - length <= 0.12 * length


def test_padme_overhead_is_largest_for_small_lengths_and_shrinks() -> None:
    def worst(low: int, high: int) -> float:
        return max((padme(n) - n) / n for n in range(low, high))

    assert worst(2, 1024) == pytest.approx(5 / 43)  # 43 -> 48, the largest: 11.6 %
    assert worst(1024, 65536) < 0.063
    assert worst(65536, 300_000) < 0.032


@pytest.mark.parametrize("exponent", range(1, 21))
def test_each_power_of_two_range_holds_few_buckets(exponent: int) -> None:
    # Lengths in [2^E, 2^(E+1)) fall into at most 2^S + 1 buckets (the last is 2^(E+1) itself),
    # S = floor(log2 E) + 1: a reader learns O(log log L) bits of the length, not log L.
    significant = exponent.bit_length()
    buckets = {padme(n) for n in range(2**exponent, 2 ** (exponent + 1))}
    assert len(buckets) <= 2**significant + 1


def test_a_million_lengths_make_a_few_hundred_sizes() -> None:
    assert len({bucket(n) for n in range(2**20)}) == 273


def test_every_short_text_shares_the_smallest_bucket() -> None:
    assert {padded_record_size(n) for n in range(MIN_BUCKET - LENGTH_BYTES + 1)} == {MIN_BUCKET}
    assert padded_record_size(MIN_BUCKET - LENGTH_BYTES + 1) > MIN_BUCKET
    assert bucket(0) == MIN_BUCKET


# --- the padded record ------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=5000))
def test_a_padded_record_round_trips_and_has_its_buckets_size(data: bytes) -> None:
    padded = pad_record(data)
    assert len(padded) == padded_record_size(len(data)) == bucket(len(data) + LENGTH_BYTES)
    assert unpad_record(padded) == data


def _canonical_misfits() -> list[bytes]:
    good = pad_record(b"help")
    return [
        b"",
        b"\x00\x00\x00",
        good[:-1],  # one byte short of its bucket
        good + bytes(1),  # one byte over it
        good + bytes(padded_record_size(4) // 8),  # a bigger bucket than its length makes
        good[:-1] + b"\x01",  # padding that is not zero
        (2**32 - 1).to_bytes(4, "big") + good[4:],  # a length beyond the record
    ]


@pytest.mark.parametrize("padded", _canonical_misfits())
def test_unpad_refuses_anything_pad_does_not_write(padded: bytes) -> None:
    with pytest.raises(PaddingError):
        unpad_record(padded)


# --- the padded box formats -------------------------------------------------------------------


@settings(max_examples=100)
@given(st.binary(max_size=3000), st.binary(max_size=64))
def test_padded_encrypt_is_tagged_0x03_and_its_length_is_the_buckets(plaintext: bytes, ctx: bytes) -> None:
    key = random_key()
    ciphertext = encrypt(key, plaintext, ctx=ctx)
    assert ciphertext[:1] == b"\x03"
    assert len(ciphertext) == 1 + NONCE_BYTES + TAG_BYTES + padded_record_size(len(plaintext))
    assert decrypt(key, ciphertext, ctx=ctx) == plaintext


@settings(max_examples=100)
@given(st.binary(max_size=3000), st.binary(max_size=64))
def test_padded_seal_is_tagged_0x04_and_its_length_is_the_buckets(plaintext: bytes, ctx: bytes) -> None:
    ciphertext = seal(CASEWORKER.public_key, plaintext, ctx=ctx)
    assert ciphertext[:1] == b"\x04"
    assert len(ciphertext) == 1 + KEY_BYTES + NONCE_BYTES + TAG_BYTES + padded_record_size(len(plaintext))
    assert unseal(CASEWORKER.private_key, ciphertext, ctx=ctx) == plaintext


def test_short_answers_cannot_be_told_apart_by_length() -> None:
    key = random_key()
    answers = [b"", b"yes", b"no", b"help", b"They took my phone.", "Мы в безопасности".encode()]
    assert len({len(encrypt(key, text, ctx=CTX)) for text in answers}) == 1
    assert len({len(seal(CASEWORKER.public_key, text, ctx=CTX)) for text in answers}) == 1


@pytest.mark.parametrize("tags", [(b"\x03", b"\x01"), (b"\x01", b"\x03")])
def test_a_database_writer_cannot_switch_a_record_between_padded_and_unpadded(tags: tuple[bytes, bytes]) -> None:
    # Attacker: a database writer who rewrites the format tag, hoping the record opens with its
    # padding shown, or read as padded. The tag is in the associated data.
    key = random_key()
    ciphertext = encrypt(key, b"We are at the border", ctx=CTX, pad=tags[0] == b"\x03")
    with pytest.raises(CryptoError, match="does not open"):
        decrypt(key, tags[1] + ciphertext[1:], ctx=CTX)


@pytest.mark.parametrize("tags", [(b"\x04", b"\x02"), (b"\x02", b"\x04")])
def test_a_database_writer_cannot_switch_a_sealed_record_between_formats(tags: tuple[bytes, bytes]) -> None:
    ciphertext = seal(CASEWORKER.public_key, b"We are at the border", ctx=CTX, pad=tags[0] == b"\x04")
    with pytest.raises(CryptoError, match="does not open"):
        unseal(CASEWORKER.private_key, tags[1] + ciphertext[1:], ctx=CTX)


def test_a_database_writer_cannot_strip_or_add_padding() -> None:
    key = random_key()
    ciphertext = encrypt(key, b"yes", ctx=CTX)
    sealed = seal(CASEWORKER.public_key, b"yes", ctx=CTX)
    for cut in (1, 16, 32, 60):
        with pytest.raises(CryptoError):
            decrypt(key, ciphertext[:-cut], ctx=CTX)
        with pytest.raises(CryptoError):
            unseal(CASEWORKER.private_key, sealed[:-cut], ctx=CTX)
    with pytest.raises(CryptoError):
        decrypt(key, ciphertext + bytes(16), ctx=CTX)


@settings(max_examples=200)
@given(st.data())
def test_every_bit_of_a_padded_record_is_authenticated(data: st.DataObject) -> None:
    key = random_key()
    ciphertext = bytearray(encrypt(key, b"no", ctx=CTX))
    bit = data.draw(st.integers(0, len(ciphertext) * 8 - 1), label="bit")
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CryptoError):
        decrypt(key, bytes(ciphertext), ctx=CTX)


@pytest.mark.parametrize("padded", _canonical_misfits())
def test_a_key_holders_malformed_padded_record_is_refused(padded: bytes) -> None:
    # A buggy or hostile writer holding the key: the record authenticates, its padding is wrong.
    key = random_key()
    nonce = bytes(NONCE_BYTES)
    forged = b"\x03" + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, b"\x03" + CTX, nonce, key)
    with pytest.raises(CryptoError, match="well-formed padded plaintext"):
        decrypt(key, forged, ctx=CTX)


def test_old_unpadded_records_still_open() -> None:
    # Written the way every record was before padding, with libsodium directly.
    key, nonce = random_key(), bytes(range(NONCE_BYTES))
    old = b"\x01" + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(b"old words", b"\x01" + CTX, nonce, key)
    assert decrypt(key, old, ctx=CTX) == b"old words"
    assert unseal(CASEWORKER.private_key, seal(CASEWORKER.public_key, b"old", ctx=CTX, pad=False), ctx=CTX) == b"old"


KAT_NONCE = bytes(range(0x40, 0x58))
KAT_EPHEMERAL_SK = bytes(range(0x60, 0x80))


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealbox.boxes.nacl.utils, "random", lambda size: KAT_NONCE)
    monkeypatch.setattr(sealbox.boxes.PrivateKey, "generate", classmethod(lambda cls: cls(KAT_EPHEMERAL_SK)))


def test_padded_formats_follow_the_documentation(fixed_randomness: None) -> None:
    # encrypt, padded: 0x03 | nonce | XChaCha20-Poly1305(key, pad(m), ad = 0x03 | ctx)
    # seal, padded:    0x04 | epk | nonce | XChaCha20-Poly1305(k, pad(m), ad = 0x04 | epk | pk | ctx)
    # pad(m) = len(m) (4 bytes) | m | zeros, total max(64, padme(len(m) + 4))
    key, text = bytes(range(32)), b"We need to leave tonight."
    padded = len(text).to_bytes(4, "big") + text + bytes(64 - 4 - len(text))
    body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, b"\x03" + CTX, KAT_NONCE, key)
    assert encrypt(key, text, ctx=CTX) == b"\x03" + KAT_NONCE + body
    epk = bytes(PrivateKey(KAT_EPHEMERAL_SK).public_key)
    pk = CASEWORKER.public_key
    shared = sodium.crypto_scalarmult(KAT_EPHEMERAL_SK, pk)
    k = nacl.hash.blake2b(shared + epk + pk, digest_size=32, person=b"sp.seal.v1", encoder=RawEncoder)
    body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, b"\x04" + epk + pk + CTX, KAT_NONCE, k)
    assert seal(pk, text, ctx=CTX) == b"\x04" + epk + KAT_NONCE + body
