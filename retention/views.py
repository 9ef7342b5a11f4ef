"""Console views of retention: the policies page, and the hold and shred-now forms of a case.

Who may use them is decided in accounts.permissions (can_set_retention, can_hold_case,
can_shred_case); a case is fetched through casework.access.case_for_member (404 for missing
and not-yours alike). Every change is audited by the service it calls."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_member, staff_required
from casework.access import case_for_member
from casework.case_page import NOT_DONE, PanelForm, Problem, case_url, render_case_page
from casework.lifecycle import ClosingReason
from casework.models import Case
from casework.panels import STATE
from retention import policies
from retention.forms import HoldForm, PoliciesForm, ShredNowForm

PANEL = "retention"


@coordinator_required
@require_http_methods(["GET", "POST"])
def policies_page(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    if not permissions.can_set_retention(member):
        raise PermissionDenied
    current = policies.policies_in_force()
    form = PoliciesForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        changed = 0
        for reason in ClosingReason.values:
            wanted = form.cleaned_data[reason]
            if wanted != current[reason]:
                policies.policy_set(reason=reason, keep_days=wanted, actor=member)
                changed += 1
        messages.success(request, _("Saved. Policies changed: %(count)s.") % {"count": changed})
        return redirect("retention:policies")
    shortest = policies.shortest_retention_period()
    untrusted = [ClosingReason(reason).label for reason in policies.policies_untrusted()]
    context = {"form": form, "shortest_days": shortest.days if shortest else None, "untrusted": untrusted}
    return render(request, "retention/policies.html", context, status=400 if form.is_bound else 200)


def _again(request: HttpRequest, case: Case, name: str, form: object = None, error: str = "") -> HttpResponse:
    problem = Problem(NOT_DONE, PANEL)
    returned = PanelForm(name, form, error=error)
    return render_case_page(request, case, failed_panel=PANEL, form=returned, status=400, problem=problem)


@staff_required
@require_POST
def hold(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_hold_case(member):
        raise PermissionDenied
    on_hold = request.POST.get("on_hold") == "1"
    form = HoldForm(request.POST)
    if on_hold and not form.is_valid():
        return _again(request, case, "hold", form)
    try:
        policies.hold_set(case=case, actor=member, on_hold=on_hold, reason=form.data.get("reason", ""))
    except policies.RetentionRefused:
        return _again(request, case, "hold", error=_("This could not be done. Reload the page and try again."))
    return redirect(case_url(case.public_id, STATE))


@staff_required
@require_POST
def shred_now(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_shred_case(member):
        raise PermissionDenied
    form = ShredNowForm(request.POST)
    if not form.is_valid():
        return _again(request, case, "shred", form)
    try:
        policies.case_shred_now(case=case, actor=member)
    except policies.RetentionRefused:
        error = _("Only a closed case that is not on hold can be shredded.")
        return _again(request, case, "shred", error=error)
    messages.success(request, _("Case %(case)s was shredded.") % {"case": case.public_id})
    return redirect("casework:inbox")
