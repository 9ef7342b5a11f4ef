"""Human-transcribable forms of the organisation recovery key: SLIP-39 shares (k of n
trustees, below) and, for organisations set up before threshold sharing, the single SPRK1 string.

The recovery private key is shown once at setup and kept offline (printed or written down).
Crockford base32 avoids letters that are easily confused (I, L, O, U), groups of four make it
readable aloud, and a BLAKE2b checksum catches a mistyped group before any decryption is tried.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import nacl.hash
import shamir_mnemonic  # type: ignore[import-untyped]  # the package ships no type information
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES, KeyPair

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


# --- threshold sharing of the recovery key (SLIP-39) ------------------------------------------
#
# The recovery private key is split into n shares of which any k rebuild it (one group, member
# threshold k): each share is 33 words from the SLIP-39 word list, written on paper by its
# trustee. No passphrase: the words alone are the secret, so a trustee cannot lock the
# organisation out by forgetting one, and a share alone still reveals nothing (Shamir).
# shamir_mnemonic's own error messages quote the first words of a share; none of them is
# passed on here, so an error names a share by the position it was entered in, never by words.

MIN_THRESHOLD = 2
MAX_SHARES = 16


class ShareError(ValueError):
    """A share cannot be used. ``position`` is its place (1-based) in the list as entered;
    ``reason`` is one of: "typo" (checksum or unknown word), "other_set" (belongs to another
    set of shares), "duplicate", "too_few", "mismatch" (the shares do not rebuild a key)."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason if position is None else f"{reason} (share entered {position})")
        self.reason = reason
        self.position = position


class NotThisKey(ValueError):
    """The shares rebuild a key, but not the organisation's: "these shares do not belong to
    this organisation's key"."""


@dataclass(frozen=True)
class ShareInfo:
    identifier: int  # the set's random 15-bit identifier (not secret)
    index: int  # 1-based member index
    threshold: int


def split_recovery_key(private_key: bytes, *, threshold: int, count: int) -> list[str]:
    """``count`` SLIP-39 shares of ``private_key``, any ``threshold`` of which rebuild it."""
    if len(private_key) != KEY_BYTES:
        raise ValueError("keys are 32 bytes")
    if not MIN_THRESHOLD <= threshold <= count <= MAX_SHARES:
        raise ValueError(f"need {MIN_THRESHOLD} <= threshold <= count <= {MAX_SHARES}")
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, count)], private_key, extendable=True)
    return list(groups[0])


def normalise_share(text: str) -> str:
    return " ".join(text.lower().split())


def share_info(text: str, *, position: int = 1) -> ShareInfo:
    """What a share says about itself once its checksum holds. Raises ShareError("typo")."""
    try:
        share = shamir_mnemonic.Share.from_mnemonic(normalise_share(text))
    except (shamir_mnemonic.MnemonicError, ValueError):
        raise ShareError("typo", position) from None
    if share.group_count != 1 or share.member_threshold < MIN_THRESHOLD:
        raise ShareError("other_set", position)
    return ShareInfo(identifier=share.identifier, index=share.index + 1, threshold=share.member_threshold)


def combine_recovery_shares(texts: list[str], *, identifier: int | None = None, public_key: bytes) -> bytes:
    """The recovery private key rebuilt from ``texts``, checked against ``public_key``.

    Raises ShareError naming the first share (by its place in ``texts``) that has a typo,
    belongs to another set (``identifier`` when given, else the first share's), or repeats
    another; ShareError("too_few") below the threshold; NotThisKey when the result is not the
    key whose public half is ``public_key``."""
    infos = [share_info(text, position=place) for place, text in enumerate(texts, start=1)]
    if not infos:
        raise ShareError("too_few")
    expected = infos[0].identifier if identifier is None else identifier
    seen: set[int] = set()
    for place, info in enumerate(infos, start=1):
        if info.identifier != expected or info.threshold != infos[0].threshold:
            raise ShareError("other_set", place)
        if info.index in seen:
            raise ShareError("duplicate", place)
        seen.add(info.index)
    if len(infos) < infos[0].threshold:
        raise ShareError("too_few")
    try:
        secret: bytes = shamir_mnemonic.combine_mnemonics(
            [normalise_share(text) for text in texts[: infos[0].threshold]]
        )
    except (shamir_mnemonic.MnemonicError, ValueError):
        raise ShareError("mismatch") from None
    if len(secret) != KEY_BYTES or not hmac.compare_digest(KeyPair.from_private(secret).public_key, public_key):
        raise NotThisKey
    return secret
