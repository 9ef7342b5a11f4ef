"""Keyed hashes: what the server keeps instead of red-flag values, contacts and sensitive item
texts.

Everything is keyed with a key derived from the instance secret SP_PEPPER (kept outside the
database), so a dump or backup of the database alone cannot be checked against guesses.

Identifiers (phone numbers and handles: a case's contact and red flags of those kinds) are a
small search space: with the pepper, every Russian mobile number could be tried in minutes
against a fast hash. Their digests are therefore slow: Argon2id (settings.SP_CONTACT_ARGON2,
t=2 and 48 MiB in production, about 85 ms per hash on the reference machine) over the keyed
BLAKE2b of the kind and value, under a salt derived from the pepper. The salt is per instance,
not per record, so equal identifiers still give equal digests (cases sharing a contact are
linked, a flag matches a contact); each guess costs one Argon2id per instance. Derivations go
through the per-process Argon2id limiter (core/argon2_slots.py).

Text shingles stay fast keyed hashes, since every reply draft is checked, but sensitive items
and red-flag phrases are hashed in separate domains (their own personalisation and kind), so a
database reader cannot join the two tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings

from core.argon2_slots import argon2_slot
from vetting import normalise

# Hash domains: (personalisation, kind). Each is used for one table only.
SENSITIVE_TEXT = (b"sp.sensitive.v2", "sensitive-text")
PHRASE_TEXT = (b"sp.redphrase.v2", "phrase-text")
_IDENTIFIER_PERSON = b"sp.ident.v2"
_IDENTIFIER_SALT_PERSON = b"sp.ident-salt.v2"


def _key() -> bytes:
    return hashlib.blake2b(settings.SP_PEPPER, digest_size=32, person=b"sp.vetting-key.1").digest()


def _keyed(person: bytes, kind: str, normalised: str) -> bytes:
    h = hashlib.blake2b(key=_key(), digest_size=32, person=person)
    h.update(kind.encode() + b"\x00" + normalised.encode())
    return h.digest()


def _text_digest(domain: tuple[bytes, str], normalised: str) -> str:
    person, kind = domain
    return _keyed(person, kind, normalised).hex()


def identifier_digest(kind: str, normalised: str) -> str:
    """The slow digest of a phone number (``kind`` "phone") or handle ("handle"), already
    normalised: one Argon2id derivation, queued behind the process's limiter."""
    params = settings.SP_CONTACT_ARGON2
    salt = hashlib.blake2b(b"", digest_size=16, key=_key(), person=_IDENTIFIER_SALT_PERSON).digest()
    with argon2_slot():
        raw = hash_secret_raw(
            secret=_keyed(_IDENTIFIER_PERSON, kind, normalised),
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=32,
            type=Type.ID,
        )
    return raw.hex()


def sensitive_shingle_digests(shingles: Iterable[str]) -> set[str]:
    """Fast keyed hashes of a sensitive item's (or a draft's) shingles."""
    return {_text_digest(SENSITIVE_TEXT, shingle) for shingle in shingles}


def phrase_shingle_digests(shingles: Iterable[str]) -> set[str]:
    """Fast keyed hashes of a red-flag phrase's (or a first message's) shingles."""
    return {_text_digest(PHRASE_TEXT, shingle) for shingle in shingles}


def contact_digests(value: str) -> set[str]:
    return {identifier_digest(kind, text) for kind, text in normalise.contact_forms(value)}


def red_flag_digests(kind: str, value: str) -> set[str]:
    """The hashes a red flag of ``kind`` is remembered by; empty when the value is unusable."""
    if kind == "phone":
        digits = normalise.phone_digits(value)
        return {identifier_digest("phone", digits)} if digits else set()
    if kind == "handle":
        normalised = normalise.handle(value)
        return {identifier_digest("handle", normalised)} if normalised else set()
    return phrase_shingle_digests(normalise.item_shingles(value))
