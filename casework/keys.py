"""Per-case keys: creation, wrapping for members and the recovery key, unwrapping.

Every ciphertext's context names the record and field it belongs to, so nothing here can be
moved between rows (see sealbox.boxes).

A case key is only ever sealed to a member's public key whose certificate holds
(accounts.keyring.trusted_box_key): a database writer who swaps in a key of their own gets no
wrap. Giving one member the key (wrap_case_key_for) refuses with UntrustedKey; making a new
key version for several members (case_key_create, case_key_rotate) leaves that member out and
logs their id, so the others, and intake, are not held up.

The rows that decide what is sealed to whom carry row certificates (core.certificates,
docs/crypto.md "Certified rows"): the case row (state, team, duress, reply credential, current
version), each key version, each wrap. Nothing is sealed to a key version, and no key is handed
on, unless they hold (UntrustedRecord otherwise): a database writer who inserts a version with
a key of their own, points the case at an older version, or plants a wrap so that a rotation
would hand the next version to someone, gets nothing.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

import sealbox
from accounts import permissions
from accounts.keyring import account_state_trusted, trusted_box_key, trusted_box_keys
from accounts.models import RecoveryKey, StaffMember
from audit.models import Action
from audit.services import audit_record
from casework.models import Case, CaseKey, CaseKeyWrap, Message
from core.certificates import certified, certify

logger = logging.getLogger(__name__)


class NoAccess(Exception):
    """This member holds no key for this case (or their session key is gone)."""


class UntrustedRecord(Exception):
    """A row that decides who reads this case (the case row, a key version, a wrap, a
    credential) fails its certificate: it was changed outside the application. Nothing is
    sealed because of it, and the request's transaction is rolled back; the console answers
    with a page that says so (casework.middleware), never with a guess."""

    def __init__(self, what: str, case_id: int | None) -> None:
        super().__init__(f"{what} of case {case_id}: certificate does not hold")
        self.what = what
        logger.error("%s of case %s: its certificate does not hold; nothing is sealed to it", what, case_id)


def case_checked(case: Case) -> Case:
    """``case`` itself, once its certificate holds (state, team, duress, reply credential,
    current key version). Raises UntrustedRecord otherwise."""
    if not certified(case):
        raise UntrustedRecord("case row", case.pk)
    return case


def case_trusted(case: Case) -> bool:
    return certified(case)


def case_recertify(locked: Case, **changes: object) -> None:
    """Change certified columns of ``locked`` (held with select_for_update) and certify the
    result. The certificate is checked first: certifying over a row a database writer changed
    would make their change count."""
    case_checked(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    certify(locked)
    fields = [("reply_credential" if name == "reply_credential_id" else name) for name in changes]
    locked.save(update_fields=[*fields, "certificate"])


class CaseNotFound(Exception):
    pass


def case_recertify_after_review(public_id: str, *, confirm: bool) -> dict[str, str]:
    """What the case row says now, and with ``confirm`` its certificate made again over it
    (manage.py case_recertify, after someone compared it with the audit log). Audited."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().filter(public_id=public_id).first()
        if locked is None:
            raise CaseNotFound
        shown = {
            "certificate holds": "yes" if certified(locked) else "no",
            "state": locked.status,
            "team": str(locked.team_id or "-"),
            "under duress since": str(locked.under_duress_since or "-"),
            "replies go to credential": str(locked.reply_credential_id or "-"),
            "current key version": str(locked.key_version),
        }
        if confirm and not certified(locked):
            certify(locked)
            locked.save(update_fields=["certificate"])
            audit_record(
                actor=None, action=Action.CASE_RECERTIFY, case=locked, details={"key_version": locked.key_version}
            )
            shown["certificate holds"] = "yes (certified now)"
    return shown


def case_key_checked(case_key: CaseKey) -> CaseKey:
    """``case_key`` once its certificate holds and it has not been replaced by a newer version.
    Raises UntrustedRecord otherwise: a planted version, or an older one the case was pointed
    back at (after deleting the newer one), gets nothing sealed to it."""
    if not certified(case_key) or case_key.retired:
        raise UntrustedRecord("case key version", case_key.case_id)
    return case_key


def sealable_public_key(case_key: CaseKey) -> bytes:
    """The public key of a case key version, for sealing: only a certified, current version's."""
    return bytes(case_key_checked(case_key).public_key)


def _wrap_certified(wrap: CaseKeyWrap) -> bool:
    return certified(wrap)


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
    case_key = CaseKey(case=case, version=version, public_key=pair.public_key)
    ctx = wrap_ctx(case, version)
    wraps = [
        CaseKeyWrap(
            case_key=case_key,
            member=member,
            sealed_private_key=sealbox.seal(public_key, pair.private_key, ctx=ctx, pad=False),
        )
        for member, public_key in trusted_box_keys(
            members,
            left_out="Staff member %s: public key certificate does not hold; no case key wrapped for them.",
            log=logger,
        )
    ]
    case_key.holders = CaseKey.holders_text(wrap.member_id for wrap in wraps if wrap.member_id is not None)
    certify(case_key)
    case_key.save(force_insert=True)
    for wrap in wraps:
        wrap.case_key = case_key  # now saved: the foreign key takes its id
    recovery = recovery_public_key()
    wraps.append(
        CaseKeyWrap(
            case_key=case_key,
            for_recovery=True,
            sealed_private_key=sealbox.seal(recovery, pair.private_key, ctx=ctx, pad=False),
        )
    )
    for wrap in wraps:
        certify(wrap)
    CaseKeyWrap.objects.bulk_create(wraps)
    return case_key


class RecoveryKeyMismatch(Exception):
    """The recovery public key in the database is not the one pinned in the configuration."""


def recovery_public_key() -> bytes:
    """The organisation recovery public key, checked against SP_RECOVERY_PUBLIC_KEY when that is
    set: someone able to write to the database must not be able to swap in a key of their own
    and so gain every new case."""
    row = RecoveryKey.objects.filter(slot=1).first()
    if row is None:
        raise RecoveryKeyMismatch
    stored = bytes(row.public_key)
    pinned = settings.SP_RECOVERY_PUBLIC_KEY
    # After a ceremony rotated the key, a pin that still names the key it replaced counts
    # until the operator updates it (a deploy check says so); the row's certificate, which
    # covers both keys, is then what stops a database writer.
    previous = bytes(row.previous_public_key) if row.previous_public_key is not None else b""
    if pinned and not hmac.compare_digest(pinned, stored) and not hmac.compare_digest(pinned, previous):
        raise RecoveryKeyMismatch
    if not certified(row):
        # Without a pin, the certificate is what stops a database writer's own key.
        logger.error("The stored recovery public key's certificate does not hold: nothing is sealed to it.")
        raise RecoveryKeyMismatch
    return stored


def case_private_keys(case: Case, member: StaffMember, member_private_key: bytes) -> dict[int, bytes]:
    """Every version of the case private key this member can open, by CaseKey id."""
    wraps = CaseKeyWrap.objects.filter(case_key__case=case, member=member).select_related("case_key")
    opened = {}
    for wrap in wraps:
        wrap.case_key.case = case
        if not _wrap_certified(wrap):
            logger.warning("staff member %s: a wrap of case %s is not certified; ignored", member.pk, case.pk)
            continue
        ctx = wrap_ctx(case, wrap.case_key.version)
        try:
            opened[wrap.case_key_id] = sealbox.unseal(member_private_key, bytes(wrap.sealed_private_key), ctx=ctx)
        except sealbox.CryptoError:
            # Changed in the database: the version is simply not opened (nothing hangs on it).
            logger.warning("staff member %s: a wrap of case %s does not open; ignored", member.pk, case.pk)
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
    # The version a writer calls current, a planted wrap, or a member whose role or active
    # state was changed outside the console proves nothing.
    case_checked(case)
    wrap.case_key.case = case
    case_key_checked(wrap.case_key)
    if not _wrap_certified(wrap) or not account_state_trusted(member):
        # The member's own wrap or account is what is wrong: to them this is no access at all.
        logger.warning("staff member %s: their wrap of case %s or their account is not certified", member.pk, case.pk)
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
    sealed_to = CaseKey.objects.filter(case=case, version=case.details_key_version).first()
    if sealed_to is None:  # details_key_version is not authority; a wrong one opens nothing
        return None
    private = opened.get(sealed_to.pk)
    if private is None:
        return None
    return sealbox.unseal(private, bytes(case.details_ct), ctx=details_ctx(case))


def details_reseal(case: Case, plaintext: bytes, under: CaseKey) -> None:
    """Seal the details to ``under`` (a newer version) and record which version holds them."""
    case.details_ct = sealbox.seal(sealable_public_key(under), plaintext, ctx=details_ctx(case))
    case.details_key_version = under.version
    case.save(update_fields=["details_ct", "details_key_version"])


def current_case_key(case: Case) -> CaseKey:
    """The version everything new is sealed to, once both the case row (which names it) and
    the version itself are certified. Raises UntrustedRecord otherwise.

    Before anything is sealed to it, every member the version was given to must still be
    allowed to hold the case's key (an active account whose certified state is a reader's, and
    not a logistics member on a case that is not verified). When one is not (an account
    disabled while a case could not be rotated, a role changed, a case that left the verified
    state while rows were hidden), a new version is made at once without them, so nothing new
    ever reaches a key someone who may no longer read the case kept."""
    case_checked(case)
    case_key = CaseKey.objects.get(case=case, version=case.key_version)
    case_key.case = case
    case_key_checked(case_key)
    barred = _holders_no_longer_allowed(case, case_key)
    if barred:
        case_key = _rotate_without_barred(case, case_key, barred)
    return case_key


def _holders_no_longer_allowed(case: Case, case_key: CaseKey) -> list[StaffMember]:
    verified = case.status == Case.Status.VERIFIED
    holders = list(StaffMember.objects.filter(pk__in=case_key.holder_ids))
    if not holders:
        return []
    allowed = {
        member.pk
        for member, _key in trusted_box_keys(
            holders, left_out="staff member %s: may no longer hold this case's key", log=logger
        )
    }
    return [
        member
        for member in holders
        if member.pk not in allowed or not permissions.can_hold_case_key(member, case_verified=verified)
    ]


def _rotate_without_barred(case: Case, case_key: CaseKey, barred: list[StaffMember]) -> CaseKey:
    gone = {member.pk for member in barred}
    logger.warning("case %s: holders %s may no longer read it; new key version before sealing", case.pk, sorted(gone))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        CaseKeyWrap.objects.filter(case_key__case=locked, member_id__in=gone).delete()
        keep = [member for member in current_holders(locked) if member.pk not in gone]
        new_key = case_key_rotate(locked, holders=keep)
        for member_id in sorted(gone):
            audit_record(
                actor=None,
                action=Action.CASE_MEMBER_REMOVE,
                case=locked,
                details={"member": member_id, "key_version": new_key.version, "reason": "no_longer_allowed"},
            )
    case.key_version, case.certificate = locked.key_version, locked.certificate
    new_key.case = case
    return new_key


def wrap_case_key_for(member: StaffMember, case_key: CaseKey, case_private_key: bytes) -> CaseKeyWrap:
    """Seal one version of the case private key to ``member``'s public key. Raises
    UntrustedKey, sealing nothing, when that key's certificate does not hold."""
    public_key = trusted_box_key(member)
    if public_key is None:
        raise UntrustedKey(member.pk)
    # An older, retired version may be given (the new member reads the history); a version
    # the application did not make may not.
    if not certified(case_key):
        raise UntrustedRecord("case key version", case_key.case_id)
    ctx = wrap_ctx(case_key.case, case_key.version)
    wrap = CaseKeyWrap(
        case_key=case_key,
        member=member,
        sealed_private_key=sealbox.seal(public_key, case_private_key, ctx=ctx, pad=False),
    )
    certify(wrap)
    wrap.save(force_insert=True)
    case_key.holders = CaseKey.holders_text([*case_key.holder_ids, member.pk])
    certify(case_key)  # checked just above
    case_key.save(update_fields=["holders", "certificate"])
    return wrap


def case_key_rotate(case: Case, *, holders: Iterable[StaffMember], certify_case: bool = True) -> CaseKey:
    """A new version for ``case``, wrapped for ``holders`` and the (pinned) recovery key, made
    current; every earlier version is retired (certified as such), so nothing is sealed to one
    again even if the case is pointed back at it. Whoever is not among ``holders`` cannot open
    anything sealed to it afterwards, nor can a holder whose public key is no longer trusted
    (left out by case_key_create). The caller holds the case row locked, so no message is
    sealed to the old version after.

    ``certify_case=False`` is for taking someone off a case whose row does not hold its
    certificate (disabling an account never waits on one): the new version is made and named
    current, but the case row is not certified over values a database writer may have changed,
    so the case stays refused."""
    if certify_case:
        case_checked(case)
    # Versions above the current one that the application did not make (planted) are dropped;
    # they cannot open anything of the case's and would only take the next number.
    planted = [
        key for key in CaseKey.objects.filter(case=case, version__gt=case.key_version) if not _certified_key(key, case)
    ]
    CaseKey.objects.filter(pk__in=[key.pk for key in planted]).delete()
    newest = CaseKey.objects.filter(case=case).order_by("-version").values_list("version", flat=True).first() or 0
    for old in CaseKey.objects.filter(case=case, retired=False):
        was_certified = _certified_key(old, case)
        old.retired = True
        if was_certified:  # never certify over a row that did not hold: it stays refused
            certify(old)
        old.save(update_fields=["retired", "certificate"])
    case_key = case_key_create(case, version=max(newest, case.key_version) + 1, members=holders)
    if certify_case:
        case_recertify(case, key_version=case_key.version)
    else:
        case.key_version = case_key.version
        case.save(update_fields=["key_version"])
    return case_key


def _newest_current_version(case: Case) -> int:
    for case_key in CaseKey.objects.filter(case=case, retired=False).order_by("-version"):
        if _certified_key(case_key, case):
            return case_key.version
    return case.key_version


def _certified_key(case_key: CaseKey, case: Case) -> bool:
    case_key.case = case
    return certified(case_key)


def current_holders(case: Case) -> list[StaffMember]:
    """Staff members the current key version was given to, from its certified holder list. A
    rotation gives the next version to exactly these (less whoever is being taken off): a wrap
    row a database writer planted counts for nothing, and one they hid for a moment does not
    take its member off the list. When the
    case row itself does not hold its certificate (its key version may have been pointed back
    at an older one), the newest version the application made and did not retire is used."""
    version = case.key_version if certified(case) else _newest_current_version(case)
    case_key = CaseKey.objects.filter(case=case, version=version).first()
    if case_key is None or not _certified_key(case_key, case):
        return []
    return list(StaffMember.objects.filter(pk__in=case_key.holder_ids).order_by("username"))


def case_private_keys_by_recovery(case: Case, recovery_private_key: bytes) -> dict[int, bytes]:
    """Every version of the case private key whose recovery wrap opens with
    ``recovery_private_key`` (a ceremony rebuilt it) and yields that version's own key pair, by
    CaseKey id. A version the application did not make, or a wrap that does not open to its
    version's public key (changed or planted in the database), is left out."""
    opened: dict[int, bytes] = {}
    wraps = CaseKeyWrap.objects.filter(case_key__case=case, for_recovery=True).select_related("case_key")
    for wrap in wraps:
        wrap.case_key.case = case
        if not certified(wrap.case_key) or not _wrap_certified(wrap):
            logger.warning("case %s: a recovery wrap or its key version is not certified; ignored", case.pk)
            continue
        try:
            private = sealbox.unseal(
                recovery_private_key, bytes(wrap.sealed_private_key), ctx=wrap_ctx(case, wrap.case_key.version)
            )
        except sealbox.CryptoError:
            logger.warning("case %s: a recovery wrap does not open with the recovery key; ignored", case.pk)
            continue
        if hmac.compare_digest(sealbox.KeyPair.from_private(private).public_key, bytes(wrap.case_key.public_key)):
            opened[wrap.case_key_id] = private
    return opened
