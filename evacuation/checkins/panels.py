"""The check-ins section of the case page (casework.case_page): the schedule and its form, an
escalation in progress (with the button to acknowledge it), recent check-ins and the fate
status history. Registered in CheckinsConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember
from casework import case_page
from casework.case_page import Panel, PanelRequest, Section
from casework.models import Case
from evacuation.checkins import selectors
from evacuation.checkins.forms import FateForm, ScheduleForm, schedule_initial

CHECKINS = "checkins"


def _schedule_form(case: Case) -> ScheduleForm:
    schedule = selectors.schedule_for(case)
    if schedule is None:
        return ScheduleForm()
    return ScheduleForm(
        initial=schedule_initial(
            schedule.interval_hours,
            schedule.grace_minutes,
            schedule.active,
            selectors.partner_address(schedule),
            selectors.partner_reference(schedule),
            schedule.partner_language,
        )
    )


def _checkins(page: PanelRequest) -> Mapping[str, Any]:
    schedule = selectors.schedule_for(page.case)
    history = selectors.fate_history(page.case, page.opened)
    return {
        "checkin_schedule": schedule,
        "checkin_form": page.returned_form("schedule") or _schedule_form(page.case),
        "checkin_error": page.returned_error("acknowledge"),
        "checkin_alerts": selectors.escalation_alerts(schedule) if schedule else [],
        "checkins": selectors.recent_checkins(page.case),
        "fate_history": history,
        "fate_current": history[0] if history else None,
        "fate_form": page.returned_form("fate") or FateForm(),
    }


def _escalating(case: Case, member: StaffMember) -> bool:
    schedule = selectors.schedule_for(case)
    return schedule is not None and schedule.escalating


def register() -> None:
    case_page.register_section(Section(CHECKINS, _("Check-ins"), order=60))
    case_page.register_panel(
        Panel("checkins", "checkins/case_panel.html", _checkins, 10, CHECKINS, attention=_escalating)
    )
