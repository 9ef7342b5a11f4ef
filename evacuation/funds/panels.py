"""What the case page shows of money paid out. casework.views._render_case merges this into its
context, after the member's case keys were opened and the view was audited."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts import permissions
from accounts.models import StaffMember
from casework.models import Case
from evacuation.funds import selectors
from evacuation.funds.forms import BudgetForm, DecisionForm, EntryForm


def case_page_context(*, case: Case, member: StaffMember, opened: dict[int, bytes]) -> dict[str, Any]:
    summary = selectors.budget_summary(case)
    budget = summary.budget
    initial = {"amount": budget.amount, "currency": budget.currency, "revision": budget.revision} if budget else {}
    return {
        "funds_entries": selectors.case_entries(case, opened),
        "funds_summary": summary,
        "funds_form": EntryForm(initial={"currency": budget.currency} if budget else {}),
        "funds_budget_form": BudgetForm(initial=initial),
        "funds_decision_form": DecisionForm(),
        "funds_can_record": permissions.can_record_payment(member),
        "funds_approval_window_days": settings.SP_FUNDS_APPROVAL_WINDOW_DAYS,
    }
