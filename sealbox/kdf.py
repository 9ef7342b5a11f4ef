"""Argon2id derivations: codename secrets and password keys.

Codenames: the normalised codename is first keyed with the instance secret (pepper), which
lives outside the database, then stretched with Argon2id under a salt also derived from the
pepper. A stolen database without the pepper gives nothing to brute-force; with the pepper,
every guess still costs one Argon2id derivation. The salt is per instance, not per record, so
that the derived lookup id can be indexed: a codename's 77+ bits make per-record salts
unnecessary (the same choice SecureDrop makes for its source identifiers).

One derivation yields 64 bytes, split with BLAKE2b into independent sub-keys:
    lookup_id   — stored, indexed, finds the login credential
    private_key — the X25519 key replies to this person are sealed to
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import nacl.hash
from argon2.low_level import Type, hash_secret_raw
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES, KeyPair


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int
    memory_kib: int
    parallelism: int = 1

    def is_production_strength(self) -> bool:
        return self.memory_kib >= PRODUCTION_ARGON2.memory_kib and self.time_cost >= PRODUCTION_ARGON2.time_cost


# RFC 9106's second recommended option is 64 MiB; t=3 follows the OWASP guidance for it.
# Parallelism 1 keeps one login on one core, so throughput scales with cores.
PRODUCTION_ARGON2 = Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=1)


@dataclass(frozen=True, repr=False)
class CodenameSecrets:
    lookup_id: bytes
    keypair: KeyPair

    def __repr__(self) -> str:
        return "CodenameSecrets(…)"


def _subkey(master: bytes, personal: bytes) -> bytes:
    return nacl.hash.blake2b(master, digest_size=KEY_BYTES, person=personal, encoder=RawEncoder)


def _argon2id(secret: bytes, salt: bytes, params: Argon2Params, length: int) -> bytes:
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=length,
        type=Type.ID,
    )


def derive_codename_secrets(normalised: str, *, pepper: bytes, params: Argon2Params) -> CodenameSecrets:
    """Derive everything a codename unlocks. ``normalised`` comes from ``normalise_codename``."""
    if len(pepper) < KEY_BYTES:
        raise ValueError("the instance secret must be at least 32 bytes")
    keyed = nacl.hash.blake2b(
        normalised.encode("utf-8"), digest_size=64, key=pepper[:64], person=b"sp.codename.v1", encoder=RawEncoder
    )
    salt = nacl.hash.blake2b(b"", digest_size=16, key=pepper[:64], person=b"sp.cn-salt.v1", encoder=RawEncoder)
    master = _argon2id(keyed, salt, params, 64)
    return CodenameSecrets(
        lookup_id=_subkey(master, b"sp.lookup.v1"),
        keypair=KeyPair.from_private(_subkey(master, b"sp.x25519.v1")),
    )


def derive_password_key(password: str, *, salt: bytes, params: Argon2Params) -> bytes:
    """The key that seals a staff member's private key. ``salt`` is 16 random bytes per member.

    The password is NFKC-normalised first, so the same password typed on a keyboard that
    composes accents differently still opens the key."""
    if len(salt) != 16:
        raise ValueError("the salt is 16 bytes")
    return _argon2id(unicodedata.normalize("NFKC", password).encode("utf-8"), salt, params, KEY_BYTES)
