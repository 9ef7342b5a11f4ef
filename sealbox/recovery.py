"""Human-transcribable encoding of the organisation recovery key.

The recovery private key is shown once at setup and kept offline (printed or written down).
Crockford base32 avoids letters that are easily confused (I, L, O, U), groups of four make it
readable aloud, and a BLAKE2b checksum catches a mistyped group before any decryption is tried.
"""

from __future__ import annotations

import nacl.hash
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PREFIX = "SPRK1"
_CHECKSUM_BYTES = 3


def _to_base32(data: bytes) -> str:
    bits = len(data) * 8
    pad = -bits % 5
    number = int.from_bytes(data, "big") << pad
    count = (bits + pad) // 5
    return "".join(_ALPHABET[number >> (5 * (count - 1 - i)) & 31] for i in range(count))


def _from_base32(text: str, length: int) -> bytes:
    number = 0
    for char in text:
        number = number << 5 | _ALPHABET.index(char)
    pad = len(text) * 5 - length * 8
    if pad < 0 or number & ((1 << pad) - 1):
        raise ValueError("the recovery key has the wrong length")
    return (number >> pad).to_bytes(length, "big")


def _checksum(key: bytes) -> bytes:
    return nacl.hash.blake2b(key, digest_size=_CHECKSUM_BYTES, person=b"sp.recovery.v1", encoder=RawEncoder)


def encode_recovery_key(private_key: bytes) -> str:
    if len(private_key) != KEY_BYTES:
        raise ValueError("keys are 32 bytes")
    body = _to_base32(private_key + _checksum(private_key))
    groups = [body[i : i + 4] for i in range(0, len(body), 4)]
    return "-".join([_PREFIX, *groups])


def decode_recovery_key(text: str) -> bytes:
    cleaned = "".join(text.upper().split()).replace("-", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if not cleaned.startswith(_PREFIX) or any(c not in _ALPHABET for c in cleaned[len(_PREFIX) :]):
        raise ValueError("this is not a recovery key")
    raw = _from_base32(cleaned[len(_PREFIX) :], KEY_BYTES + _CHECKSUM_BYTES)
    key, checksum = raw[:KEY_BYTES], raw[KEY_BYTES:]
    if _checksum(key) != checksum:
        raise ValueError("the recovery key has a typo: the checksum does not match")
    return key
