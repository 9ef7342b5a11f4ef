"""Whether a message was written by the application, not inserted by a database writer.

Every input to a message is public (the case key's and the person's public keys), so someone
who can write to the database alone could seal a message of their own to the person and insert
it as a staff reply ("come to this address"). Each message therefore carries proof of origin:

- a staff reply (real or in the cover conversation): an Ed25519 signature over the message's
  statement (sealbox.message_statement) by ``signed_by``: the author, or the coordinator who
  released a held reply. The signer's public key must carry a certificate made with the
  instance secret (accounts.keyring.trusted_signing_key);
- the person's messages, acknowledgements and the decoy: a keyed tag over the statement
  under a key derived from the instance secret (the server writes them while no staff member
  is involved, so no staff key can sign them);
- staff replies written before replies were signed: a tag under a separate "legacy" key,
  written once by migration casework 0005.

The instance secret is not in the database, so none of these can be made with the database
alone. What they do not stop is listed in docs/threat-model.md.
"""

from __future__ import annotations

import logging

from django.conf import settings

import sealbox
from accounts.keyring import trusted_signing_key
from accounts.models import StaffMember
from casework.models import Message

logger = logging.getLogger(__name__)


def statement(message: Message) -> bytes:
    return sealbox.message_statement(
        case_public_id=message.case.public_id,
        message_id=message.id.bytes,
        sender=message.sender,
        author_id=message.author_id,
        signer_id=message.signed_by_id,
        created_at=message.created_at,
        after_duress=message.after_duress,
        is_decoy=message.is_decoy,
        held=message.held,
        body_ct=bytes(message.body_ct),
    )


def _tag_key(purpose: bytes) -> bytes:
    return sealbox.server_subkey(settings.SP_PEPPER, purpose)


def message_sign(message: Message, *, signer: StaffMember, signing_key: bytes) -> None:
    """Sign a staff reply (before it is saved, or again after its body was re-encrypted)."""
    if message.sender != Message.Sender.STAFF:
        raise ValueError("only staff replies are signed")
    if sealbox.SigningKeyPair.from_seed(signing_key).public_key != bytes(signer.signing_public_key or b""):
        raise ValueError("this signing key is not the signer's")
    message.signed_by = signer
    message.server_tag = None
    message.signature = sealbox.sign(signing_key, statement(message))


def message_tag(message: Message) -> None:
    """Vouch for a message the server writes by itself (the person's, automatic, decoy)."""
    if message.sender == Message.Sender.STAFF:
        raise ValueError("staff replies are signed by their author, not tagged by the server")
    message.signed_by = None
    message.signature = None
    message.server_tag = sealbox.message_tag(_tag_key(sealbox.MESSAGE_TAG_KEY_PURPOSE), statement(message))


class SignerKeys:
    """Certified signing keys, looked up once per signer for one page of messages."""

    def __init__(self) -> None:
        self._keys: dict[int, bytes | None] = {}

    def get(self, signer: StaffMember) -> bytes | None:
        if signer.pk not in self._keys:
            self._keys[signer.pk] = trusted_signing_key(signer)
        return self._keys[signer.pk]


def message_authentic(message: Message, signers: SignerKeys | None = None) -> bool:
    """True if the message carries valid proof that the application wrote it."""
    if message.sender == Message.Sender.STAFF:
        return _staff_reply_authentic(message, signers or SignerKeys())
    tag = message.server_tag
    if not tag or message.signature or message.signed_by_id is not None:
        return False
    return sealbox.message_tag_valid(_tag_key(sealbox.MESSAGE_TAG_KEY_PURPOSE), statement(message), bytes(tag))


def _staff_reply_authentic(message: Message, signers: SignerKeys) -> bool:
    if message.signature is None:
        legacy = message.server_tag
        if not legacy:
            return False
        return sealbox.message_tag_valid(_tag_key(sealbox.LEGACY_TAG_KEY_PURPOSE), statement(message), bytes(legacy))
    signer = message.signed_by
    if signer is None:
        return False
    # Only the author signs a reply, except the coordinator who released it from being held.
    if signer.pk != message.author_id and (message.held or not signer.is_coordinator):
        return False
    public_key = signers.get(signer)
    if public_key is None:
        return False
    return sealbox.signature_valid(public_key, statement(message), bytes(message.signature))


def log_hidden(message: Message) -> None:
    """Say that a message was kept from the person, without anything that could be content."""
    logger.warning("A message failed its authenticity check and was not shown to the person (message %s).", message.pk)
