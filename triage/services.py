"""Writes for triage: editing the on-call rota (moving a case between states is
casework.lifecycle.case_transition)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import OnCallShift, StaffMember
from audit.models import Action
from audit.services import audit_record
from casework.sealed import Refused


class ShiftRefused(Refused):
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
