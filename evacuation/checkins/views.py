"""Console views: the case team (caseworkers and coordinators holding the case key) sets the
check-in schedule and the fate status, and acknowledges a missed check-in. Every view fetches the case through
casework.access.case_for_member (404 for missing and not-yours alike)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.access import staff_keys, staff_member, staff_required
from casework import keys
from casework.access import case_for_member
from casework.case_page import PanelForm, case_url, render_case_page
from casework.models import Case
from casework.sealed import Refused
from evacuation.checkins import services
from evacuation.checkins.forms import FateForm, ScheduleForm
from evacuation.checkins.panels import CHECKINS


def _to_panel(case: Case) -> HttpResponse:
    return redirect(case_url(case.public_id, CHECKINS))


def _again(request: HttpRequest, case: Case, returned: PanelForm) -> HttpResponse:
    return render_case_page(request, case, failed_panel="checkins", form=returned)


@staff_required
@require_POST
def schedule_set(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_work_case(member):
        raise PermissionDenied
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _again(request, case, PanelForm("schedule", form))
    data = form.cleaned_data
    try:
        services.schedule_set(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            interval_hours=data["interval_hours"],
            grace_minutes=data["grace_minutes"],
            active=data["active"],
            partner_address=data["partner_address"],
            partner_reference=data["partner_reference"],
            partner_language=data["partner_language"],
        )
    except keys.NoAccess:
        raise Http404 from None
    return _to_panel(case)


@staff_required
@require_POST
def acknowledge(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_work_case(member):
        raise PermissionDenied
    try:
        services.escalation_acknowledge(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _again(request, case, PanelForm("acknowledge", error=str(refused)))
    return _to_panel(case)


@staff_required
@require_POST
def fate_set(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_work_case(member):
        raise PermissionDenied
    form = FateForm(request.POST)
    if not form.is_valid():
        return _again(request, case, PanelForm("fate", form))
    try:
        services.fate_set(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            status=form.cleaned_data["status"],
            information=form.cleaned_data["information"],
        )
    except keys.NoAccess:
        raise Http404 from None
    return _to_panel(case)
