"""A controllable clock and a schedule set up through the real service."""

from __future__ import annotations

from datetime import datetime, timedelta

from evacuation.checkins import services
from evacuation.checkins.models import CheckInSchedule
from tests.personas import PersonAtRisk, Staff


class Clock:
    """What ``django.utils.timezone.now`` returns while the fixture is active: the worker,
    the services and the sweep all read it, so a test moves time for all of them at once."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


def schedule(
    person: PersonAtRisk,
    staff: Staff,
    *,
    hours: int = 24,
    grace: int = 60,
    active: bool = True,
    partner: str = "",
) -> CheckInSchedule:
    return services.schedule_set(
        case=person.case,
        actor=staff.member,
        actor_private_key=staff.private_key,
        interval_hours=hours,
        grace_minutes=grace,
        active=active,
        partner_address=partner,
    )


def fresh(row: CheckInSchedule) -> CheckInSchedule:
    return CheckInSchedule.objects.get(pk=row.pk)
