"""The partner notice carries neither the console address nor the case id, reaches the partner
whatever a staff channel does, and only the case team (with the case key) stops an escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from accounts.models import Role
from casework import keys
from casework.sealed import Refused
from evacuation.checkins import crypto, ladder, selectors, services
from evacuation.checkins.models import Alert, CheckInSchedule
from evacuation.checkins.tests.helpers import Clock, fresh, schedule
from jobs.models import Job
from sealbox import CryptoError
from tests.personas import PersonAtRisk, Staff, make_staff


def test_the_partner_is_not_sent_the_console_address(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, monkeypatch: Any
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(ladder, "send_email", lambda address, notice: sent.append((address, notice.body())))
    monkeypatch.setattr(ladder, "deliver", lambda *args, **kwargs: None)
    row = schedule(person, caseworker, partner="desk@partner.example")
    clock.set(fresh(row).next_due_at + timedelta(minutes=row.grace_minutes + 1))
    for _ in range(4):
        assert ladder.sweep() == 1
        clock.move(hours=3)
    job = Alert.objects.get(step=Alert.Step.PARTNER).job
    assert ladder.send_step(job)
    ((address, body),) = sent
    assert address == "desk@partner.example"
    assert settings.SP_CONSOLE_URL.rstrip("/") not in body, body


def test_one_broken_staff_channel_does_not_stop_the_partner_being_told(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, monkeypatch: Any
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(ladder, "send_email", lambda address, notice: sent.append(address))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("one coordinator's webhook is down")

    monkeypatch.setattr(ladder, "deliver", broken)
    row = schedule(person, caseworker, partner="desk@partner.example")
    clock.set(fresh(row).next_due_at + timedelta(minutes=row.grace_minutes + 1))
    for _ in range(4):
        assert ladder.sweep() == 1
        clock.move(hours=3)
    job = Alert.objects.get(step=Alert.Step.PARTNER).job
    for _ in range(5):  # every retry of the job
        try:
            ladder.send_step(job)
        except OSError:
            pass
    assert sent == ["desk@partner.example"], "the last-resort partner e-mail is never sent"


# --- the partner's notice: its reference and language, retries; who may stop an escalation -----


def _to_partner_step(person: PersonAtRisk, caseworker: Staff, clock: Clock, **partner: str) -> Any:
    row = schedule(person, caseworker, partner="desk@partner.example")
    if partner:
        services.schedule_set(
            case=person.case,
            actor=caseworker.member,
            actor_private_key=caseworker.private_key,
            interval_hours=row.interval_hours,
            grace_minutes=row.grace_minutes,
            active=True,
            partner_address="desk@partner.example",
            **partner,
        )
    clock.set(fresh(row).next_due_at + timedelta(minutes=row.grace_minutes + 1))
    for _ in range(4):
        assert ladder.sweep() == 1
        clock.move(hours=3)
    return Alert.objects.get(step=Alert.Step.PARTNER).job


def test_the_partner_notice_carries_only_the_agreed_reference_in_english_by_default(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, monkeypatch: Any
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(ladder, "send_email", lambda address, notice: sent.append((notice.subject(), notice.body())))
    monkeypatch.setattr(ladder, "deliver", lambda *args, **kwargs: None)
    job = _to_partner_step(person, caseworker, clock, partner_reference="blue kettle 7")
    assert ladder.send_step(job)
    ((subject, body),) = sent
    assert "Your reference: blue kettle 7" in body and "missed a check-in" in body
    for text in (subject, body):
        assert person.case.public_id not in text and "/cases/" not in text and "http" not in text


def test_the_partner_notice_is_in_russian_when_the_partner_reads_russian(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, monkeypatch: Any
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(ladder, "send_email", lambda address, notice: sent.append((notice.subject(), notice.body())))
    monkeypatch.setattr(ladder, "deliver", lambda *args, **kwargs: None)
    job = _to_partner_step(person, caseworker, clock, partner_reference="синий чайник", partner_language="ru")
    assert ladder.send_step(job)
    ((subject, body),) = sent
    assert "Ваш условный знак: синий чайник" in body and "пропустил" in body, body
    assert "Пропущена отметка" in subject
    assert person.case.public_id not in subject + body


def test_a_partner_failure_does_not_stop_the_staff_and_a_retry_tells_each_only_once(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, monkeypatch: Any
) -> None:
    partner_tries: list[str] = []
    staff_tries: list[int] = []

    def partner_down_once(address: str, notice: Any) -> None:
        partner_tries.append(address)
        if len(partner_tries) == 1:
            raise OSError("the mail server is down")

    def staff_told(job: Job, members: list[Any], notice: Any) -> None:
        staff_tries.append(job.pk)

    monkeypatch.setattr(ladder, "send_email", partner_down_once)
    monkeypatch.setattr(ladder, "deliver", staff_told)
    job = _to_partner_step(person, caseworker, clock)
    with pytest.raises(OSError):
        ladder.send_step(job)  # the job is retried for the partner
    assert staff_tries == [job.pk], "the staff are told although the partner e-mail failed"
    assert Alert.objects.get(step=Alert.Step.PARTNER).partner_sent_at is None
    assert ladder.send_step(job)
    assert ladder.send_step(job)
    assert len(partner_tries) == 2, "told once after the failure, and not again"
    assert Alert.objects.get(step=Alert.Step.PARTNER).partner_sent_at is not None


def test_the_partner_reference_is_sealed_and_bound_to_its_schedule(
    person: PersonAtRisk, other_person: PersonAtRisk, caseworker: Staff
) -> None:
    form = {
        "preset": "72",
        "grace_minutes": "60",
        "active": "on",
        "partner_address": "desk@partner.example",
        "partner_reference": "blue kettle 7",
        "partner_language": "ru",
    }
    for who in (person, other_person):
        response = caseworker.console().post(f"/cases/{who.case.public_id}/checkins/schedule/", form)
        assert response.status_code == 302
    first, second = CheckInSchedule.objects.order_by("pk")
    assert b"blue kettle" not in bytes(first.partner_reference_ct)
    assert selectors.partner_reference(first) == "blue kettle 7" and first.partner_language == "ru"
    with pytest.raises(CryptoError):
        crypto.partner_reference_open(second.pk, second.case, bytes(first.partner_reference_ct))
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    assert 'value="blue kettle 7"' in page and "Reference agreed with the partner" in page
    russian = (
        caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    )
    assert "Условный знак, согласованный с партнёром" in russian


def test_a_partner_language_outside_the_list_is_refused(person: PersonAtRisk, caseworker: Staff) -> None:
    form = {"preset": "72", "grace_minutes": "60", "active": "on", "partner_language": "de"}
    response = caseworker.console(language="en").post(f"/cases/{person.case.public_id}/checkins/schedule/", form)
    assert response.status_code == 400
    assert not CheckInSchedule.objects.exists()


def _escalating(person: PersonAtRisk, caseworker: Staff, clock: Clock) -> CheckInSchedule:
    row = schedule(person, caseworker)
    clock.set(fresh(row).next_due_at + timedelta(minutes=row.grace_minutes + 1))
    assert ladder.sweep() == 1
    return fresh(row)


def test_only_the_case_team_may_stop_an_escalation(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, clock: Clock
) -> None:
    row = _escalating(person, caseworker, clock)
    for role in (Role.VERIFIER, Role.ANALYST, Role.LOGISTICS):
        other = make_staff(f"someone-{role}", role=role, invited_by=coordinator)
        with pytest.raises(Refused):
            services.escalation_acknowledge(case=person.case, actor=other.member, actor_private_key=other.private_key)
    assert fresh(row).escalating


def test_stopping_an_escalation_needs_the_case_key(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, clock: Clock
) -> None:
    row = _escalating(person, caseworker, clock)
    stranger = make_staff("caseworker-off-the-case", invited_by=coordinator)
    with pytest.raises(keys.NoAccess):
        services.escalation_acknowledge(case=person.case, actor=stranger.member, actor_private_key=stranger.private_key)
    with pytest.raises(keys.NoAccess):  # the right member, a key that is not theirs
        services.escalation_acknowledge(
            case=person.case, actor=caseworker.member, actor_private_key=stranger.private_key
        )
    assert fresh(row).escalating and not Alert.objects.exclude(acknowledged_at=None).exists()
    services.escalation_acknowledge(case=person.case, actor=caseworker.member, actor_private_key=caseworker.private_key)
    assert not fresh(row).escalating


def test_a_caseworker_of_the_case_acknowledges_from_the_case_page(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, clock: Clock
) -> None:
    _escalating(person, caseworker, clock)
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    assert "/checkins/acknowledge/" in page
    assert caseworker.console().post(f"/cases/{person.case.public_id}/checkins/acknowledge/").status_code == 302
