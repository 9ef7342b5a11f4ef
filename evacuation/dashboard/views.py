"""The coordinator dashboard: counts across all cases, for coordinators only (403 for others),
audited. Built from plaintext columns alone: it opens no case key and decrypts nothing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import coordinator_required, staff_member
from evacuation.dashboard import charts, selectors, services


@coordinator_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    services.dashboard_viewed(actor=member)
    now = timezone.now()
    context = {
        "funnel": charts.bar_rows(selectors.case_funnel()),
        "checkins": selectors.overdue_checkins(now),
        "houses": charts.occupancy_rows(selectors.occupancy()),
        "money": charts.money_charts(selectors.money_by_month(today=timezone.localdate())),
        "fates": charts.bar_rows(selectors.fate_counts()),
        "now": now,
    }
    return render(request, "dashboard/dashboard.html", context)
