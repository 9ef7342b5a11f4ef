"""Writes for the vetting checklist and verifiers' sign-offs (threat T3).

Notes and reasons are case content: sealed to the current case key version, each bound to its
record and field. Only someone holding the current case key, with a role that vets, may write
them; the session must prove it can open the key (the server cannot by itself).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sealbox
from accounts import permissions
from accounts.keyring import account_state_trusted, trusted_signing_key
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import hooks, keys
from casework.lifecycle import State
from casework.models import Case, CaseKeyWrap, CaseStateChange
from casework.sealed import Refused, lock_case, seal_text
from core.certificates import certified, certify
from vetting.models import CheckItem, SignOff, VettingCheck

# Who ticks and who signs off: accounts.permissions (can_tick_vetting_check, can_sign_off).
SIGN_OFF_ROLES = permissions.SIGN_OFF_ROLES
SIGN_OFFS_NEEDED = 2
logger = logging.getLogger(__name__)


class VettingRefused(Refused):
    """The vetting action is not allowed; the message says why (shown to staff)."""


def note_ctx(case: Case, item: str, member_id: int) -> bytes:
    return sealbox.context("vetting.check.note", case.public_id, item, member_id)


def reason_ctx(case: Case, sign_off_id: int, member_id: int) -> bytes:
    return sealbox.context("vetting.signoff.reason", case.public_id, sign_off_id, member_id)


def _locked_for_holder(case: Case, member: StaffMember, member_private_key: bytes) -> Case:
    """The case row locked, after checking ``member`` holds the current key version and their
    session opens it. Raises keys.NoAccess otherwise (the views answer 404)."""
    locked = lock_case(case)
    # Opens the current wrap itself: a wrap row that does not open (a database writer's) is
    # refused like none at all.
    keys.current_key_open(locked, member, member_private_key)
    return locked


def check_tick(*, case: Case, member: StaffMember, member_private_key: bytes, item: str, note: str) -> VettingCheck:
    """Tick a checklist item with a note (ticking it again replaces the note and the ticker)."""
    if not permissions.can_tick_vetting_check(member):
        raise VettingRefused(_("Your role may not tick the vetting checklist."))
    if item not in CheckItem.values:
        raise VettingRefused(_("Choose an item of the checklist."))
    with transaction.atomic():
        locked = _locked_for_holder(case, member, member_private_key)
        if locked.status == State.CLOSED:
            raise VettingRefused(_("The case is closed."))
        case_key = keys.current_case_key(locked)
        note_ct = seal_text(case_key, note, ctx=note_ctx(locked, item, member.pk))
        check, _created = VettingCheck.objects.update_or_create(
            case=locked,
            item=item,
            defaults={"ticked_by": member, "ticked_at": timezone.now(), "case_key": case_key, "note_ct": note_ct},
        )
        audit_record(actor=member, action=Action.VETTING_CHECK_TICK, case=locked, details={"item": item})
    return check


def vetting_round_started(case: Case) -> datetime | None:
    """When the case last entered the vetting state: sign-offs count only from then on, so a
    case reopened and vetted again needs two new sign-offs."""
    change = CaseStateChange.objects.filter(case=case, to_state=State.VETTING).order_by("-at", "-pk").first()
    return change.at if change else None


def sign_off_statement(case: Case, sign_off: SignOff, round_started: datetime) -> bytes:
    return sealbox.sign_off_statement(
        case_public_id=case.public_id,
        sign_off_id=sign_off.pk,
        verifier_id=sign_off.verifier_id,
        signed_at=sign_off.signed_at,
        round_started=round_started,
    )


def standing_sign_offs(case: Case) -> list[SignOff]:
    """Sign-offs that count: made in the current vetting round, not withdrawn, signed by the
    verifier with their certified signing key, by someone who is still active, still has a
    role that signs off (the account's certified state, not just its columns) and still holds
    a certified wrap of the current case key. A verifier disabled or taken off the case
    (possibly an infiltrator) no longer vouches for it, and a sign-off a database writer
    planted never did."""
    started = vetting_round_started(case)
    if started is None:
        return []
    current = Case.objects.get(pk=case.pk)
    # Given the current version (its certified holder list) and still holding a wrap of it: a
    # verifier taken off, however it happened, no longer vouches.
    holders = {member.pk for member in keys.current_holders(current)} & set(
        CaseKeyWrap.objects.filter(case_key__case=current, case_key__version=current.key_version).values_list(
            "member_id", flat=True
        )
    )
    candidates = SignOff.objects.filter(
        case=case,
        withdrawn_at__isnull=True,
        signed_at__gte=started,
        verifier__is_active=True,
        verifier__role__in=SIGN_OFF_ROLES,
        verifier_id__in=holders,
    ).select_related("verifier")
    return [sign_off for sign_off in candidates if _sign_off_proven(current, sign_off, started)]


def _sign_off_proven(case: Case, sign_off: SignOff, started: datetime) -> bool:
    verifier = sign_off.verifier
    public_key = trusted_signing_key(verifier)
    proven = (
        public_key is not None
        and certified(sign_off)  # still standing as the application last recorded it
        and account_state_trusted(verifier)
        and sign_off.signature is not None
        and sealbox.signature_valid(public_key, sign_off_statement(case, sign_off, started), bytes(sign_off.signature))
    )
    if not proven:
        logger.warning("sign-off %s on case %s: not signed by its verifier; it does not count", sign_off.pk, case.pk)
    return proven


def _withdrawn(sign_off: SignOff) -> None:
    """Withdraw and certify as withdrawn (withdrawing only ever takes away: certified whatever
    the row said before)."""
    was_certified = certified(sign_off)
    sign_off.withdrawn_at = timezone.now()
    if was_certified:  # a row that did not hold stays refused (and does not count either way)
        certify(sign_off)
    sign_off.save(update_fields=["withdrawn_at", "certificate"])


def new_round_on_entering_vetting(transitioned: hooks.Transitioned) -> None:
    """Registered with casework.hooks.transitioned: a case entering the vetting state starts a
    new round (sign_offs_retire_for_new_round)."""
    if transitioned.entered(State.VETTING):
        sign_offs_retire_for_new_round(case=transitioned.case)


def sign_offs_retire_for_new_round(*, case: Case) -> int:
    """A case entering the vetting state starts a new round: every sign-off still standing
    from an earlier one is withdrawn, certified as such, so that no earlier round's sign-offs
    can count again (not even if the round's start were taken back in the database). Run in
    the transition's transaction (new_round_on_entering_vetting)."""
    retired = 0
    for sign_off in SignOff.objects.filter(case=case, withdrawn_at__isnull=True):
        _withdrawn(sign_off)
        retired += 1
    return retired


def withdraw_on_taken_off(taken_off: hooks.MemberTakenOff) -> None:
    """Registered with casework.hooks.member_taken_off: a verifier taken off a case no longer
    vouches for it (sign_offs_withdraw_for_removed)."""
    sign_offs_withdraw_for_removed(
        case=taken_off.case, member=taken_off.member, actor=taken_off.actor, reason=taken_off.reason
    )


def sign_offs_withdraw_for_removed(*, case: Case, member: StaffMember, actor: StaffMember, reason: str) -> int:
    """Withdraw ``member``'s standing sign-offs on ``case``, each audited. Run when
    casework.services.case_member_remove and staff_disable (and casework.teams when a team
    change takes the member off the case) take them off, inside their transaction, with the
    case row locked (withdraw_on_taken_off)."""
    count = 0
    for sign_off in SignOff.objects.filter(case=case, verifier=member, withdrawn_at__isnull=True):
        _withdrawn(sign_off)
        audit_record(
            actor=actor,
            action=Action.VETTING_SIGN_OFF_WITHDRAW,
            case=case,
            details={"sign_off": sign_off.pk, "member": member.pk, "reason": reason},
        )
        count += 1
    return count


def sign_off_create(
    *, case: Case, member: StaffMember, member_private_key: bytes, signing_key: bytes, reason: str
) -> SignOff:
    """A verifier vouches for the case: the reason sealed to the case key, the sign-off
    signed with ``signing_key`` (the verifier's, from the session vault)."""
    if not permissions.can_sign_off(member):
        raise VettingRefused(_("Only a verifier or a coordinator can sign off a case."))
    with transaction.atomic():
        locked = _locked_for_holder(case, member, member_private_key)
        started = vetting_round_started(locked)
        if locked.status != State.VETTING or started is None:
            raise VettingRefused(_("A case can be signed off only while it is being vetted."))
        now = timezone.now()
        # Sign-offs left from an earlier vetting round no longer count; retire them.
        for stale in SignOff.objects.filter(case=locked, withdrawn_at__isnull=True, signed_at__lt=started):
            _withdrawn(stale)
        if SignOff.objects.filter(case=locked, verifier=member, withdrawn_at__isnull=True).exists():
            raise VettingRefused(_("You have already signed off this case; a second verifier must sign."))
        case_key = keys.current_case_key(locked)
        try:
            with transaction.atomic():
                sign_off = SignOff.objects.create(
                    case=locked, verifier=member, signed_at=now, case_key=case_key, reason_ct=b""
                )
        except IntegrityError:  # a second tab signed at the same moment
            raise VettingRefused(_("You have already signed off this case; a second verifier must sign.")) from None
        sign_off.reason_ct = seal_text(case_key, reason, ctx=reason_ctx(locked, sign_off.pk, member.pk))
        sign_off.signature = sealbox.sign(signing_key, sign_off_statement(locked, sign_off, started))
        certify(sign_off)  # standing
        sign_off.save(update_fields=["reason_ct", "signature", "certificate"])
        audit_record(actor=member, action=Action.VETTING_SIGN_OFF, case=locked, details={"sign_off": sign_off.pk})
    return sign_off


def sign_off_withdraw(*, case: Case, member: StaffMember, sign_off_id: int) -> SignOff:
    """A verifier takes back their own sign-off, while the case is still being vetted."""
    with transaction.atomic():
        locked = lock_case(case)
        sign_off = SignOff.objects.filter(
            pk=sign_off_id, case=locked, verifier=member, withdrawn_at__isnull=True
        ).first()
        if sign_off is None:
            raise SignOff.DoesNotExist
        if locked.status != State.VETTING:
            raise VettingRefused(_("The case is no longer being vetted: the sign-off stays."))
        _withdrawn(sign_off)
        audit_record(
            actor=member, action=Action.VETTING_SIGN_OFF_WITHDRAW, case=locked, details={"sign_off": sign_off.pk}
        )
    return sign_off


def verified_guard(asked: hooks.TransitionAsked) -> str | None:
    """Registered with casework.hooks.transition_guards: a case is marked verified only once
    two different verifiers signed off (verification_refusal)."""
    return verification_refusal(asked.case) if asked.to_state == State.VERIFIED else None


def verification_refusal(case: Case) -> str | None:
    """Why the case may not be marked verified yet, or None. Asked by
    casework.lifecycle.case_transition with the case row locked (verified_guard)."""
    verifiers = {sign_off.verifier_id for sign_off in standing_sign_offs(case)}
    if len(verifiers) >= SIGN_OFFS_NEEDED:
        return None
    return _(
        "Two different verifiers must sign off before the case is marked verified "
        "(signed so far: %(count)d of %(needed)d)."
    ) % {"count": len(verifiers), "needed": SIGN_OFFS_NEEDED}
