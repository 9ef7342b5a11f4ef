"""Reads for the case page and the intake page; nothing decrypted is cached or stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from casework.models import Case
from casework.sealed import open_text
from evacuation.checkins import crypto
from evacuation.checkins.models import Alert, CheckIn, CheckInSchedule, Fate, FateStatus

HISTORY_ROWS = 20


@dataclass(frozen=True)
class FateView:
    id: uuid.UUID
    status: str
    label: str
    set_by: str
    set_at: datetime
    information: str | None  # None: sealed to a key version this member does not hold


def schedule_for(case: Case) -> CheckInSchedule | None:
    return CheckInSchedule.objects.filter(case=case).first()


def checkin_offered(case: Case, *, decoy: bool) -> bool:
    """Whether the person's page shows the check-in button. Never under duress (``decoy``: a
    danger-word login, and a real-phrase login to the case while it is under duress, until
    staff clear it): the button would tell a captor the person is under welfare check-ins, and
    a check-in then counts for nothing (services.checkin_record). The /checkin/ URL itself
    answers the same either way (a forced check-in raises the alarm). The schedule is looked
    up either way, so every conversation page costs the same queries."""
    asked = CheckInSchedule.objects.filter(case=case, active=True).exists()
    return asked and not decoy


def partner_address(schedule: CheckInSchedule) -> str:
    return crypto.partner_address_open(schedule.pk, schedule.case, bytes(schedule.partner_address_ct))


def partner_reference(schedule: CheckInSchedule) -> str:
    return crypto.partner_reference_open(schedule.pk, schedule.case, bytes(schedule.partner_reference_ct))


def recent_checkins(case: Case) -> list[CheckIn]:
    return list(CheckIn.objects.filter(case=case).order_by("-at")[:HISTORY_ROWS])


def escalation_alerts(schedule: CheckInSchedule) -> list[Alert]:
    """The steps sent for the missed check-in now being escalated, oldest first."""
    if schedule.missed_due_at is None:
        return []
    return list(Alert.objects.filter(schedule=schedule, due_at=schedule.missed_due_at).order_by("created_at", "pk"))


def fate_history(case: Case, opened: dict[int, bytes]) -> list[FateView]:
    rows = FateStatus.objects.filter(case=case).select_related("set_by").order_by("-set_at")[:HISTORY_ROWS]
    labels = dict(Fate.choices)
    return [
        FateView(
            id=row.id,
            status=row.status,
            label=str(labels.get(row.status, row.status)),
            set_by=row.set_by.username,
            set_at=row.set_at,
            information=open_text(
                opened,
                row.case_key_id,
                bytes(row.information_ct),
                ctx=crypto.fate_information_ctx(row.id.bytes, case, row.set_by_id),
            ),
        )
        for row in rows
    ]
