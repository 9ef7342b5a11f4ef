"""Hand-off packets between organisations: a case's chosen fields, encrypted to the receiving
organisation's X25519 key and signed with the sending organisation's Ed25519 key.

An organisation's hand-off identity is its X25519 public key (to receive) and its Ed25519
verify key (to sign). Its fingerprint, compared out of band, is

    fingerprint = BLAKE2b-256(context("sp.handoff-id.v1", x25519 public key, ed25519 verify key),
                              person = "sp.handoff-fp.v1")

The packet file is one line of canonical JSON (keys sorted, no spaces, ASCII, a final newline):

    {"ciphertext": b64, "format": "sp-handoff-1", "packet_id": hex(16), "recipient": hex(32),
     "sender": hex(32), "signature": b64(64)}

    ciphertext = seal(recipient x25519 key, canonical JSON of the payload,
                      ctx = context("sp.handoff.body.v1", format, recipient fp, sender fp, packet id))
    signature  = Ed25519(sender seed, context("sp.handoff.v1", format, recipient fp, sender fp,
                                               packet id, ciphertext))

Opening checks, in this order, before anything is decrypted: the file is exactly the canonical
encoding of what it parses to (so no byte of it can change unnoticed), the format, the recipient
fingerprint (addressed to us), the sender fingerprint (from the partner we were told), the
signature; then the ciphertext is opened, which also binds it to both fingerprints and the id.

Who a partner is, and who we are, is vouched for by the server with keys derived from the
instance secret (never in the database), one purpose each and another personalisation than the
staff key certificates, so no certificate validates as another:

    partner certificate  = BLAKE2b-256(context("sp.handoff-partner.v1", partner id, name,
                                                x25519 key, ed25519 key),
                                        key = server subkey("sp.hpartner-k.v1"), person = "sp.hpartner-c.v1")
    org keys certificate = BLAKE2b-256(context("sp.handoff-own.v1", row id, x25519 key, ed25519 key),
                                        key = server subkey("sp.horgkey-k.v1"), person = "sp.horgkey-c.v1")

A nesting too deep for the JSON parser is refused as a damaged packet (REASON_FORMAT).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from typing import Any

import nacl.hash
import nacl.utils
from nacl.encoding import RawEncoder

from sealbox.boxes import KEY_BYTES, CryptoError, context, seal, unseal
from sealbox.signing import SIGNATURE_BYTES, sign, signature_valid

FORMAT = "sp-handoff-1"
PACKET_ID_BYTES = 16
_FIELDS = ("ciphertext", "format", "packet_id", "recipient", "sender", "signature")
# The largest packet file accepted anywhere: by _parse, the import page (its upload handler
# skips larger files unread) and so, in effect, the largest case that can be handed over.
MAX_PACKET_BYTES = 8 * 1024 * 1024


class PacketRejected(CryptoError):
    """A packet that must not be opened; ``reason`` says why (one of the REASON_* values)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


REASON_FORMAT = "format"  # not a hand-off packet, damaged, or another version
REASON_RECIPIENT = "recipient"  # addressed to another organisation
REASON_SENDER = "sender"  # not from the partner named
REASON_SIGNATURE = "signature"  # changed after signing, or signed by someone else
REASON_CONTENT = "content"  # the ciphertext does not open (should not happen once signed)

PARTNER_CERTIFICATE_KEY_PURPOSE = b"sp.hpartner-k.v1"
ORG_KEYS_CERTIFICATE_KEY_PURPOSE = b"sp.horgkey-k.v1"
CERTIFICATE_BYTES = 32


def _certificate_tag(key: bytes, statement: bytes, person: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise CryptoError("certificate keys are 32 bytes")
    return nacl.hash.blake2b(statement, digest_size=CERTIFICATE_BYTES, key=key, person=person, encoder=RawEncoder)


def partner_certificate(key: bytes, partner_id: int, name: str, box_public_key: bytes, verify_key: bytes) -> bytes:
    """Vouches that partner row ``partner_id`` named ``name`` has exactly these two keys."""
    fingerprint(box_public_key, verify_key)  # checks both are 32 bytes
    statement = context("sp.handoff-partner.v1", partner_id, name, box_public_key, verify_key)
    return _certificate_tag(key, statement, b"sp.hpartner-c.v1")


def partner_certificate_valid(
    key: bytes, partner_id: int, name: str, box_public_key: bytes, verify_key: bytes, certificate: bytes
) -> bool:
    if len(box_public_key) != KEY_BYTES or len(verify_key) != KEY_BYTES or len(certificate) != CERTIFICATE_BYTES:
        return False
    expected = partner_certificate(key, partner_id, name, box_public_key, verify_key)
    return hmac.compare_digest(expected, certificate)


def org_keys_certificate(key: bytes, row_id: int, box_public_key: bytes, verify_key: bytes) -> bytes:
    """Vouches that this organisation's hand-off keys (row ``row_id``) are these two keys."""
    fingerprint(box_public_key, verify_key)
    statement = context("sp.handoff-own.v1", row_id, box_public_key, verify_key)
    return _certificate_tag(key, statement, b"sp.horgkey-c.v1")


def org_keys_certificate_valid(
    key: bytes, row_id: int, box_public_key: bytes, verify_key: bytes, certificate: bytes
) -> bool:
    if len(box_public_key) != KEY_BYTES or len(verify_key) != KEY_BYTES or len(certificate) != CERTIFICATE_BYTES:
        return False
    return hmac.compare_digest(org_keys_certificate(key, row_id, box_public_key, verify_key), certificate)


def canonical(value: Any) -> bytes:
    """The one byte encoding of a JSON value used in packets and payloads."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def fingerprint(box_public_key: bytes, verify_key: bytes) -> bytes:
    if len(box_public_key) != KEY_BYTES or len(verify_key) != KEY_BYTES:
        raise CryptoError("hand-off keys are 32 bytes")
    return nacl.hash.blake2b(
        context("sp.handoff-id.v1", box_public_key, verify_key),
        digest_size=32,
        person=b"sp.handoff-fp.v1",
        encoder=RawEncoder,
    )


def fingerprint_text(value: bytes) -> str:
    """For reading aloud or comparing by eye: 16 groups of 4 hex digits."""
    text = value.hex()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_key(text: str) -> bytes:
    """A 32-byte public key typed as hex (64 digits, spaces allowed) or base64 (standard or
    URL-safe, with or without padding). Raises ValueError otherwise."""
    compact = "".join(text.split())
    if len(compact) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(compact)
        except ValueError:
            pass
    standard = compact.replace("-", "+").replace("_", "/").rstrip("=")
    padded = standard + "=" * (-len(standard) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) == KEY_BYTES and _b64(raw) == padded:
        return raw
    raise ValueError("not a 32-byte key in hex or base64")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _statement(recipient: bytes, sender: bytes, packet_id: bytes, ciphertext: bytes) -> bytes:
    return context("sp.handoff.v1", FORMAT, recipient, sender, packet_id, ciphertext)


def _body_ctx(recipient: bytes, sender: bytes, packet_id: bytes) -> bytes:
    return context("sp.handoff.body.v1", FORMAT, recipient, sender, packet_id)


@dataclass(frozen=True, repr=False)
class Identity:
    """One organisation's public hand-off keys."""

    box_public_key: bytes
    verify_key: bytes

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.box_public_key, self.verify_key)


@dataclass(frozen=True)
class OpenedPacket:
    packet_id: bytes
    payload: dict[str, Any]


def packet_seal(
    payload: dict[str, Any],
    *,
    sender: Identity,
    sender_seed: bytes,
    recipient: Identity,
    packet_id: bytes | None = None,
) -> bytes:
    """The packet file's bytes. ``packet_id`` is random unless given (tests)."""
    packet_id = packet_id if packet_id is not None else nacl.utils.random(PACKET_ID_BYTES)
    if len(packet_id) != PACKET_ID_BYTES:
        raise CryptoError("packet ids are 16 bytes")
    to_fp, from_fp = recipient.fingerprint, sender.fingerprint
    # Unpadded (pad=False): the packet is a format partner organisations' installations read,
    # and it is carried as a file of its own, never stored in our database.
    ciphertext = seal(recipient.box_public_key, canonical(payload), ctx=_body_ctx(to_fp, from_fp, packet_id), pad=False)
    signature = sign(sender_seed, _statement(to_fp, from_fp, packet_id, ciphertext))
    fields = {
        "ciphertext": _b64(ciphertext),
        "format": FORMAT,
        "packet_id": packet_id.hex(),
        "recipient": to_fp.hex(),
        "sender": from_fp.hex(),
        "signature": _b64(signature),
    }
    return canonical(fields) + b"\n"


@dataclass(frozen=True)
class _Parsed:
    recipient: bytes
    sender: bytes
    packet_id: bytes
    ciphertext: bytes
    signature: bytes


def _parse(raw: bytes) -> _Parsed:
    if len(raw) > MAX_PACKET_BYTES:
        raise PacketRejected(REASON_FORMAT)
    try:
        fields = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PacketRejected(REASON_FORMAT) from None
    if not isinstance(fields, dict) or tuple(sorted(fields)) != _FIELDS:
        raise PacketRejected(REASON_FORMAT)
    if not all(isinstance(value, str) for value in fields.values()) or fields["format"] != FORMAT:
        raise PacketRejected(REASON_FORMAT)
    # Only the canonical encoding is accepted, so every byte of the file is covered.
    if canonical(fields) + b"\n" != raw:
        raise PacketRejected(REASON_FORMAT)
    try:
        parsed = _Parsed(
            recipient=bytes.fromhex(fields["recipient"]),
            sender=bytes.fromhex(fields["sender"]),
            packet_id=bytes.fromhex(fields["packet_id"]),
            ciphertext=base64.b64decode(fields["ciphertext"], validate=True),
            signature=base64.b64decode(fields["signature"], validate=True),
        )
    except (ValueError, binascii.Error):
        raise PacketRejected(REASON_FORMAT) from None
    # Hex and base64 must be the canonical spelling too (lower case, no stray padding bits).
    if (
        parsed.recipient.hex() != fields["recipient"]
        or parsed.sender.hex() != fields["sender"]
        or parsed.packet_id.hex() != fields["packet_id"]
        or _b64(parsed.ciphertext) != fields["ciphertext"]
        or _b64(parsed.signature) != fields["signature"]
        or len(parsed.recipient) != 32
        or len(parsed.sender) != 32
        or len(parsed.packet_id) != PACKET_ID_BYTES
        or len(parsed.signature) != SIGNATURE_BYTES
    ):
        raise PacketRejected(REASON_FORMAT)
    return parsed


def packet_open(raw: bytes, *, recipient: Identity, recipient_private_key: bytes, sender: Identity) -> OpenedPacket:
    """Check and open a packet from ``sender`` addressed to ``recipient``. Raises PacketRejected."""
    parsed = _parse(raw)
    if not hmac.compare_digest(parsed.recipient, recipient.fingerprint):
        raise PacketRejected(REASON_RECIPIENT)
    if not hmac.compare_digest(parsed.sender, sender.fingerprint):
        raise PacketRejected(REASON_SENDER)
    statement = _statement(parsed.recipient, parsed.sender, parsed.packet_id, parsed.ciphertext)
    if not signature_valid(sender.verify_key, statement, parsed.signature):
        raise PacketRejected(REASON_SIGNATURE)
    try:
        body = unseal(
            recipient_private_key, parsed.ciphertext, ctx=_body_ctx(parsed.recipient, parsed.sender, parsed.packet_id)
        )
        payload = json.loads(body.decode("ascii"))
        well_formed = isinstance(payload, dict) and canonical(payload) == body
    except RecursionError:
        raise PacketRejected(REASON_FORMAT) from None
    except (CryptoError, UnicodeDecodeError, ValueError):
        raise PacketRejected(REASON_CONTENT) from None
    if not well_formed:
        raise PacketRejected(REASON_CONTENT)
    return OpenedPacket(packet_id=parsed.packet_id, payload=payload)
