"""The case team sets the check-in schedule and the person's fate status from the case page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from audit.models import Action, AuditEntry
from casework.sealed import Refused
from evacuation.checkins import crypto, services
from evacuation.checkins.models import CheckInSchedule, Fate, FateStatus
from evacuation.checkins.selectors import partner_address
from sealbox import CryptoError
from tests.personas import PersonAtRisk, Staff, make_staff


def _url(person: PersonAtRisk, tail: str) -> str:
    return f"/cases/{person.case.public_id}/{tail}"


def test_a_caseworker_sets_a_preset_schedule_and_it_is_audited(person: PersonAtRisk, caseworker: Staff) -> None:
    form = {"preset": "24", "grace_minutes": "90", "active": "on", "partner_address": "desk@example.org"}
    before = timezone.now()
    response = caseworker.console().post(_url(person, "checkins/schedule/"), form)
    assert response.status_code == 302 and response["Location"].endswith("?section=checkins")
    row = CheckInSchedule.objects.get(case=person.case)
    assert (row.interval_hours, row.grace_minutes, row.active) == (24, 90, True)
    assert before + timedelta(hours=24) <= row.next_due_at <= timezone.now() + timedelta(hours=24)
    assert row.sweep_at == row.next_due_at + timedelta(minutes=90)
    assert b"desk@example.org" not in bytes(row.partner_address_ct)
    assert partner_address(row) == "desk@example.org"
    entry = AuditEntry.objects.get(action=Action.CHECKIN_SCHEDULE_SET)
    assert entry.details == {"interval_hours": 24, "grace_minutes": 90, "active": True, "partner": True}
    page = caseworker.console(language="en").get(_url(person, "?section=checkins")).content.decode()
    assert "every 24 h, grace 90 min" in page and 'value="desk@example.org"' in page


def test_the_partner_address_does_not_open_on_another_schedule(
    person: PersonAtRisk, other_person: PersonAtRisk, caseworker: Staff
) -> None:
    for who in (person, other_person):
        caseworker.console().post(
            _url(who, "checkins/schedule/"), {"preset": "72", "grace_minutes": "60", "active": "on"}
        )
    first, second = CheckInSchedule.objects.order_by("pk")
    sealed = crypto.partner_address_seal(first.pk, first.case, "desk@example.org")
    with pytest.raises(CryptoError):
        crypto.partner_address_open(second.pk, second.case, sealed)


def test_a_custom_interval_needs_its_hours_and_keeps_what_was_typed(person: PersonAtRisk, caseworker: Staff) -> None:
    form = {"preset": "custom", "grace_minutes": "45", "active": "on", "partner_address": "desk@example.org"}
    response = caseworker.console(language="en").post(_url(person, "checkins/schedule/"), form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter the number of hours between check-ins." in page
    assert 'value="45"' in page and 'value="desk@example.org"' in page
    assert not CheckInSchedule.objects.exists()
    russian = caseworker.console(language="ru").post(_url(person, "checkins/schedule/"), form)
    assert "Укажите, через сколько часов" in russian.content.decode()
    caseworker.console().post(_url(person, "checkins/schedule/"), {**form, "custom_hours": "12"})
    assert CheckInSchedule.objects.get().interval_hours == 12


def test_changing_the_interval_counts_from_now(person: PersonAtRisk, caseworker: Staff) -> None:
    caseworker.console().post(
        _url(person, "checkins/schedule/"), {"preset": "72", "grace_minutes": "60", "active": "on"}
    )
    caseworker.console().post(
        _url(person, "checkins/schedule/"), {"preset": "24", "grace_minutes": "60", "active": "on"}
    )
    row = CheckInSchedule.objects.get()
    assert row.next_due_at <= timezone.now() + timedelta(hours=24)


def test_only_the_case_team_may_set_a_schedule_or_a_status(person: PersonAtRisk, coordinator: Staff) -> None:
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    with pytest.raises(Refused):
        services.schedule_set(
            case=person.case,
            actor=verifier.member,
            actor_private_key=verifier.private_key,
            interval_hours=24,
            grace_minutes=60,
            active=True,
            partner_address="",
        )
    with pytest.raises(Refused):
        services.fate_set(
            case=person.case,
            actor=verifier.member,
            actor_private_key=verifier.private_key,
            status=Fate.DETAINED,
            information="A neighbour saw it.",
        )


def test_a_fate_status_keeps_its_history_and_seals_its_information(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    first = {"status": Fate.IN_HIDING, "information": "Reached the flat, said the person on Signal."}
    second = {"status": Fate.LOST_CONTACT, "information": "No answer for three days from the host."}
    assert caseworker.console().post(_url(person, "fate/"), first).status_code == 302
    assert coordinator.console().post(_url(person, "fate/"), second).status_code == 302
    rows = list(FateStatus.objects.order_by("set_at"))
    assert [row.status for row in rows] == [Fate.IN_HIDING, Fate.LOST_CONTACT]
    assert [row.set_by_id for row in rows] == [caseworker.member.pk, coordinator.member.pk]
    for row, typed in zip(rows, (first, second), strict=True):
        assert typed["information"].encode() not in bytes(row.information_ct)
    page = caseworker.console(language="en").get(_url(person, "?section=checkins")).content.decode()
    assert "<strong>Lost contact</strong> · coordinator" in page
    assert first["information"] in page and second["information"] in page
    assert page.index(second["information"]) < page.index(first["information"])
    audited = AuditEntry.objects.filter(action=Action.FATE_SET).order_by("sequence").values_list("details", flat=True)
    assert list(audited) == [{"status": "in_hiding"}, {"status": "lost_contact"}]


def test_a_fate_status_needs_its_information(person: PersonAtRisk, caseworker: Staff) -> None:
    response = caseworker.console(language="en").post(_url(person, "fate/"), {"status": Fate.DEAD, "information": ""})
    assert response.status_code == 400
    assert "Say on what information you set this status." in response.content.decode()
    assert not FateStatus.objects.exists()


def test_someone_off_the_case_gets_not_found(person: PersonAtRisk, outsider: Staff) -> None:
    for tail, form in (
        ("checkins/schedule/", {"preset": "24", "grace_minutes": "60", "active": "on"}),
        ("fate/", {"status": Fate.DEAD, "information": "Rumour."}),
        ("checkins/acknowledge/", {}),
    ):
        assert outsider.console().post(_url(person, tail), form).status_code == 404
    assert not CheckInSchedule.objects.exists() and not FateStatus.objects.exists()
