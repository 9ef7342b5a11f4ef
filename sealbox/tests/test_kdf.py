"""Argon2id derivations: codename secrets and staff password keys."""

from __future__ import annotations

import nacl.hash
import pytest
from argon2.low_level import ARGON2_VERSION, Type, core, ffi, hash_secret_raw, lib
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder

from sealbox import (
    PRODUCTION_ARGON2,
    Argon2Params,
    KeyPair,
    derive_codename_secrets,
    derive_password_key,
    normalise_codename,
)

# Cheap parameters: the derivation logic is the same, a test costs microseconds instead of 0.2 s.
CHEAP = Argon2Params(time_cost=1, memory_kib=64)
PEPPER = bytes(range(32))
OTHER_PEPPER = bytes(range(1, 33))
CODENAME = "гора лес река туман мост берег"


def secrets_for(codename: str, pepper: bytes = PEPPER) -> tuple[bytes, bytes]:
    derived = derive_codename_secrets(codename, pepper=pepper, params=CHEAP)
    return derived.lookup_id, derived.keypair.private_key


# --- codename secrets -------------------------------------------------------------------------


def test_the_same_codename_always_finds_the_same_credential() -> None:
    assert secrets_for(CODENAME) == secrets_for(CODENAME)


def test_another_instance_secret_gives_unrelated_secrets() -> None:
    ours, theirs = secrets_for(CODENAME), secrets_for(CODENAME, OTHER_PEPPER)
    assert not set(ours) & set(theirs)


def test_a_pepper_differing_only_in_its_last_byte_changes_the_lookup_id() -> None:
    assert secrets_for(CODENAME)[0] != secrets_for(CODENAME, PEPPER[:-1] + b"\x00")[0]


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_a_one_letter_change_gives_a_different_lookup_id(data: st.DataObject) -> None:
    position = data.draw(st.sampled_from([i for i, c in enumerate(CODENAME) if c != " "]), label="position")
    letter = data.draw(st.sampled_from("абвгдежзийклмнопрстуфхцчшщыьэюя").filter(lambda c: c != CODENAME[position]))
    changed = CODENAME[:position] + letter + CODENAME[position + 1 :]
    assert secrets_for(changed)[0] != secrets_for(CODENAME)[0]


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_lookup_id_and_private_key_are_independent(codename: str) -> None:
    derived = derive_codename_secrets(codename, pepper=PEPPER, params=CHEAP)
    parts = {derived.lookup_id, derived.keypair.private_key, derived.keypair.public_key}
    assert len(parts) == 3
    assert all(len(part) == 32 for part in parts)


def test_the_derived_key_pair_is_a_working_x25519_pair() -> None:
    derived = derive_codename_secrets(CODENAME, pepper=PEPPER, params=CHEAP)
    assert KeyPair.from_private(derived.keypair.private_key) == derived.keypair


@pytest.mark.parametrize("typed", ["Гора лес река туман мост берег", "  гора, лес. река - туман  мост берёг "])
def test_it_finds_the_same_credential_however_the_normalised_codename_was_typed(typed: str) -> None:
    assert secrets_for(normalise_codename(typed)) == secrets_for(CODENAME)


@pytest.mark.parametrize("pepper", [b"", bytes(16), bytes(31)], ids=lambda value: f"{len(value)}-bytes")
def test_it_refuses_an_instance_secret_shorter_than_32_bytes(pepper: bytes) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        derive_codename_secrets(CODENAME, pepper=pepper, params=CHEAP)


def test_it_accepts_an_instance_secret_of_exactly_32_bytes_or_more() -> None:
    derive_codename_secrets(CODENAME, pepper=bytes(32), params=CHEAP)
    derive_codename_secrets(CODENAME, pepper=bytes(64), params=CHEAP)


def test_codename_secrets_repr_shows_nothing_secret() -> None:
    derived = derive_codename_secrets(CODENAME, pepper=PEPPER, params=CHEAP)
    shown = repr(derived) + str(derived)
    for secret in (derived.lookup_id, derived.keypair.private_key):
        assert secret.hex()[:8] not in shown
    assert CODENAME not in shown


# --- password keys ----------------------------------------------------------------------------

SALT = bytes(range(16))


def test_the_same_password_and_salt_give_the_same_key() -> None:
    first = derive_password_key("correct horse battery staple", salt=SALT, params=CHEAP)
    assert first == derive_password_key("correct horse battery staple", salt=SALT, params=CHEAP)
    assert len(first) == 32


def test_another_salt_or_password_gives_another_key() -> None:
    key = derive_password_key("correct horse battery staple", salt=SALT, params=CHEAP)
    assert key != derive_password_key("correct horse battery staple", salt=bytes(16), params=CHEAP)
    assert key != derive_password_key("correct horse battery stapler", salt=SALT, params=CHEAP)


@pytest.mark.parametrize("salt", [b"", bytes(15), bytes(17), bytes(32)], ids=lambda value: f"{len(value)}-bytes")
def test_it_refuses_a_salt_that_is_not_16_bytes(salt: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        derive_password_key("pw", salt=salt, params=CHEAP)


def test_the_stronger_the_parameters_the_different_the_key() -> None:
    stronger = Argon2Params(time_cost=2, memory_kib=64)
    assert derive_password_key("pw", salt=SALT, params=CHEAP) != derive_password_key("pw", salt=SALT, params=stronger)


# --- parameters -------------------------------------------------------------------------------


def test_production_parameters_are_rfc_9106s_second_option_with_three_passes() -> None:
    assert PRODUCTION_ARGON2 == Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=1)
    assert PRODUCTION_ARGON2.is_production_strength()


@pytest.mark.parametrize(
    ("params", "strong"),
    [
        (CHEAP, False),
        (Argon2Params(time_cost=3, memory_kib=64 * 1024 - 1), False),
        (Argon2Params(time_cost=2, memory_kib=64 * 1024), False),
        (Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=4), True),
        (Argon2Params(time_cost=4, memory_kib=256 * 1024), True),
    ],
)
def test_it_tells_test_parameters_from_production_strength(params: Argon2Params, strong: bool) -> None:
    assert params.is_production_strength() is strong


# --- Known-answer vectors ---------------------------------------------------------------------

KAT_PASSWORD_KEY_HEX = "92dc5d67019623868bde079275e522f4b7e8213d3414ed85cbc2ac8a41117288"
KAT_LOOKUP_ID_HEX = "c262d18c3e44820a838540e97cfb78281e3f73c8cc5bd6b18ed632e93b5310a6"
KAT_PRIVATE_KEY_HEX = "6a9858f962b3b9c54e8bfa6ee48bf7f9b140d70fc4dbfb4bb0de8ee4b07e9b3f"
KAT_PUBLIC_KEY_HEX = "ea1ff2e3d48b1de3d7a12c4a4d9f15c7f0c2b0aa25ffff1261818cfe33d68529"


def test_derive_password_key_matches_its_known_answer() -> None:
    key = derive_password_key("correct horse battery staple", salt=SALT, params=CHEAP)
    assert key.hex() == KAT_PASSWORD_KEY_HEX


def test_a_password_key_is_plain_argon2id_of_the_utf8_password() -> None:
    raw = hash_secret_raw(
        secret=b"correct horse battery staple",
        salt=SALT,
        time_cost=1,
        memory_cost=64,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
    )
    assert raw.hex() == KAT_PASSWORD_KEY_HEX


def test_derive_codename_secrets_matches_its_known_answer() -> None:
    derived = derive_codename_secrets(CODENAME, pepper=PEPPER, params=CHEAP)
    assert derived.lookup_id.hex() == KAT_LOOKUP_ID_HEX
    assert derived.keypair.private_key.hex() == KAT_PRIVATE_KEY_HEX
    assert derived.keypair.public_key.hex() == KAT_PUBLIC_KEY_HEX


def test_codename_secrets_follow_the_documented_derivation() -> None:
    # Keyed BLAKE2b of the codename under the pepper, Argon2id under a pepper-derived salt to 64
    # bytes, then one personalised BLAKE2b-256 per sub-key.
    def blake(data: bytes, size: int, person: bytes, key: bytes = b"") -> bytes:
        return nacl.hash.blake2b(data, digest_size=size, key=key, person=person, encoder=RawEncoder)

    keyed = blake(CODENAME.encode(), 64, b"sp.codename.v1", key=PEPPER)
    salt = blake(b"", 16, b"sp.cn-salt.v1", key=PEPPER)
    master = hash_secret_raw(
        secret=keyed, salt=salt, time_cost=1, memory_cost=64, parallelism=1, hash_len=64, type=Type.ID
    )
    assert blake(master, 32, b"sp.lookup.v1").hex() == KAT_LOOKUP_ID_HEX
    assert blake(master, 32, b"sp.x25519.v1").hex() == KAT_PRIVATE_KEY_HEX


def argon2id_with_secret_and_ad(
    password: bytes, salt: bytes, secret: bytes, ad: bytes, *, time_cost: int, memory_kib: int, lanes: int
) -> bytes:
    """Argon2id through argon2-cffi's low-level ``core``: ``hash_secret_raw`` takes no secret or ad."""
    out = ffi.new("uint8_t[]", 32)
    buffers = [ffi.new("uint8_t[]", value) for value in (password, salt, secret, ad)]
    ctx = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": 32,
            "pwd": buffers[0],
            "pwdlen": len(password),
            "salt": buffers[1],
            "saltlen": len(salt),
            "secret": buffers[2],
            "secretlen": len(secret),
            "ad": buffers[3],
            "adlen": len(ad),
            "t_cost": time_cost,
            "m_cost": memory_kib,
            "lanes": lanes,
            "threads": 1,
            "version": ARGON2_VERSION,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    assert core(ctx, Type.ID.value) == lib.ARGON2_OK
    return bytes(ffi.buffer(out, 32))


def test_argon2_cffis_argon2id_matches_rfc_9106_section_5_3() -> None:
    tag = argon2id_with_secret_and_ad(
        b"\x01" * 32, b"\x02" * 16, b"\x03" * 8, b"\x04" * 12, time_cost=3, memory_kib=32, lanes=4
    )
    assert ARGON2_VERSION == 0x13
    assert tag.hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


def test_the_low_level_path_agrees_with_hash_secret_raw_when_secret_and_ad_are_empty() -> None:
    via_core = argon2id_with_secret_and_ad(b"pw", SALT, b"", b"", time_cost=1, memory_kib=64, lanes=1)
    via_raw = hash_secret_raw(
        secret=b"pw", salt=SALT, time_cost=1, memory_cost=64, parallelism=1, hash_len=32, type=Type.ID
    )
    assert via_core == via_raw


def test_a_password_opens_the_same_key_however_its_accents_are_composed() -> None:
    salt = bytes(range(16))
    composed, decomposed = "пароль-\u0451ж-caf\u00e9", "пароль-\u0435\u0308ж-cafe\u0301"
    assert composed != decomposed
    assert derive_password_key(composed, salt=salt, params=CHEAP) == derive_password_key(
        decomposed, salt=salt, params=CHEAP
    )
