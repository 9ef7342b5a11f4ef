"""Who wrote a message: Ed25519 signatures by staff, keyed tags by the server, key certificates.

A database writer knows every public key, so it can seal a message to a person's public key
and insert it as if staff had written it. Encryption cannot stop that; authentication can:

- a staff reply is signed with the author's Ed25519 key, whose private half exists only
  sealed under the author's password (and, unlocked, in their session vault);
- the staff member's signing public key is *certified* with a keyed BLAKE2b tag under a key
  derived from the instance secret (pepper), which is not in the database, so a writer cannot
  swap in a signing key of their own;
- messages the server writes by itself (the person's own words at intake, automatic
  acknowledgements, the decoy) carry a keyed tag under another pepper-derived key.

Formats (docs/crypto.md, "Message authenticity"):

    statement   = context("sp.message.v1", case public id, message id (16 bytes), sender,
                          author id | "", signer id | "", created_at (ISO 8601 UTC, microseconds),
                          "after-duress" | "-", "decoy" | "-", "held" | "-",
                          BLAKE2b-256(body ciphertext, person = "sp.msg-body.v1"))
    signature   = Ed25519(signing key, statement)                                   64 bytes
    server tag  = BLAKE2b-256(statement, key = message tag key, person = "sp.msg-tag.v1")
    certificate = BLAKE2b-256(context("sp.signing-key.v1", member id, public key),
                              key = certificate key, person = "sp.key-cert.v1")
    box certificate = BLAKE2b-256(context("sp.box-key.v1", member id, X25519 public key),
                                  key = box certificate key, person = "sp.box-cert.v1")
    server subkey(purpose) = BLAKE2b-256("", key = pepper[:64], person = purpose)
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import nacl.exceptions
import nacl.hash
import nacl.signing
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES, context

SIGNATURE_BYTES = 64
TAG_BYTES = 32
CERTIFICATE_KEY_PURPOSE = b"sp.cert-key.v1"
MESSAGE_TAG_KEY_PURPOSE = b"sp.tag-key.v1"
# Tags staff replies written before replies were signed (one data migration writes them).
LEGACY_TAG_KEY_PURPOSE = b"sp.legacy-key.v1"
# Certifies the X25519 public key case keys are wrapped to: another key, another context label
# and another personalisation than the signing-key certificate, so neither validates as the other.
BOX_CERTIFICATE_KEY_PURPOSE = b"sp.boxcert-k.v1"


@dataclass(frozen=True, repr=False)
class SigningKeyPair:
    """An Ed25519 key pair; ``seed`` is the 32-byte private half. ``repr`` never shows it."""

    public_key: bytes
    seed: bytes

    @classmethod
    def generate(cls) -> SigningKeyPair:
        key = nacl.signing.SigningKey.generate()
        return cls(public_key=bytes(key.verify_key), seed=bytes(key))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKeyPair:
        _check_32(seed, "signing seeds")
        return cls(public_key=bytes(nacl.signing.SigningKey(seed).verify_key), seed=seed)

    def __repr__(self) -> str:
        return f"SigningKeyPair(public_key={self.public_key.hex()[:16]}…)"


def sign(seed: bytes, statement: bytes) -> bytes:
    _check_32(seed, "signing seeds")
    return nacl.signing.SigningKey(seed).sign(statement).signature


def signature_valid(public_key: bytes, statement: bytes, signature: bytes) -> bool:
    if len(public_key) != KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(statement, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        return False
    return True


def server_subkey(pepper: bytes, purpose: bytes) -> bytes:
    """A key for one purpose, derived from the instance secret; never stored anywhere."""
    if len(pepper) < KEY_BYTES:
        raise ValueError("the instance secret must be at least 32 bytes")
    return nacl.hash.blake2b(b"", digest_size=KEY_BYTES, key=pepper[:64], person=purpose, encoder=RawEncoder)


def key_certificate(certificate_key: bytes, member_id: int, public_key: bytes) -> bytes:
    """Vouches that ``public_key`` is the signing key the server enrolled for ``member_id``."""
    _check_32(certificate_key, "certificate keys")
    _check_32(public_key, "signing public keys")
    return _keyed(certificate_key, context("sp.signing-key.v1", member_id, public_key), b"sp.key-cert.v1")


def key_certificate_valid(certificate_key: bytes, member_id: int, public_key: bytes, certificate: bytes) -> bool:
    if len(public_key) != KEY_BYTES:
        return False
    return hmac.compare_digest(key_certificate(certificate_key, member_id, public_key), certificate)


def box_key_certificate(certificate_key: bytes, member_id: int, public_key: bytes) -> bytes:
    """Vouches that ``public_key`` is the X25519 key the server enrolled for ``member_id``:
    the key case keys may be wrapped to."""
    _check_32(certificate_key, "certificate keys")
    _check_32(public_key, "box public keys")
    return _keyed(certificate_key, context("sp.box-key.v1", member_id, public_key), b"sp.box-cert.v1")


def box_key_certificate_valid(certificate_key: bytes, member_id: int, public_key: bytes, certificate: bytes) -> bool:
    if len(public_key) != KEY_BYTES:
        return False
    return hmac.compare_digest(box_key_certificate(certificate_key, member_id, public_key), certificate)


def message_tag(tag_key: bytes, statement: bytes) -> bytes:
    _check_32(tag_key, "tag keys")
    return _keyed(tag_key, statement, b"sp.msg-tag.v1")


def message_tag_valid(tag_key: bytes, statement: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(message_tag(tag_key, statement), tag)


def message_statement(
    *,
    case_public_id: str,
    message_id: bytes,
    sender: str,
    author_id: int | None,
    signer_id: int | None,
    created_at: datetime,
    after_duress: bool,
    is_decoy: bool,
    held: bool,
    body_ct: bytes,
) -> bytes:
    """The canonical bytes a message's signature or tag covers. Every field shown beside a
    message, and its ciphertext, is in it: none can be changed without the check failing."""
    if len(message_id) != 16:
        raise ValueError("message ids are 16 bytes")
    if created_at.tzinfo is None:
        raise ValueError("message times must be aware")
    body_hash = nacl.hash.blake2b(body_ct, digest_size=32, person=b"sp.msg-body.v1", encoder=RawEncoder)
    return context(
        "sp.message.v1",
        case_public_id,
        message_id,
        sender,
        "" if author_id is None else author_id,
        "" if signer_id is None else signer_id,
        created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "after-duress" if after_duress else "-",
        "decoy" if is_decoy else "-",
        "held" if held else "-",
        body_hash,
    )


def sign_off_statement(
    *, case_public_id: str, sign_off_id: int, verifier_id: int, signed_at: datetime, round_started: datetime
) -> bytes:
    """What a verifier signs when vouching for a case (vetting): the case, the sign-off row,
    the verifier, when, and the vetting round it belongs to. A row planted by a database
    writer has no signature that holds; one moved to another case, verifier, time or round
    fails too."""
    for moment in (signed_at, round_started):
        if moment.tzinfo is None:
            raise ValueError("sign-off times must be aware")
    return context(
        "sp.sign-off.v1",
        case_public_id,
        sign_off_id,
        verifier_id,
        signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        round_started.astimezone(UTC).isoformat(timespec="microseconds"),
    )


def _keyed(key: bytes, message: bytes, person: bytes) -> bytes:
    return nacl.hash.blake2b(message, digest_size=TAG_BYTES, key=key, person=person, encoder=RawEncoder)


def _check_32(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != KEY_BYTES:
        raise ValueError(f"{what} are 32 bytes")
