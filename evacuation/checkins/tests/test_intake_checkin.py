"""The person's one-tap check-in (T9), and the danger word at check-in (T4): a silent alarm
behind exactly the confirmation a real check-in gets."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone

from casework.models import Case
from evacuation.checkins.models import CheckIn
from evacuation.checkins.tests.helpers import fresh, schedule
from jobs.models import Job
from notifications.models import Event
from notifications.services import NOTIFY_JOB
from tests.personas import FaceClient, PersonAtRisk, Staff

BUTTON = 'action="/checkin/"'


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def _duress_notices(case: Case) -> int:
    return Job.objects.filter(kind=NOTIFY_JOB, payload={"case": case.pk, "event": str(Event.DURESS)}).count()


def test_the_button_shows_only_while_check_ins_are_asked_for(person: PersonAtRisk, caseworker: Staff) -> None:
    assert BUTTON not in person.intake().get("/conversation/").content.decode()
    schedule(person, caseworker)
    assert BUTTON in person.intake(language="en").get("/conversation/").content.decode()
    assert "I am safe — check in" in person.intake(language="en").get("/conversation/").content.decode()
    schedule(person, caseworker, active=False)
    assert BUTTON not in person.intake().get("/conversation/").content.decode()


def test_no_page_shows_the_button_under_duress_whichever_codename_opens_it(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """The button would tell a captor the person is under welfare check-ins. After a danger-word
    login neither the cover conversation nor the real codename's page shows it (a check-in
    under duress counts for nothing anyway), and both pages are built alike
    (intake/tests/test_after_the_danger_word.py compares them)."""
    schedule(person, caseworker)
    assert BUTTON in person.intake().get("/conversation/").content.decode()
    for language in ("en", "ru"):
        forced = person.intake(duress=True, language=language).get("/conversation/").content.decode()
        real_after = person.intake(language=language).get("/conversation/").content.decode()
        assert BUTTON not in forced and BUTTON not in real_after
        assert "I am safe" not in forced and "check in" not in real_after.lower()
    assert person.intake(duress=True).post("/checkin/").status_code == 200, "the URL still answers"


def test_a_check_in_moves_the_next_due_time(person: PersonAtRisk, caseworker: Staff) -> None:
    row = schedule(person, caseworker, hours=72)
    before = timezone.now()
    response = person.intake(language="en").post("/checkin/")
    assert response.status_code == 200
    assert "Your check-in was received." in response.content.decode()
    after = fresh(row)
    assert after.last_check_in_at is not None and after.last_check_in_at >= before
    assert after.next_due_at == after.last_check_in_at + timedelta(hours=72)
    assert CheckIn.objects.get().trusted is True
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    assert "Last check-in" in page and timezone.localtime(after.last_check_in_at).strftime("%Y-%m-%d") in page


def test_a_check_in_in_russian(person: PersonAtRisk, caseworker: Staff) -> None:
    schedule(person, caseworker)
    assert "Спасибо" in person.intake(language="ru").post("/checkin/").content.decode()


def test_a_danger_word_check_in_looks_exactly_like_a_real_one_and_raises_the_alarm(
    person: PersonAtRisk, caseworker: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    row = schedule(person, caseworker)
    real = person.intake().post("/checkin/")
    due_after_real = fresh(row).next_due_at
    with django_capture_on_commit_callbacks(execute=True):
        forced_client = person.intake(duress=True)  # the login itself alerts (the first time)
    with django_capture_on_commit_callbacks(execute=True):
        forced = forced_client.post("/checkin/")
    assert real.status_code == forced.status_code == 200
    assert _without_csrf(real.content) == _without_csrf(forced.content)
    assert sorted(real.headers.keys()) == sorted(forced.headers.keys())
    person.case.refresh_from_db()
    assert person.case.under_duress_since is not None
    assert _duress_notices(person.case) == 2, "the forced check-in is an alarm of its own"
    assert fresh(row).next_due_at == due_after_real, "a forced check-in does not count"
    assert list(CheckIn.objects.order_by("at").values_list("trusted", flat=True)) == [True, False]
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    assert "after a danger-word login or under duress: not counted" in page


def test_after_a_duress_login_even_the_real_codename_does_not_count_as_safe(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    row = schedule(person, caseworker)
    person.intake(duress=True)
    due = fresh(row).next_due_at
    assert person.intake().post("/checkin/").status_code == 200
    assert fresh(row).next_due_at == due
    assert CheckIn.objects.get().trusted is False


def test_without_a_login_the_check_in_goes_to_the_login(db: None, intake_client: FaceClient) -> None:
    response = intake_client.post("/checkin/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not CheckIn.objects.exists()


def test_the_check_in_url_takes_only_post(person: PersonAtRisk) -> None:
    response = person.intake().get("/checkin/")
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_a_check_in_without_a_schedule_is_kept_for_staff(person: PersonAtRisk) -> None:
    assert person.intake().post("/checkin/").status_code == 200
    assert CheckIn.objects.filter(case=person.case, trusted=True).count() == 1
