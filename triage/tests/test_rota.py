"""The on-call rota: coordinators edit it in the organisation's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from audit.models import Action, AuditEntry
from tests.personas import Staff
from triage.models import OnCallShift
from triage.services import on_call_members


def test_a_coordinator_adds_a_shift_in_the_organisations_time_zone(
    coordinator: Staff, caseworker: Staff, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Moscow"
    client = coordinator.console(language="en")
    page = client.get("/rota/").content.decode()
    assert "Europe/Moscow" in page
    start = (timezone.now() + timedelta(days=1)).astimezone(ZoneInfo("Europe/Moscow")).replace(second=0, microsecond=0)
    form = {
        "member": caseworker.member.pk,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post("/rota/", form).status_code == 302
    shift = OnCallShift.objects.get()
    assert shift.member == caseworker.member
    assert shift.starts_at == start  # 18:00 in Moscow is stored as 15:00 UTC
    assert start.strftime("%Y-%m-%d %H:%M") in client.get("/rota/").content.decode()
    assert AuditEntry.objects.filter(action=Action.ROTA_CHANGE, details__added=shift.pk).exists()


def test_a_shift_that_ends_before_it_starts_is_refused_with_a_clear_message(
    coordinator: Staff, caseworker: Staff
) -> None:
    client = coordinator.console(language="ru")
    form = {"member": caseworker.member.pk, "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T09:00"}
    response = client.post("/rota/", form)
    assert response.status_code == 400
    assert "Смена должна заканчиваться позже, чем начинается." in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_a_caseworker_cannot_see_or_edit_the_rota(caseworker: Staff) -> None:
    client = caseworker.console()
    assert client.get("/rota/").status_code == 403
    assert client.post("/rota/", {}).status_code == 403


def test_a_coordinator_removes_a_shift_and_it_stops_counting(coordinator: Staff, caseworker: Staff) -> None:
    now = timezone.now()
    shift = OnCallShift.objects.create(
        member=caseworker.member, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    assert on_call_members(now) == [caseworker.member]
    assert coordinator.console().post(f"/rota/{shift.pk}/delete/").status_code == 302
    assert on_call_members(now) == []


def test_only_shifts_covering_the_moment_count_as_on_call(caseworker: Staff, coordinator: Staff) -> None:
    at = datetime(2030, 5, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
    OnCallShift.objects.create(member=caseworker.member, starts_at=at, ends_at=at + timedelta(hours=8))
    OnCallShift.objects.create(
        member=coordinator.member, starts_at=at + timedelta(hours=8), ends_at=at + timedelta(hours=16)
    )
    assert on_call_members(at - timedelta(minutes=1)) == []
    assert on_call_members(at) == [caseworker.member]
    assert on_call_members(at + timedelta(hours=8)) == [coordinator.member]
