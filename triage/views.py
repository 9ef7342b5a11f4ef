"""Console views for triage: changing a case's state, and the on-call rota."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import OnCallShift
from casework import lifecycle
from casework.access import case_for_member
from casework.case_page import case_url
from casework.forms import EDIT_CONFLICT_MESSAGE
from casework.lifecycle import ClosingReason, State, TransitionRefused, state_label
from casework.models import Case, CaseStateChange
from casework.sealed import save_edit
from triage import services
from triage.forms import ShiftForm, TransitionForm
from triage.panels import STATE


@staff_required
@require_POST
def case_transition(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = TransitionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            conflict = save_edit(
                form,
                lambda revision: lifecycle.case_transition(
                    case=case,
                    member=member,
                    to_state=form.cleaned_data["to_state"],
                    reason=form.cleaned_data["reason"],
                    expected_revision=revision,
                    member_private_key=staff_keys(request).private_key,
                ),
            )
        except TransitionRefused as refused:
            error = str(refused)
        else:
            if conflict:
                return _transition_conflict(request, case, form, conflict.revision)
            messages.success(
                request, _("Case closed.") if form.cleaned_data["to_state"] == State.CLOSED else _("State changed.")
            )
            return redirect(case_url(case.public_id, STATE))
    elif "revision" in form.errors:
        error = str(form.errors["revision"][0])
    elif "confirm_close" in form.errors:
        error = str(form.errors["confirm_close"][0])
    return render(request, "triage/transition_refused.html", {"case": case, "form": form, "error": error}, status=400)


def _transition_conflict(request: HttpRequest, case: Case, form: TransitionForm, current: int) -> HttpResponse:
    """Someone changed the case since the page was loaded: show its state now and what was
    asked for, ready to be sent again against the current revision."""
    case.refresh_from_db(fields=["status", "revision"])
    last = CaseStateChange.objects.filter(case=case).select_related("by").order_by("-at", "-pk").first()
    context = {
        "case": case,
        "conflict": EDIT_CONFLICT_MESSAGE,
        "last_change": last,
        "to_state": form.cleaned_data["to_state"],
        "to_label": state_label(form.cleaned_data["to_state"]),
        "reason": form.cleaned_data["reason"],
        "reasons": ClosingReason.choices,
        "revision": current,
    }
    return render(request, "triage/transition_refused.html", context, status=409)


def _rota(request: HttpRequest, form: ShiftForm, status: int = 200, error: str = "") -> HttpResponse:
    now = timezone.now()
    shifts = OnCallShift.objects.filter(ends_at__gt=now).select_related("member")[:200]
    # A shift whose member was disabled or changed role stays listed, marked, and is not used.
    rows = [(shift, permissions.can_be_on_call(shift.member)) for shift in shifts]
    context = {"form": form, "rows": rows, "now": now, "time_zone": settings.TIME_ZONE, "error": error}
    return render(request, "triage/rota.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def rota(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _rota(request, ShiftForm())
    form = ShiftForm(request.POST)
    if not form.is_valid():
        return _rota(request, form, status=400)
    try:
        services.shift_add(actor=staff_member(request), **form.cleaned_data)
    except services.ShiftRefused as refused:
        return _rota(request, form, status=400, error=str(refused))
    return redirect("triage:rota")


@coordinator_required
@require_POST
def rota_delete(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = OnCallShift.objects.filter(pk=shift_id).first()
    if shift is None:
        raise Http404
    services.shift_delete(actor=staff_member(request), shift=shift)
    return redirect("triage:rota")
