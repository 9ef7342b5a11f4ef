"""What the case page shows of this app: the check-in schedule, a missed check-in being
escalated (with the button to acknowledge it), recent check-ins and the fate status history.
casework.views._render_case merges this into its context after the case view was audited."""

from __future__ import annotations

from typing import Any

from accounts.models import StaffMember
from casework.models import Case
from evacuation.checkins import selectors
from evacuation.checkins.forms import FateForm, ScheduleForm, schedule_initial


def case_page_context(*, case: Case, member: StaffMember, opened: dict[int, bytes]) -> dict[str, Any]:
    schedule = selectors.schedule_for(case)
    if schedule is None:
        form = ScheduleForm()
    else:
        form = ScheduleForm(
            initial=schedule_initial(
                schedule.interval_hours,
                schedule.grace_minutes,
                schedule.active,
                selectors.partner_address(schedule),
                selectors.partner_reference(schedule),
                schedule.partner_language,
            )
        )
    history = selectors.fate_history(case, opened)
    return {
        "checkin_schedule": schedule,
        "checkin_form": form,
        "checkin_alerts": selectors.escalation_alerts(schedule) if schedule else [],
        "checkins": selectors.recent_checkins(case),
        "fate_history": history,
        "fate_current": history[0] if history else None,
        "fate_form": FateForm(),
    }
