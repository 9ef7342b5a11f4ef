"""Length padding: a ciphertext's size tells a reader only a coarse bucket of the plaintext size.

Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
PURBs", PETS 2019, section 4): a length L is rounded up so that its binary form keeps only its
top S = floor(log2 E) + 1 significant bits, where E = floor(log2 L):

    E = floor(log2 L), S = floor(log2 E) + 1, last_bits = E - S, mask = 2^last_bits - 1
    padme(L) = (L + mask) & ~mask

The overhead is below 12 % (11.6 % at L = 129, padded to 144, the worst) and shrinks in steps as L grows (under
6.3 % from 256 bytes, under 3.2 % from 64 KiB up to 4 GiB); a padded size tells O(log log L) bits
of L, not O(log L). Below MIN_BUCKET everything shares one bucket, so "yes", "no" and "help" look
alike: bucket(n) = max(MIN_BUCKET, padme(n)).

A padded record carries its true length inside the encryption, before the data:

    pad_record(m) = len(m) (4 bytes, big-endian) | m | zero bytes, total bucket(len(m) + 4)

``unpad_record`` reads the length (no scan over the data, so its time does not depend on where the data
ends), and refuses anything that is not exactly what ``pad_record`` makes: a total that is not the
bucket of the length, or padding that is not all zeros (compared in constant time). The padded
plaintext is authenticated by the AEAD around it, so only a key holder could have made one.
"""

from __future__ import annotations

import hmac

MIN_BUCKET = 64
LENGTH_BYTES = 4
MAX_RECORD = 2**32 - 1


class PaddingError(ValueError):
    """A padded plaintext is not in the canonical form ``pad_record`` writes."""


def padme(length: int) -> int:
    """``length`` rounded up to its Padmé bucket (0 stays 0)."""
    if length < 0:
        raise ValueError("a length is not negative")
    if length < 2:
        return length
    exponent = length.bit_length() - 1  # floor(log2 L)
    significant = exponent.bit_length()  # floor(log2 E) + 1
    mask = (1 << (exponent - significant)) - 1
    return (length + mask) & ~mask


def bucket(length: int) -> int:
    """The padded size for ``length`` bytes: Padmé, but never below MIN_BUCKET."""
    return max(MIN_BUCKET, padme(length))


def padded_record_size(length: int) -> int:
    """The size of ``pad_record`` of a ``length``-byte plaintext (before encryption)."""
    return bucket(length + LENGTH_BYTES)


def pad_record(data: bytes) -> bytes:
    if len(data) > MAX_RECORD - LENGTH_BYTES:
        raise ValueError("a padded record holds at most 4 GiB")
    total = padded_record_size(len(data))
    return len(data).to_bytes(LENGTH_BYTES, "big") + data + bytes(total - LENGTH_BYTES - len(data))


def unpad_record(padded: bytes) -> bytes:
    if len(padded) < LENGTH_BYTES:
        raise PaddingError("too short to hold a length")
    length = int.from_bytes(padded[:LENGTH_BYTES], "big")
    end = LENGTH_BYTES + length
    if end > len(padded) or padded_record_size(length) != len(padded):
        raise PaddingError("the padded size does not match the length inside")
    tail = padded[end:]
    if not hmac.compare_digest(tail, bytes(len(tail))):
        raise PaddingError("the padding is not all zeros")
    return padded[LENGTH_BYTES:end]
