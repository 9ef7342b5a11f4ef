"""Authenticated encryption bound to a context, and X25519 sealing to a public key.

Every ciphertext carries a one-byte format tag and is authenticated together with a
*context*: bytes naming the record and field it belongs to (for example
``context("message.body", message_id)``). A ciphertext copied into another row or field
fails to open, so a database-level attacker cannot swap encrypted values around.

Formats (all integers big-endian):

    encrypt: 0x01 | nonce(24) | XChaCha20-Poly1305(key, ad = 0x01 | context)
    seal:    0x02 | epk(32) | nonce(24) | XChaCha20-Poly1305(k, ad = 0x02 | epk | pk | context)
             k = BLAKE2b-256(X25519(esk, pk) | epk | pk, personal = "sp.seal.v1")

and the same with the plaintext length-padded (sealbox.padding.pad_record: its true length inside,
its size rounded up to a Padmé bucket) under their own tags, which the associated data binds:

    encrypt, padded: 0x03 | nonce(24) | XChaCha20-Poly1305(key, pad(m), ad = 0x03 | context)
    seal, padded:    0x04 | epk(32) | nonce(24) | XChaCha20-Poly1305(k, pad(m), ad = 0x04 | epk | pk | context)

Padding is the default. ``pad=False`` is for fixed-size key material (a 32-byte key's size is
no secret), and writes the first two formats. ``decrypt`` and ``unseal`` open all four, so records
written before padding existed still open; changing the tag of a record makes it fail to open.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.hash
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey

from sealbox.padding import PaddingError, pad_record, unpad_record

KEY_BYTES = 32
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
_SECRETBOX_TAG = b"\x01"
_SEALED_TAG = b"\x02"
_PADDED_SECRETBOX_TAG = b"\x03"
_PADDED_SEALED_TAG = b"\x04"
_SEAL_PERSONAL = b"sp.seal.v1"


class CryptoError(Exception):
    """A ciphertext did not open: wrong key, wrong context, tampered or truncated."""


def random_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def context(label: str, *parts: str | bytes | int) -> bytes:
    """Encode a label and record identifiers without ambiguity (each part length-prefixed)."""
    out = bytearray()
    for part in (label, *parts):
        raw = _as_bytes(part)
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def _as_bytes(part: str | bytes | int) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, int):
        return str(part).encode()
    return part.encode("utf-8")


def encrypt(key: bytes, plaintext: bytes, *, ctx: bytes, pad: bool = True) -> bytes:
    """``plaintext`` under ``key``, bound to ``ctx``; length-padded unless ``pad`` is False."""
    _check_key(key)
    tag, message = (_PADDED_SECRETBOX_TAG, _padded(plaintext)) if pad else (_SECRETBOX_TAG, plaintext)
    nonce = nacl.utils.random(NONCE_BYTES)
    body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, tag + ctx, nonce, key)
    return tag + nonce + body


def decrypt(key: bytes, ciphertext: bytes, *, ctx: bytes) -> bytes:
    """Opens a padded or an unpadded ciphertext (the tag says which, and is authenticated)."""
    _check_key(key)
    tag = ciphertext[:1]
    if len(ciphertext) < 1 + NONCE_BYTES + TAG_BYTES or tag not in (_SECRETBOX_TAG, _PADDED_SECRETBOX_TAG):
        raise CryptoError("not a sealbox ciphertext")
    nonce, body = ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :]
    try:
        message = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(body, tag + ctx, nonce, key)
    except nacl.exceptions.CryptoError as exc:
        raise CryptoError("ciphertext does not open with this key and context") from exc
    return _unpadded(message) if tag == _PADDED_SECRETBOX_TAG else message


def seal(public_key: bytes, plaintext: bytes, *, ctx: bytes, pad: bool = True) -> bytes:
    """Encrypt to a public key; only the matching private key opens it. The sender is anonymous.
    Length-padded unless ``pad`` is False."""
    _check_key(public_key)
    tag, message = (_PADDED_SEALED_TAG, _padded(plaintext)) if pad else (_SEALED_TAG, plaintext)
    ephemeral = PrivateKey.generate()
    epk = bytes(ephemeral.public_key)
    key = _seal_key(_x25519(bytes(ephemeral), public_key), epk, public_key)
    nonce = nacl.utils.random(NONCE_BYTES)
    ad = tag + epk + public_key + ctx
    body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, nonce, key)
    return tag + epk + nonce + body


def unseal(private_key: bytes, ciphertext: bytes, *, ctx: bytes) -> bytes:
    """Opens a padded or an unpadded sealed ciphertext (the tag says which, and is authenticated)."""
    _check_key(private_key)
    header = 1 + KEY_BYTES + NONCE_BYTES
    tag = ciphertext[:1]
    if len(ciphertext) < header + TAG_BYTES or tag not in (_SEALED_TAG, _PADDED_SEALED_TAG):
        raise CryptoError("not a sealed ciphertext")
    epk = ciphertext[1 : 1 + KEY_BYTES]
    nonce = ciphertext[1 + KEY_BYTES : header]
    public_key = sodium.crypto_scalarmult_base(private_key)
    key = _seal_key(_x25519(private_key, epk), epk, public_key)
    ad = tag + epk + public_key + ctx
    try:
        message = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext[header:], ad, nonce, key)
    except nacl.exceptions.CryptoError as exc:
        raise CryptoError("sealed ciphertext does not open with this key and context") from exc
    return _unpadded(message) if tag == _PADDED_SEALED_TAG else message


def _padded(plaintext: bytes) -> bytes:
    return pad_record(bytes(plaintext))


def _unpadded(message: bytes) -> bytes:
    # Only a key holder can make a padded plaintext that authenticates: a malformed one is
    # refused all the same, so that a record opens in exactly one way.
    try:
        return unpad_record(message)
    except PaddingError as exc:
        raise CryptoError("ciphertext does not carry a well-formed padded plaintext") from exc


def _x25519(private_key: bytes, public_key: bytes) -> bytes:
    try:
        return sodium.crypto_scalarmult(private_key, public_key)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.CryptoError) as exc:
        # libsodium refuses low-order points, whose shared secret would be all zeros.
        raise CryptoError("invalid public key") from exc


def _seal_key(shared: bytes, epk: bytes, recipient_pk: bytes) -> bytes:
    return nacl.hash.blake2b(
        shared + epk + recipient_pk, digest_size=KEY_BYTES, person=_SEAL_PERSONAL, encoder=RawEncoder
    )


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise CryptoError("keys are 32 bytes")


@dataclass(frozen=True, repr=False)
class KeyPair:
    """An X25519 key pair. ``repr`` never shows the private half."""

    public_key: bytes
    private_key: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_private(bytes(PrivateKey.generate()))

    @classmethod
    def from_private(cls, private_key: bytes) -> KeyPair:
        _check_key(private_key)
        return cls(public_key=sodium.crypto_scalarmult_base(private_key), private_key=private_key)

    def __repr__(self) -> str:
        return f"KeyPair(public_key={self.public_key.hex()[:16]}…)"
