"""What the case page shows of money paid out (casework.case_page): the money section, built
after the member's case keys were opened and the view was audited. Registered in
FundsConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember
from casework import case_page
from casework.case_page import Panel, PanelRequest, Section
from casework.models import Case
from evacuation.funds import selectors
from evacuation.funds.forms import BudgetForm, DecisionForm, EntryForm
from evacuation.funds.models import EntryStatus, LedgerEntry

MONEY = "money"


def _funds(page: PanelRequest) -> Mapping[str, Any]:
    summary = selectors.budget_summary(page.case)
    budget = summary.budget
    initial = {"amount": budget.amount, "currency": budget.currency, "revision": budget.revision} if budget else {}
    return {
        "funds_entries": selectors.case_entries(page.case, page.opened),
        "funds_summary": summary,
        "funds_form": page.returned_form("entry") or EntryForm(initial={"currency": budget.currency} if budget else {}),
        "funds_error": page.returned_error("entry") or page.returned_error("decision"),
        "funds_over_budget": page.returned_about("entry"),
        "funds_budget_form": page.returned_form("budget") or BudgetForm(initial=initial),
        "funds_budget_error": page.returned_error("budget"),
        "funds_budget_conflict": page.returned_about("budget"),
        "funds_decision_form": page.returned_form("decision") or DecisionForm(),
        "funds_decision_entry": page.returned_about("decision"),
        "funds_can_record": permissions.can_record_payment(page.member),
        "funds_approval_window_days": settings.SP_FUNDS_APPROVAL_WINDOW_DAYS,
    }


def _payment_to_approve(case: Case, member: StaffMember) -> bool:
    return (
        permissions.can_approve_payment(member)
        and LedgerEntry.objects.filter(case=case, status=EntryStatus.PENDING).exists()
    )


def register() -> None:
    case_page.register_section(Section(MONEY, _("Money paid out"), order=40))
    case_page.register_panel(Panel("funds", "funds/case_panel.html", _funds, 10, MONEY, attention=_payment_to_approve))
