"""Console views for money paid out.

Case-scoped views fetch the case through casework.access.case_for_member (404 for missing and
not-yours alike), then check the role (403). The report and the CSV export are for coordinators
only (403 for others); both are audited before anything is shown or sent.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.access import case_for_member

# The case page with this app's forms in it, so a refused form is shown again in place.
from casework.case_page import PanelForm, case_url, render_case_page
from casework.models import Case
from casework.sealed import Refused, save_edit
from evacuation.funds import selectors, services
from evacuation.funds.forms import BudgetForm, DecisionForm, EntryEditForm, EntryForm, ReportFilterForm
from evacuation.funds.models import LedgerEntry
from evacuation.funds.panels import MONEY

CSV_HEADER = ["case", "category", "month", "currency", "amount", "status"]


def _to_case(case: Case) -> HttpResponse:
    return redirect(case_url(case.public_id, MONEY))


def _private_key(request: HttpRequest) -> bytes:
    return staff_keys(request).private_key


def _entry_input(data: dict[str, Any]) -> services.EntryInput:
    return services.EntryInput(
        category=data["category"],
        amount=data["amount"],
        currency=data["currency"],
        paid_on=data["paid_on"],
        payee=data["payee"],
    )


def _case_page(request: HttpRequest, case: Case, status: int, returned: PanelForm) -> HttpResponse:
    return render_case_page(request, case, failed_panel="funds", form=returned, status=status)


@staff_required
@require_POST
def entry_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_record_payment(member):
        raise PermissionDenied
    form = EntryForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, 400, PanelForm("entry", form))
    try:
        services.entry_create(
            case=case,
            actor=member,
            actor_private_key=_private_key(request),
            data=_entry_input(form.cleaned_data),
            confirm_over_budget=form.cleaned_data["confirm_over_budget"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _case_page(request, case, 400, PanelForm("entry", form, error=str(refused)))
    except services.OverBudget as over:
        form.ask_to_confirm_over_budget()
        return _case_page(request, case, 409, PanelForm("entry", form, about=over))
    return _to_case(case)


def _entry_on_case(case: Case, entry_id: uuid.UUID) -> LedgerEntry:
    entry = selectors.entry_on_case(case, entry_id)
    if entry is None:
        raise Http404
    return entry


def _opened(case: Case, member: StaffMember, request: HttpRequest) -> dict[int, bytes]:
    try:
        return keys.case_private_keys(case, member, _private_key(request))
    except keys.NoAccess:
        raise Http404 from None


def _render_edit(
    request: HttpRequest, case: Case, entry: LedgerEntry, form: EntryEditForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    opened = _opened(case, staff_member(request), request)
    context = {
        "case": case,
        "entry": selectors.open_entry(entry, opened),
        "form": form,
        "conflict": None,
        "error": "",
        "over_budget": None,
        **extra,
    }
    return render(request, "funds/entry_edit.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, public_id: str, entry_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    entry = _entry_on_case(case, entry_id)
    if not permissions.can_record_payment(member):
        raise PermissionDenied
    if request.method == "GET":
        opened = _opened(case, member, request)
        with transaction.atomic():  # committed before the payee text is decrypted
            audit_record(actor=member, action=Action.CASE_VIEW, case=case, details={"funds_entry": str(entry.pk)})
        view = selectors.open_entry(entry, opened)
        if view.payee is None:
            raise Http404
        initial = {
            "category": entry.category,
            "amount": entry.amount,
            "currency": entry.currency,
            "paid_on": entry.paid_on,
            "payee": view.payee,
            "revision": entry.revision,
        }
        return _render_edit(request, case, entry, EntryEditForm(initial=initial))
    form = EntryEditForm(request.POST)
    if not form.is_valid():
        return _render_edit(request, case, entry, form, status=400)
    data = form.cleaned_data
    try:
        conflict = save_edit(
            form,
            lambda revision: services.entry_edit(
                entry=entry,
                actor=member,
                actor_private_key=_private_key(request),
                data=_entry_input(data),
                expected_revision=revision,
                confirm_over_budget=data["confirm_over_budget"],
            ),
            # A confirmation to go beyond the budget was for the version it was given on.
            forget=["confirm_over_budget"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_edit(request, case, entry, form, status=400, error=str(refused))
    except services.OverBudget as over:
        form.ask_to_confirm_over_budget()
        return _render_edit(request, case, entry, form, status=409, over_budget=over)
    if conflict:
        entry.refresh_from_db()
        return _render_edit(request, case, entry, form, status=409, conflict=conflict)
    return _to_case(case)


@coordinator_required
@require_POST
def entry_decide(request: HttpRequest, public_id: str, entry_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    entry = _entry_on_case(case, entry_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, 400, PanelForm("decision", form, about=entry.pk))
    try:
        services.entry_decide(
            entry=entry,
            actor=member,
            actor_private_key=_private_key(request),
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _case_page(request, case, 400, PanelForm("decision", form, error=str(refused), about=entry.pk))
    return _to_case(case)


@coordinator_required
@require_POST
def budget(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, 400, PanelForm("budget", form))
    try:
        conflict = save_edit(
            form,
            lambda revision: services.budget_set(
                case=case,
                actor=member,
                actor_private_key=_private_key(request),
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
                expected_revision=revision,
            ),
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _case_page(request, case, 400, PanelForm("budget", form, error=str(refused)))
    if conflict:
        return _case_page(request, case, 409, PanelForm("budget", form, about=conflict))
    return _to_case(case)


def _year(request: HttpRequest) -> tuple[ReportFilterForm, int | None]:
    form = ReportFilterForm(request.GET or None)
    year = form.cleaned_data["year"] if form.is_bound and form.is_valid() else None
    return form, year


@coordinator_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    form, year = _year(request)
    services.report_viewed(actor=member)
    context = {
        "form": form,
        "year": year,
        "rows": selectors.report_by_category_and_month(year=year),
        "waiting": list(selectors.waiting_for(member)[:200]),
    }
    return render(request, "funds/report.html", context, status=400 if form.errors else 200)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@coordinator_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponseBase:
    member = staff_member(request)
    form, year = _year(request)
    if form.errors:
        return render(request, "funds/report.html", {"form": form, "rows": [], "waiting": []}, status=400)
    entries = selectors.export_rows(year=year)
    services.export_recorded(actor=member, rows=entries.count())
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        for cells in selectors.csv_lines(entries):
            yield writer.writerow(cells)

    name = f"money-paid-out-{year or 'all'}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
