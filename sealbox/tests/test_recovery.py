"""The organisation recovery key, written down once and typed back in years later."""

from __future__ import annotations

import itertools
import re

import nacl.hash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder

from sealbox import decode_recovery_key, encode_recovery_key

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_KEY = bytes(range(32))
RECOVERY_TEXT = "SPRK1-000G-40R4-0M30-E209-185G-R38E-1W81-24GK-2GAH-C5RR-34D1-P70X-3RFP-7535"
keys = st.binary(min_size=32, max_size=32)


@settings(max_examples=100)
@given(keys)
def test_it_decodes_what_it_encoded(key: bytes) -> None:
    assert decode_recovery_key(encode_recovery_key(key)) == key


@settings(max_examples=50)
@given(keys)
def test_it_writes_fourteen_groups_of_four_crockford_characters_after_the_prefix(key: bytes) -> None:
    assert re.fullmatch(r"SPRK1(-[0-9A-HJKMNP-TV-Z]{4}){14}", encode_recovery_key(key))


def test_it_matches_its_known_answer() -> None:
    assert encode_recovery_key(RECOVERY_KEY) == RECOVERY_TEXT


def test_the_known_answer_is_crockford_base32_of_the_key_and_a_blake2b_checksum() -> None:
    checksum = nacl.hash.blake2b(RECOVERY_KEY, digest_size=3, person=b"sp.recovery.v1", encoder=RawEncoder)
    number = int.from_bytes(RECOVERY_KEY + checksum, "big")  # 280 bits: exactly 56 characters
    digits = "".join(CROCKFORD[number >> (5 * (55 - i)) & 31] for i in range(56))
    assert RECOVERY_TEXT == "-".join(["SPRK1", *(digits[i : i + 4] for i in range(0, 56, 4))])


@pytest.mark.parametrize(
    "typed",
    [
        RECOVERY_TEXT.lower(),
        RECOVERY_TEXT.replace("-", " "),
        RECOVERY_TEXT.replace("-", ""),
        RECOVERY_TEXT.replace("-", " - "),
        "  " + RECOVERY_TEXT.lower().replace("-", "  ") + " ",
        RECOVERY_TEXT.title(),
    ],
)
def test_it_accepts_lower_case_spaces_and_missing_dashes(typed: str) -> None:
    assert decode_recovery_key(typed) == RECOVERY_KEY


def test_it_accepts_o_for_zero_and_i_or_l_for_one() -> None:
    body = RECOVERY_TEXT[len("SPRK1") :]
    assert "0" in body and "1" in body
    for zero, one in itertools.product("Oo", "IiLl"):
        assert decode_recovery_key("SPRK1" + body.replace("0", zero).replace("1", one)) == RECOVERY_KEY


@settings(max_examples=50)
@given(keys, st.data())
def test_it_accepts_any_mix_of_confusable_letters(key: bytes, data: st.DataObject) -> None:
    text = encode_recovery_key(key)
    prefix, body = text[:5], text[5:]
    lookalikes = {"0": "0Oo", "1": "1IiLl"}
    typed = "".join(data.draw(st.sampled_from(lookalikes.get(char, char))) for char in body)
    assert decode_recovery_key(prefix + typed) == key


def test_the_checksum_catches_every_single_changed_character() -> None:
    groups = RECOVERY_TEXT.split("-")[1:]
    body = "".join(groups)
    for position, replacement in itertools.product(range(len(body)), CROCKFORD):
        if replacement == body[position]:
            continue
        typo = body[:position] + replacement + body[position + 1 :]
        with pytest.raises(ValueError, match=r"typo|wrong length"):
            decode_recovery_key("SPRK1-" + typo)


def test_the_checksum_catches_every_swap_of_neighbouring_characters() -> None:
    body = RECOVERY_TEXT.replace("-", "")[len("SPRK1") :]
    for position in range(len(body) - 1):
        if body[position] == body[position + 1]:
            continue
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        with pytest.raises(ValueError):
            decode_recovery_key("SPRK1" + swapped)


@pytest.mark.parametrize(
    "typed",
    [
        RECOVERY_TEXT.replace("SPRK1", "SPRK2"),
        RECOVERY_TEXT.replace("SPRK1", "XPRK1"),
        RECOVERY_TEXT[len("SPRK1-") :],
        "",
    ],
)
def test_it_refuses_a_wrong_or_missing_prefix(typed: str) -> None:
    with pytest.raises(ValueError, match="not a recovery key"):
        decode_recovery_key(typed)


@pytest.mark.parametrize(
    "typed",
    [
        RECOVERY_TEXT[:-5],  # a group left out
        RECOVERY_TEXT + "-ABCD",  # a group too many
        RECOVERY_TEXT[:-1],  # a character left out
        "SPRK1",
    ],
)
def test_it_refuses_a_key_of_the_wrong_length(typed: str) -> None:
    with pytest.raises(ValueError):
        decode_recovery_key(typed)


@pytest.mark.parametrize("bad", ["U", "*", "é", "Ы"])
def test_it_refuses_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(ValueError, match="not a recovery key"):
        decode_recovery_key(RECOVERY_TEXT[:-1] + bad)


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33)], ids=lambda value: f"{len(value)}-bytes")
def test_it_only_encodes_32_byte_keys(key: bytes) -> None:
    with pytest.raises(ValueError):
        encode_recovery_key(key)


def test_a_key_pasted_with_newlines_tabs_and_no_break_spaces_is_accepted() -> None:
    key = bytes(range(32))
    encoded = encode_recovery_key(key)
    messy = encoded.replace("-", "\n", 3).replace("-", "\t", 2).replace("-", "\u00a0", 1)
    assert decode_recovery_key(messy) == key
