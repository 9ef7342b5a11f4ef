"""Writes for triage: editing the on-call rota (moving a case between states is
casework.lifecycle.case_transition)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record

# Temporary: moved to casework.lifecycle; re-exported for branches not merged yet (the
# integrator deletes this line).
from casework.lifecycle import TransitionRefused, case_transition  # noqa: F401
from triage.models import OnCallShift


class ShiftRefused(ValueError):
    pass


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
