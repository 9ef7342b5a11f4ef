"""Writes for triage: moving a case between states, and editing the on-call rota."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys, teams
from casework.models import Case
from casework.sealed import Refused, holds_current_key, lock_case
from casework.services import case_revision_bump, case_state_changed
from triage.lifecycle import ClosingReason, State, transition_for
from triage.models import CaseStateChange, OnCallShift


class TransitionRefused(Refused):
    """The state change is not allowed; the message says why (shown to staff)."""


class ShiftRefused(Refused):
    pass


def case_transition(
    *,
    case: Case,
    member: StaffMember,
    to_state: str,
    reason: str = "",
    now: datetime | None = None,
    expected_revision: int | None = None,
    member_private_key: bytes | None = None,
) -> CaseStateChange:
    """Move ``case`` to ``to_state`` if the lifecycle allows it for ``member``'s role.
    ``expected_revision`` is the case revision the form was rendered with: if someone changed
    the case since, casework.sealed.EditConflict is raised and nothing changes.

    Case.status is updated with a plain UPDATE (its field keeps its original choices); the
    values written are checked here against triage.lifecycle.State.

    A case leaving the verified state loses its logistics readers with a key rotation
    (casework.services.case_state_changed); ``member_private_key`` lets the details be
    re-sealed under the new key version. A case entering vetting is given to its team's
    verifiers (casework.teams.vetting_started): with ``member_private_key`` at once, without it
    the keys are owed until a key holder hands them on."""
    with transaction.atomic():
        locked = lock_case(case)
        if not member.is_active or not holds_current_key(locked, member):
            raise TransitionRefused(_("Only someone who holds the case key can change its state."))
        case_revision_bump(locked, expected_revision=expected_revision)
        if to_state not in State.values:
            raise TransitionRefused(_("Unknown case state."))
        transition = transition_for(locked.status, to_state)
        if transition is None:
            raise TransitionRefused(
                _("A case cannot go from “%(from)s” to “%(to)s”.")
                % {"from": State(locked.status).label, "to": State(to_state).label}
            )
        if not transition.allowed(member):
            raise TransitionRefused(_("Your role may not make this change."))
        refusal = import_string(transition.guard)(locked) if transition.guard else None
        if refusal:
            raise TransitionRefused(refusal)
        if to_state == State.CLOSED:
            if reason not in ClosingReason.values:
                raise TransitionRefused(_("Choose why the case is closed."))
        elif reason:
            raise TransitionRefused(_("A reason is given only when closing a case."))
        change = CaseStateChange.objects.create(
            case=locked,
            from_state=locked.status,
            to_state=to_state,
            reason=reason,
            by=member,
            at=now or timezone.now(),
        )
        from_state = locked.status
        # The state decides who may be given the key (logistics, safe-house addresses): it is
        # certified with the case row, and a row changed outside the console is not moved on.
        keys.case_recertify(locked, status=to_state)
        if from_state == State.VERIFIED and to_state != State.VERIFIED:
            from evacuation.safehouses.services import case_address_keys_revoke

            case_address_keys_revoke(case=locked, actor=member, reason="left_verified")
        details = {"from": from_state, "to": to_state}
        if reason:
            details["reason"] = reason
        audit_record(actor=member, action=Action.CASE_TRANSITION, case=locked, details=details)
        case_state_changed(case=locked, actor=member, actor_private_key=member_private_key)
        if to_state == State.VETTING:
            # The team's verifiers read the case from now on: given the key by the member who
            # started vetting (who holds it), or owed it until a key holder hands it on.
            teams.vetting_started(case=locked, actor=member, actor_private_key=member_private_key)
            locked.refresh_from_db(fields=["revision"])
    case.status = to_state
    case.certificate = locked.certificate
    case.revision = locked.revision
    case.key_version, case.details_key_version = locked.key_version, locked.details_key_version
    return change


def shift_add(*, actor: StaffMember, member: StaffMember, starts_at: datetime, ends_at: datetime) -> OnCallShift:
    if not permissions.can_edit_rota(actor):
        raise ShiftRefused(_("Only a coordinator can edit the rota."))
    if not permissions.can_be_on_call(member):
        raise ShiftRefused(on_call_refused_message())
    if ends_at <= starts_at:
        raise ShiftRefused(_("A shift must end after it starts."))
    with transaction.atomic():
        shift = OnCallShift.objects.create(member=member, starts_at=starts_at, ends_at=ends_at)
        audit_record(actor=actor, action=Action.ROTA_CHANGE, details={"added": shift.pk, "member": member.pk})
    return shift


def shift_delete(*, actor: StaffMember, shift: OnCallShift) -> None:
    if not permissions.can_edit_rota(actor):
        raise ShiftRefused(_("Only a coordinator can edit the rota."))
    with transaction.atomic():
        audit_record(actor=actor, action=Action.ROTA_CHANGE, details={"removed": shift.pk, "member": shift.member_id})
        shift.delete()


def on_call_refused_message() -> str:
    return _("Only coordinators, caseworkers and verifiers can be on call: other roles do not see the case list.")


def on_call_members(now: datetime) -> list[StaffMember]:
    """Members whose shift covers ``now`` and who may be on call as they are now: a shift stops
    counting when its member is disabled or changes to a role that does not see the case list
    (accounts.permissions.can_be_on_call), however the shift got there."""
    ids = OnCallShift.objects.filter(starts_at__lte=now, ends_at__gt=now).values("member_id")
    members = StaffMember.objects.filter(pk__in=ids, is_active=True).order_by("pk")
    return [member for member in members if permissions.can_be_on_call(member)]
