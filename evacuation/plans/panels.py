"""The evacuation plan section of the case page (casework.case_page): the active plan and its
legs, or why there is none yet. Nothing sealed is opened here. Registered in
PlansConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import case_page
from casework.case_page import Panel, PanelRequest, Section
from casework.lifecycle import State
from evacuation.plans.selectors import active_plan

PLAN = "plan"


def _plan(page: PanelRequest) -> Mapping[str, Any]:
    plan = active_plan(page.case)
    unavailable = ""
    if plan is None and page.case.status != State.VERIFIED:
        unavailable = _("An evacuation is planned only for a verified case. Finish vetting first.")
    return {"evac_plan": plan, "evac_plan_legs": plan.legs.count() if plan else 0, "evac_plan_unavailable": unavailable}


def register() -> None:
    case_page.register_section(Section(PLAN, gettext_lazy("Evacuation plan"), order=30))
    case_page.register_panel(Panel("evac_plan", "evac_plans/case_panel.html", _plan, 10, PLAN))
