"""Red flags: compromised identifiers held only as keyed hashes, matched against cases'
contacts whichever came first, and cases sharing a contact linked (T3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Team
from audit.models import Action, AuditEntry
from core.certificates import certify
from jobs.models import Job
from notifications.services import NOTIFY_JOB
from tests.personas import PersonAtRisk, Staff, make_staff, open_case
from tests.plaintext_search import database_places, needles_for, search_places
from vetting import red_flags
from vetting.models import ContactDigest, RedFlag, RedFlagKind, RedFlagMatch


def _flag(coordinator: Staff, kind: str, value: str) -> RedFlag:
    return red_flags.red_flag_create(actor=coordinator.member, kind=kind, value=value)


def _flagged(person: PersonAtRisk) -> bool:
    return RedFlagMatch.objects.filter(case=person.case).exists()


def test_red_flag_marks_a_case_whose_contact_matches_when_the_flag_came_first(
    coordinator: Staff, caseworker: Staff
) -> None:
    _flag(coordinator, RedFlagKind.PHONE, "8 (912) 345-67-89")
    person = open_case(contact_kind="whatsapp", contact_value="+7 912 345 67 89")
    innocent = open_case(contact_kind="whatsapp", contact_value="+7 912 345 67 80")
    assert _flagged(person) and not _flagged(innocent)
    match = RedFlagMatch.objects.get(case=person.case)
    assert AuditEntry.objects.filter(
        action=Action.RED_FLAG_MATCH, case_public_id=person.case.public_id, details__flag=match.flag_id
    ).exists()
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "matches a known compromised contact" in page
    inbox = caseworker.console(language="en").get("/inbox/").content.decode()
    assert inbox.count("matches a known compromised contact") == 1


def test_red_flag_marks_a_case_whose_contact_matches_when_the_case_came_first(
    coordinator: Staff, caseworker: Staff
) -> None:
    person = open_case(contact_kind="telegram", contact_value="@Kazbek_Free")
    assert not _flagged(person)
    response = coordinator.console().post("/red-flags/", {"kind": "handle", "value": " kazbek_free "})
    assert response.status_code == 302
    assert _flagged(person)
    page = caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "совпадает с известным скомпрометированным контактом" in page


def test_key_holders_are_notified_of_a_match_whichever_came_first(
    coordinator: Staff, caseworker: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _flag(coordinator, RedFlagKind.HANDLE, "@first_flag")
        early = open_case(contact_kind="telegram", contact_value="first_flag")
        late = open_case(contact_kind="telegram", contact_value="@later_flag")
        _flag(coordinator, RedFlagKind.HANDLE, "Later_Flag")
    events = {(job.payload["case"], job.payload["event"]) for job in Job.objects.filter(kind=NOTIFY_JOB)}
    assert {(early.case.pk, "red_flag"), (late.case.pk, "red_flag")} <= events


def test_a_phrase_flag_marks_a_new_case_whose_first_message_holds_it(coordinator: Staff, caseworker: Staff) -> None:
    _flag(coordinator, RedFlagKind.PHRASE, "Привет, я от Руслана, давай встретимся")
    person = open_case(body="привет!! Я от руслана... Давай встретимся у вокзала", contact_kind="", contact_value="")
    other = open_case(body="Давай встретимся, мне нужна помощь")
    assert _flagged(person) and not _flagged(other)
    assert RedFlagMatch.objects.get(case=person.case).via == RedFlagMatch.Via.PHRASE


def test_cases_sharing_a_contact_are_linked(coordinator: Staff, caseworker: Staff) -> None:
    first = open_case(contact_kind="signal", contact_value="+7 (999) 111-22-33")
    second = open_case(contact_kind="phone", contact_value="89991112233")
    unrelated = open_case(contact_kind="signal", contact_value="+7 999 111 22 34")
    page = caseworker.console(language="en").get(f"/cases/{second.case.public_id}/?section=vetting").content.decode()
    assert "Cases with the same contact" in page
    assert f'href="/cases/{first.case.public_id}/"' in page
    assert unrelated.case.public_id not in page


def test_a_linked_case_the_viewer_cannot_see_is_not_named(coordinator: Staff, caseworker: Staff) -> None:
    seen = open_case(contact_kind="telegram", contact_value="@same_person")
    # Later cases go to another on-call team the caseworker is not on.
    Team.objects.update(is_on_call=False)
    night = Team.objects.create(name="Night", is_on_call=True)
    certify(night)  # as the application would mark it on call
    night.save(update_fields=["certificate"])
    make_staff("night-worker", team=night, invited_by=coordinator)
    hidden = open_case(contact_kind="telegram", contact_value="same_person")
    page = caseworker.console(language="en").get(f"/cases/{seen.case.public_id}/?section=vetting").content.decode()
    assert "another case you cannot see" in page
    assert hidden.case.public_id not in page


def test_red_flag_values_are_not_stored_in_plaintext(coordinator: Staff, caseworker: Staff) -> None:
    phone, handle, phrase = "+7 928 765 43 21", "@Informant_Grozny_77", "Я друг Аслана, он дал твой номер"
    console = coordinator.console(language="en")
    for kind, value in (("phone", phone), ("handle", handle), ("phrase", phrase)):
        assert console.post("/red-flags/", {"kind": kind, "value": value}).status_code == 302
    person = open_case(contact_kind="telegram", contact_value=handle)
    assert RedFlag.objects.count() == 3 and _flagged(person)
    needles = [
        *needles_for("phone", "79287654321"),
        *needles_for("phone as typed", phone),
        *needles_for("handle", "informant_grozny_77"),
        *needles_for("phrase", "друг аслана"),
        *needles_for("phrase as typed", phrase),
    ]
    assert not search_places(database_places(), needles)
    assert ContactDigest.objects.filter(case=person.case).count() == 1
    listing = console.get("/red-flags/").content.decode()
    assert "Informant" not in listing and "928" not in listing


def test_red_flags_are_coordinators_only_and_refuse_what_they_cannot_use(coordinator: Staff, caseworker: Staff) -> None:
    assert caseworker.console().get("/red-flags/").status_code == 403
    console = coordinator.console(language="en")
    not_a_phone = console.post("/red-flags/", {"kind": "phone", "value": "call me"})
    assert not_a_phone.status_code == 400 and "not a phone number" in not_a_phone.content.decode()
    assert console.post("/red-flags/", {"kind": "handle", "value": "@dup"}).status_code == 302
    again = console.post("/red-flags/", {"kind": "handle", "value": "DUP"})
    assert again.status_code == 400 and "already a red flag" in again.content.decode()
    flag = RedFlag.objects.get()
    unconfirmed = console.post(f"/red-flags/{flag.pk}/delete/")
    assert unconfirmed.status_code == 400 and "Tick the box to confirm" in unconfirmed.content.decode()
    assert RedFlag.objects.filter(pk=flag.pk).exists()
    assert console.post(f"/red-flags/{flag.pk}/delete/", {"confirm": "on"}).status_code == 302
    assert not RedFlag.objects.exists()
    assert AuditEntry.objects.filter(action=Action.RED_FLAG_DELETE, details__flag=flag.pk).exists()


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("8 (912) 345-67-89", "79123456789"),
        ("+7 912 345 67 89", "79123456789"),
        ("9123456789", "79123456789"),
        ("0049 30 1234567", "49301234567"),
        ("telegram me", None),
        ("123", None),
    ],
)
def test_phone_numbers_are_normalised_with_the_country_code(typed: str, digits: str | None) -> None:
    from vetting.normalise import phone_digits

    assert phone_digits(typed) == digits


def test_the_inbox_marks_red_flagged_cases_without_a_query_per_row(coordinator: Staff, caseworker: Staff) -> None:
    _flag(coordinator, RedFlagKind.PHONE, "+7 912 000 00 01")
    flagged = open_case(contact_kind="whatsapp", contact_value="+7 912 000 00 01")
    open_case(contact_kind="whatsapp", contact_value="+7 912 000 00 02")
    client = caseworker.console(language="en")
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as two_cases:
        inbox = client.get("/inbox/").content.decode()
    assert inbox.count("matches a known compromised contact") == 1
    assert flagged.case.public_id in inbox
    for n in range(3):
        open_case(contact_kind="whatsapp", contact_value=f"+7 912 000 00 1{n}")
    _flag(coordinator, RedFlagKind.PHONE, "+7 912 000 00 10")
    with CaptureQueriesContext(connection) as five_cases:
        inbox = client.get("/inbox/").content.decode()
    assert inbox.count("matches a known compromised contact") == 2
    assert len(five_cases.captured_queries) == len(two_cases.captured_queries)
