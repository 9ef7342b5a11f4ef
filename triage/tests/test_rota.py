"""The on-call rota: coordinators edit it in the organisation's time zone."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from accounts.models import OnCallShift, Role, StaffMember
from accounts.teams import on_call_members
from audit.models import Action, AuditEntry
from tests.personas import Staff, make_staff
from triage.services import ShiftRefused, shift_add

ON_CALL_REFUSED = "Only coordinators, caseworkers and verifiers can be on call: other roles do not see the case list."
ON_CALL_REFUSED_RU = "Дежурить могут только координаторы, кураторы и проверяющие: другие роли не видят список кейсов."


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


# --- only roles that see the case list are on call (T11, need-to-know) ------------------------


def _shift_form(member: Staff) -> dict[str, Any]:
    return {"member": member.member.pk, "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T18:00"}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LOGISTICS])
def test_the_rota_refuses_a_member_whose_role_does_not_see_the_case_list(coordinator: Staff, role: str) -> None:
    """Attacker: an analyst or logistics member put on call (by mistake or by a turned
    coordinator) would receive the references of every overdue case. Refused in the form and
    in the service, in Russian and English."""
    other = make_staff(f"a-{role}", role=role, invited_by=coordinator)
    page = coordinator.console(language="en").get("/rota/").content.decode()
    assert f'<option value="{other.member.pk}"' not in page  # not offered
    for language, message in (("en", ON_CALL_REFUSED), ("ru", ON_CALL_REFUSED_RU)):
        response = coordinator.console(language=language).post("/rota/", _shift_form(other))
        assert response.status_code == 400
        assert message in html.unescape(response.content.decode())
    with translation.override("en"), pytest.raises(ShiftRefused) as refused:
        shift_add(
            actor=coordinator.member,
            member=other.member,
            starts_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=8),
        )
    assert str(refused.value) == ON_CALL_REFUSED
    assert not OnCallShift.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.ROTA_CHANGE).exists()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER])
def test_the_rota_accepts_the_roles_that_see_the_case_list(coordinator: Staff, role: str) -> None:
    other = make_staff(f"a-{role}", role=role, invited_by=coordinator)
    assert coordinator.console().post("/rota/", _shift_form(other)).status_code == 302
    assert OnCallShift.objects.get().member == other.member


def test_a_shift_of_someone_who_cannot_be_on_call_is_not_used(coordinator: Staff, caseworker: Staff) -> None:
    """A shift made before the rule, or written straight into the database: an analyst on it
    is not on call, and the escalation goes to the coordinators instead."""
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    now = timezone.now()
    OnCallShift.objects.create(
        member=analyst.member, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    assert on_call_members(now) == []
    page = coordinator.console(language="en").get("/rota/").content.decode()
    row = page.split("analyst", 1)[1].split("</tr>", 1)[0]
    assert "does not count" in row and "on call now" not in row


def test_shifts_stop_counting_when_the_members_role_or_account_changes(coordinator: Staff, caseworker: Staff) -> None:
    now = timezone.now()
    OnCallShift.objects.create(
        member=caseworker.member, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    assert on_call_members(now) == [caseworker.member]
    StaffMember.objects.filter(pk=caseworker.member.pk).update(role=Role.ANALYST)
    assert on_call_members(now) == []
    StaffMember.objects.filter(pk=caseworker.member.pk).update(role=Role.CASEWORKER, is_active=False)
    assert on_call_members(now) == []
