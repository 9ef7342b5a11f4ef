"""What the case page shows of this app: the plan's status and a link to the plan page.
casework.views._render_case merges this into its context. Nothing sealed is opened here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from casework.models import Case
from evacuation.plans.selectors import active_plan
from triage.lifecycle import State


def case_page_context(*, case: Case) -> dict[str, Any]:
    plan = active_plan(case)
    unavailable = ""
    if plan is None and case.status != State.VERIFIED:
        unavailable = _("An evacuation is planned only for a verified case. Finish vetting first.")
    return {"evac_plan": plan, "evac_plan_legs": plan.legs.count() if plan else 0, "evac_plan_unavailable": unavailable}
