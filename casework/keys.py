"""Per-case keys: creation, wrapping for members and the recovery key, unwrapping.

Every ciphertext's context names the record and field it belongs to, so nothing here can be
moved between rows (see sealbox.boxes).

A case key is only ever sealed to a member's public key whose certificate holds
(accounts.keyring.trusted_box_key): a database writer who swaps in a key of their own gets no
wrap. Giving one member the key (wrap_case_key_for) refuses with UntrustedKey; making a new
key version for several members (case_key_create, case_key_rotate) leaves that member out and
logs their id, so the others, and intake, are not held up.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings

import sealbox
from accounts.keyring import trusted_box_key
from accounts.models import RecoveryKey, StaffMember
from casework.models import Case, CaseKey, CaseKeyWrap, Message

logger = logging.getLogger(__name__)


class NoAccess(Exception):
    """This member holds no key for this case (or their session key is gone)."""


class UntrustedKey(Exception):
    """This member's public key has no valid certificate: nothing is sealed to it."""

    def __init__(self, member_id: int) -> None:
        super().__init__(f"staff member {member_id}: public key certificate does not hold")
        self.member_id = member_id


def wrap_ctx(case: Case, version: int) -> bytes:
    return sealbox.context("case.wrap", case.public_id, version)


def details_ctx(case: Case) -> bytes:
    return sealbox.context("case.details", case.public_id)


def message_key_ctx(message_id: uuid.UUID) -> bytes:
    return sealbox.context("message.key", message_id.bytes)


def message_body_ctx(message: Message) -> bytes:
    """Binds the body to everything shown beside it: changing the case, the sender, the author
    or a duress, decoy or held flag in the database makes the message fail to open."""
    return sealbox.context(
        "message.body",
        message.id.bytes,
        message.case.public_id,
        message.sender,
        str(message.author_id or ""),
        "after-duress" if message.after_duress else "-",
        "decoy" if message.is_decoy else "-",
        # Appended only when set, so bodies written before the flag existed still open;
        # releasing a held reply re-encrypts its body without it.
        *(["held"] if message.held else []),
    )


def attachment_ctx(field: str, attachment_id: uuid.UUID) -> bytes:
    return sealbox.context(f"attachment.{field}", attachment_id.bytes)


def case_key_create(case: Case, *, version: int, members: Iterable[StaffMember]) -> CaseKey:
    """A fresh key pair for ``case``, wrapped for ``members`` and the recovery key, then
    forgotten: after this returns the private key exists only in its wraps.
    Members whose public key is not trusted are left out (logged by id only)."""
    pair = sealbox.KeyPair.generate()
    case_key = CaseKey.objects.create(case=case, version=version, public_key=pair.public_key)
    ctx = wrap_ctx(case, version)
    wraps = []
    for member in members:
        public_key = trusted_box_key(member)
        if public_key is None:
            logger.warning(
                "Staff member %s: public key certificate does not hold; no case key wrapped for them.", member.pk
            )
            continue
        wraps.append(
            CaseKeyWrap(
                case_key=case_key,
                member=member,
                sealed_private_key=sealbox.seal(public_key, pair.private_key, ctx=ctx),
            )
        )
    recovery = recovery_public_key()
    wraps.append(
        CaseKeyWrap(
            case_key=case_key,
            for_recovery=True,
            sealed_private_key=sealbox.seal(recovery, pair.private_key, ctx=ctx),
        )
    )
    CaseKeyWrap.objects.bulk_create(wraps)
    return case_key


class RecoveryKeyMismatch(Exception):
    """The recovery public key in the database is not the one pinned in the configuration."""


def recovery_public_key() -> bytes:
    """The organisation recovery public key, checked against SP_RECOVERY_PUBLIC_KEY when that is
    set: someone able to write to the database must not be able to swap in a key of their own
    and so gain every new case."""
    stored = bytes(RecoveryKey.objects.get().public_key)
    pinned = settings.SP_RECOVERY_PUBLIC_KEY
    if pinned and not hmac.compare_digest(pinned, stored):
        raise RecoveryKeyMismatch
    return stored


def case_private_keys(case: Case, member: StaffMember, member_private_key: bytes) -> dict[int, bytes]:
    """Every version of the case private key this member can open, by CaseKey id."""
    wraps = CaseKeyWrap.objects.filter(case_key__case=case, member=member).select_related("case_key")
    opened = {}
    for wrap in wraps:
        ctx = wrap_ctx(case, wrap.case_key.version)
        opened[wrap.case_key_id] = sealbox.unseal(member_private_key, bytes(wrap.sealed_private_key), ctx=ctx)
    if not opened:
        raise NoAccess
    return opened


def current_key_open(case: Case, member: StaffMember, member_private_key: bytes) -> bytes:
    """The current case private key, opened with ``member``'s own private key: the proof a
    writer holds the case key. A wrap row alone proves nothing (a database writer can insert
    one), so a missing wrap and one that does not open both raise NoAccess."""
    wrap = (
        CaseKeyWrap.objects.filter(case_key__case=case, case_key__version=case.key_version, member=member)
        .select_related("case_key")
        .first()
    )
    if wrap is None or not member.is_active:
        raise NoAccess
    try:
        private = sealbox.unseal(
            member_private_key, bytes(wrap.sealed_private_key), ctx=wrap_ctx(case, case.key_version)
        )
    except sealbox.CryptoError:
        private = None
    # Anyone can seal *some* key to a member's public key; only the case's own opens as its pair.
    if private is None or not hmac.compare_digest(
        sealbox.KeyPair.from_private(private).public_key, bytes(wrap.case_key.public_key)
    ):
        logger.warning("staff member %s: their wrap of the current case key does not open to it", member.pk)
        raise NoAccess
    return private


def details_open(case: Case, opened: dict[int, bytes]) -> bytes | None:
    """The case details in plaintext, if ``opened`` (case private keys by CaseKey id) holds the
    version they are sealed under; None otherwise."""
    sealed_to = CaseKey.objects.get(case=case, version=case.details_key_version)
    private = opened.get(sealed_to.pk)
    if private is None:
        return None
    return sealbox.unseal(private, bytes(case.details_ct), ctx=details_ctx(case))


def details_reseal(case: Case, plaintext: bytes, under: CaseKey) -> None:
    """Seal the details to ``under`` (a newer version) and record which version holds them."""
    case.details_ct = sealbox.seal(bytes(under.public_key), plaintext, ctx=details_ctx(case))
    case.details_key_version = under.version
    case.save(update_fields=["details_ct", "details_key_version"])


def current_case_key(case: Case) -> CaseKey:
    return CaseKey.objects.get(case=case, version=case.key_version)


def wrap_case_key_for(member: StaffMember, case_key: CaseKey, case_private_key: bytes) -> CaseKeyWrap:
    """Seal one version of the case private key to ``member``'s public key. Raises
    UntrustedKey, sealing nothing, when that key's certificate does not hold."""
    public_key = trusted_box_key(member)
    if public_key is None:
        raise UntrustedKey(member.pk)
    ctx = wrap_ctx(case_key.case, case_key.version)
    return CaseKeyWrap.objects.create(
        case_key=case_key,
        member=member,
        sealed_private_key=sealbox.seal(public_key, case_private_key, ctx=ctx),
    )


def case_key_rotate(case: Case, *, holders: Iterable[StaffMember]) -> CaseKey:
    """A new version for ``case``, wrapped for ``holders`` and the (pinned) recovery key, made
    current. Whoever is not among ``holders`` cannot open anything sealed to it afterwards, nor
    can a holder whose public key is no longer trusted (left out by case_key_create).
    The caller holds the case row locked, so no message is sealed to the old version after."""
    case_key = case_key_create(case, version=case.key_version + 1, members=holders)
    case.key_version = case_key.version
    case.save(update_fields=["key_version"])
    return case_key


def current_holders(case: Case) -> list[StaffMember]:
    """Staff members holding a wrap of the current key version."""
    return list(
        StaffMember.objects.filter(wraps__case_key__case=case, wraps__case_key__version=case.key_version).order_by(
            "username"
        )
    )
