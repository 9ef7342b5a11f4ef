"""Keyed hashes: what the server keeps instead of red-flag values and sensitive item texts.

BLAKE2b-256 keyed with a key derived from the instance secret SP_PEPPER (kept outside the
database) under its own personalisation, so a dump or backup of the database alone cannot be
checked against guesses. Each input is prefixed with its kind, so a phone number, a handle and
a word of text never share a hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings

from vetting import normalise


def _key() -> bytes:
    return hashlib.blake2b(settings.SP_PEPPER, digest_size=32, person=b"sp.vetting-key.1").digest()


def digest(kind: str, normalised: str) -> str:
    h = hashlib.blake2b(key=_key(), digest_size=32, person=b"sp.vetting.v1")
    h.update(kind.encode() + b"\x00" + normalised.encode())
    return h.hexdigest()


def shingle_digests(shingles: Iterable[str]) -> set[str]:
    return {digest("text", shingle) for shingle in shingles}


def contact_digests(value: str) -> set[str]:
    return {digest(kind, text) for kind, text in normalise.contact_forms(value)}


def red_flag_digests(kind: str, value: str) -> set[str]:
    """The hashes a red flag of ``kind`` is remembered by; empty when the value is unusable."""
    if kind == "phone":
        digits = normalise.phone_digits(value)
        return {digest("phone", digits)} if digits else set()
    if kind == "handle":
        normalised = normalise.handle(value)
        return {digest("handle", normalised)} if normalised else set()
    return shingle_digests(normalise.item_shingles(value))
