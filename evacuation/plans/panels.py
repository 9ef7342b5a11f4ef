"""What the case page shows of this app: the plan's status and a link to the plan page.
casework.views._render_case merges this into its context. Nothing sealed is opened here."""

from __future__ import annotations

from typing import Any

from casework.models import Case
from evacuation.plans.selectors import active_plan


def case_page_context(*, case: Case) -> dict[str, Any]:
    plan = active_plan(case)
    return {"evac_plan": plan, "evac_plan_legs": plan.legs.count() if plan else 0}
