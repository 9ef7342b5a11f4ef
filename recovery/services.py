"""The recovery ceremony: start, enter shares, perform the one action, cancel, expire.

The rebuilt recovery private key exists only inside ceremony_give_case_key and
ceremony_reshare_finish, for that one request; it is never stored, logged or put in a session.
Shares are sealed to the ceremony's key the moment they arrive (see recovery.models) and
deleted with the ceremony. Every step is audited, never with a share's words.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sealbox
from accounts import permissions
from accounts import services as account_services
from accounts.models import RecoveryKey, RecoveryShareSet, StaffMember
from accounts.services import SharePlan
from audit.models import Action
from audit.services import audit_record
from casework import services as case_services
from casework.models import Case
from casework.sealed import Refused, require
from core.certificates import certified, certify
from jobs.models import Job
from jobs.services import periodic_job
from recovery import rewrap
from recovery.models import Ceremony, CeremonyShare

logger = logging.getLogger(__name__)

CEREMONY_MINUTES = 30
EXPIRE_JOB = "recovery.expire"


class CeremonyRefused(Refused):
    """The ceremony step is not allowed or did not work; the message says why."""


def share_ctx(ceremony: Ceremony, index: int, entered_by: StaffMember) -> bytes:
    return sealbox.context("recovery.ceremony-share", str(ceremony.id), index, entered_by.pk)


def _may_take_part(actor: StaffMember) -> None:
    require(
        permissions.can_run_recovery(actor),
        _("Only a coordinator can take part in a recovery ceremony."),
        CeremonyRefused,
    )


def current_share_set() -> RecoveryShareSet | None:
    return account_services.recovery_share_set()


def threshold() -> int:
    """Shares needed: the share set's k, or 1 for a key still held by one person (SPRK1)."""
    share_set = current_share_set()
    return 1 if share_set is None else share_set.threshold


def ceremony_start(
    *,
    actor: StaffMember,
    purpose: str,
    case: Case | None = None,
    member: StaffMember | None = None,
    plan_threshold: int = 0,
    plan_holders: list[int | None] | None = None,
) -> tuple[Ceremony, bytes]:
    """A new ceremony and its private key (for the starter's session vault, nowhere else)."""
    _may_take_part(actor)
    ceremonies_expire()
    if not RecoveryKey.objects.filter(slot=1).exists():
        raise CeremonyRefused(_("The organisation has no recovery key yet."))
    if purpose == Ceremony.Purpose.CASE_ACCESS and (case is None or member is None):
        raise CeremonyRefused(_("Choose the case and the person who should get its key."))
    holders = plan_holders or []
    if purpose == Ceremony.Purpose.RESHARE and not (2 <= plan_threshold <= len(holders) <= sealbox.MAX_SHARES):
        raise CeremonyRefused(_("Choose how many shares there are and how many are needed."))
    pair = sealbox.KeyPair.generate()
    with transaction.atomic():
        ceremony = Ceremony(
            purpose=purpose,
            started_by=actor,
            expires_at=timezone.now() + timedelta(minutes=CEREMONY_MINUTES),
            public_key=pair.public_key,
            case=case,
            member=member,
            new_threshold=plan_threshold,
            new_count=len(holders),
            new_holders=RecoveryShareSet.holders_text(holders) if holders else "",
        )
        certify(ceremony)
        ceremony.save(force_insert=True)
        details: dict[str, object] = {"ceremony": str(ceremony.id), "purpose": purpose}
        if member is not None:
            details["member"] = member.pk
        audit_record(actor=actor, action=Action.RECOVERY_CEREMONY_START, case=case, details=details)
    return ceremony, pair.private_key


def ceremony_live(ceremony_id: uuid.UUID) -> Ceremony | None:
    """The ceremony if it exists, holds its certificate and has not expired."""
    ceremonies_expire()
    ceremony = Ceremony.objects.filter(pk=ceremony_id).select_related("case", "member", "started_by").first()
    if ceremony is None:
        return None
    if not certified(ceremony):
        logger.error("recovery ceremony %s: its certificate does not hold; nothing is sealed to it", ceremony.pk)
        return None
    return ceremony


def ceremonies_expire() -> int:
    expired = list(Ceremony.objects.filter(expires_at__lte=timezone.now()))
    for ceremony in expired:
        with transaction.atomic():
            deleted, _rows = Ceremony.objects.filter(pk=ceremony.pk).delete()
            if not deleted:  # another request expired it first
                continue
            audit_record(
                actor=None,
                action=Action.RECOVERY_CEREMONY_EXPIRE,
                case=ceremony.case,
                details={"ceremony": str(ceremony.id)},
            )
    return len(expired)


@periodic_job(EXPIRE_JOB, every_seconds=lambda: 5 * 60)
def ceremonies_expire_job(job: Job) -> None:
    """The worker deletes expired ceremonies with the shares sealed to them, whether or not
    anyone opens a recovery page again (at most five minutes after they expire)."""
    ceremonies_expire()


def share_enter(*, ceremony: Ceremony, actor: StaffMember, text: str) -> int:
    """Check one share and seal it to the ceremony's key; returns its number. Raises
    sealbox.ShareError naming only what is wrong (a typo, another set, entered already)."""
    _may_take_part(actor)
    share_set = current_share_set()
    if share_set is None:
        index, secret = 1, _single_key_checked(text)
    else:
        info = sealbox.share_info(text)
        if info.identifier != share_set.identifier or info.threshold != share_set.threshold:
            raise sealbox.ShareError("other_set", 1)
        index, secret = info.index, sealbox.normalise_share(text).encode()
    with transaction.atomic():
        locked = Ceremony.objects.select_for_update().filter(pk=ceremony.pk).first()
        if locked is None or not certified(locked) or locked.is_expired():
            raise CeremonyRefused(_("This ceremony has ended. Ask the coordinator to start a new one."))
        if CeremonyShare.objects.filter(ceremony=locked, index=index).exists():
            raise sealbox.ShareError("duplicate", 1)
        sealed = sealbox.seal(bytes(locked.public_key), secret, ctx=share_ctx(locked, index, actor))
        CeremonyShare.objects.create(ceremony=locked, index=index, entered_by=actor, sealed_share=sealed)
        audit_record(
            actor=actor,
            action=Action.RECOVERY_SHARE_ENTER,
            case=locked.case,
            details={"ceremony": str(locked.id), "share": index},
        )
    return index


def _single_key_checked(text: str) -> bytes:
    """A key still held by one person is entered whole (its SPRK1 string) as the one "share"."""
    try:
        private = sealbox.decode_recovery_key(text)
    except ValueError:
        raise sealbox.ShareError("typo", 1) from None
    return private


def ceremony_cancel(*, ceremony: Ceremony, actor: StaffMember) -> None:
    _may_take_part(actor)
    with transaction.atomic():
        deleted, _rows = Ceremony.objects.filter(pk=ceremony.pk).delete()
        if not deleted:
            return
        audit_record(
            actor=actor,
            action=Action.RECOVERY_CEREMONY_CANCEL,
            case=ceremony.case,
            details={"ceremony": str(ceremony.id)},
        )


def _recovered_key(ceremony: Ceremony, actor: StaffMember, ceremony_private_key: bytes) -> bytes:
    """The recovery private key rebuilt from the ceremony's shares, in memory only. Fewer than
    k shares, shares that do not rebuild the organisation's key, or a ceremony key that is not
    the starter's: CeremonyRefused, and the shares are dropped so the trustees can start again."""
    if actor.pk != ceremony.started_by_id:
        raise CeremonyRefused(_("Only the coordinator who started the ceremony can finish it."))
    stored = RecoveryKey.objects.filter(slot=1).first()
    if stored is None or not certified(stored):
        raise CeremonyRefused(_("The stored recovery key cannot be trusted; nothing was done."))
    rows = list(CeremonyShare.objects.filter(ceremony=ceremony).select_related("entered_by").order_by("entered_at"))
    needed = threshold()
    if len(rows) < needed:
        raise CeremonyRefused(_("Not enough shares yet: %(needed)s are needed.") % {"needed": needed})
    try:
        opened = [
            sealbox.unseal(
                ceremony_private_key, bytes(row.sealed_share), ctx=share_ctx(ceremony, row.index, row.entered_by)
            )
            for row in rows
        ]
    except sealbox.CryptoError:
        _refuse(ceremony, actor, "sealed")
        raise CeremonyRefused(_("The entered shares cannot be opened here. Start the ceremony again.")) from None
    if needed == 1:
        private = opened[0]
        if sealbox.KeyPair.from_private(private).public_key != bytes(stored.public_key):
            _refuse(ceremony, actor, "not_this_key")
            raise CeremonyRefused(_("This key does not belong to this organisation."))
        return private
    share_set = current_share_set()
    try:
        return sealbox.combine_recovery_shares(
            [text.decode() for text in opened],
            identifier=None if share_set is None else share_set.identifier,
            public_key=bytes(stored.public_key),
        )
    except (sealbox.ShareError, sealbox.NotThisKey):
        _refuse(ceremony, actor, "not_this_key")
        raise CeremonyRefused(
            _("These shares do not belong to this organisation's key. Their entries were cleared: enter them again.")
        ) from None


def _refuse(ceremony: Ceremony, actor: StaffMember, reason: str) -> None:
    with transaction.atomic():
        CeremonyShare.objects.filter(ceremony=ceremony).delete()
        audit_record(
            actor=actor,
            action=Action.RECOVERY_CEREMONY_REFUSED,
            case=ceremony.case,
            details={"ceremony": str(ceremony.id), "reason": reason},
        )


def ceremony_give_case_key(*, ceremony: Ceremony, actor: StaffMember, ceremony_private_key: bytes) -> int:
    """Give the ceremony's member every version of its case's key; returns how many."""
    _may_take_part(actor)
    if ceremony.purpose != Ceremony.Purpose.CASE_ACCESS or ceremony.case is None or ceremony.member is None:
        raise CeremonyRefused(_("This ceremony is not for giving a case's key."))
    private = _recovered_key(ceremony, actor, ceremony_private_key)
    with transaction.atomic():
        try:
            given = case_services.case_member_add_by_recovery(
                case=ceremony.case, actor=actor, member=ceremony.member, recovery_private_key=private
            )
        except case_services.MembershipRefused as exc:
            raise CeremonyRefused(str(exc) or _("The key could not be given.")) from None
        Ceremony.objects.filter(pk=ceremony.pk).delete()
        audit_record(
            actor=actor,
            action=Action.RECOVERY_CASE_KEY_GIVE,
            case=ceremony.case,
            details={"ceremony": str(ceremony.id), "member": ceremony.member.pk, "keys": given},
        )
    return given


def ceremony_reshare_plan(*, ceremony: Ceremony, actor: StaffMember, ceremony_private_key: bytes) -> SharePlan:
    """Check the shares rebuild the organisation's key, then a new key split as the ceremony
    says, to be shown to the new trustees (staff.handout) before ceremony_reshare_finish."""
    _may_take_part(actor)
    if ceremony.purpose != Ceremony.Purpose.RESHARE:
        raise CeremonyRefused(_("This ceremony is not for a new recovery key."))
    _recovered_key(ceremony, actor, ceremony_private_key)
    holders = RecoveryShareSet(holders=ceremony.new_holders).holder_ids
    return account_services.recovery_share_plan(threshold=ceremony.new_threshold, holders=holders)


def ceremony_reshare_finish(
    *, ceremony: Ceremony, actor: StaffMember, ceremony_private_key: bytes, plan: SharePlan
) -> dict[str, int]:
    """Every new trustee has their share: re-seal every recovery wrap to the new key, store it
    (certified, the old one kept as the one the pin may still name) and the new share set."""
    old_private = _recovered_key(ceremony, actor, ceremony_private_key)
    with transaction.atomic():
        row = RecoveryKey.objects.select_for_update().get(slot=1)
        if not certified(row):
            raise CeremonyRefused(_("The stored recovery key cannot be trusted; nothing was done."))
        counts = rewrap.rewrap_all(old_private, plan.public_key)
        row.previous_public_key = bytes(row.public_key)
        row.public_key = plan.public_key
        certify(row)
        row.save(update_fields=["public_key", "previous_public_key", "certificate"])
        account_services.recovery_share_set_write(plan, created_by=actor)
        Ceremony.objects.filter(pk=ceremony.pk).delete()
        details: dict[str, object] = {"ceremony": str(ceremony.id), "threshold": plan.threshold}
        details["count"] = len(plan.shares)
        details["rewrapped"] = sum(value for name, value in counts.items() if name != "not opened")
        details["not_opened"] = counts["not opened"]
        audit_record(actor=actor, action=Action.RECOVERY_KEY_ROTATE, details=details)
    return counts
