"""The person deletes what they wrote, through the real intake pages. Attackers: a captor
holding the phone (who must not tell a real deletion from one under the danger word, and
whose codename must then find nothing); staff of the case, who must see that it was asked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from casework.lifecycle import State, case_transition
from casework.models import Case, Message, MessageKey, PersonCredential
from casework.services import duress_phrase
from retention.models import DeletionRequest, Tombstone
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff

pytestmark = pytest.mark.django_db


def _login_page(phrase: str) -> tuple[int, str]:
    response = FaceClient(INTAKE).post("/login/", {"codename": phrase})
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, page


def test_the_confirmation_works_without_javascript_and_keep_it_changes_nothing(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    page = client.get("/conversation/").content.decode()
    assert 'href="/conversation/delete/"' in page
    confirm = client.get("/conversation/delete/").content.decode()
    assert '<form method="post" action="/conversation/delete/">' in confirm
    assert "Yes, delete" in confirm and 'href="/conversation/">Keep it</a>' in confirm
    assert "<script" not in confirm.split("<body>")[1]
    assert client.get("/conversation/").status_code == 200  # "Keep it": still logged in, nothing asked
    assert not DeletionRequest.objects.exists()
    russian = person.intake(language="ru").get("/conversation/delete/").content.decode()
    assert "Да, удалить" in russian and "Оставить" in russian


def test_after_deleting_the_codename_finds_what_a_wrong_one_finds(person: PersonAtRisk, caseworker: Staff) -> None:
    client = person.intake(language="en")
    response = client.post("/conversation/delete/")
    assert response.status_code == 200 and "Your codename no longer works" in response.content.decode()
    assert client.get("/conversation/").status_code == 302  # this browser's session ended too

    wrong = _login_page("these words were never anyone's codename")
    assert _login_page(person.codename) == wrong
    assert not PersonCredential.objects.filter(case=person.case).exists()
    assert not MessageKey.objects.filter(message__case=person.case, credential__isnull=False).exists()
    # What staff need stays readable with the case key, and they are told.
    assert Message.objects.filter(case=person.case, sender="person").exists()
    asked = DeletionRequest.objects.get(case=person.case)
    assert not asked.under_duress
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "THE PERSON ASKED FOR DELETION" in page


def test_under_the_danger_word_the_same_pages_but_nothing_is_deleted(person: PersonAtRisk, caseworker: Staff) -> None:
    real = person.intake(language="en")
    real_confirm = real.get("/conversation/delete/").content.decode()
    captor = person.intake(duress=True, language="en")
    captor_confirm = captor.get("/conversation/delete/").content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", captor_confirm) == strip.sub("", real_confirm)
    keys_before = MessageKey.objects.filter(message__case=person.case).count()

    done = captor.post("/conversation/delete/")
    assert done.status_code == 200 and "Your codename no longer works" in done.content.decode()

    wrong = _login_page("these words were never anyone's codename")
    assert _login_page(duress_phrase(person.codename, person.duress_word)) == wrong
    assert _login_page(person.codename) == wrong  # the captor knows the codename too
    assert MessageKey.objects.filter(message__case=person.case).count() == keys_before  # nothing deleted
    assert DeletionRequest.objects.get(case=person.case).under_duress
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "DELETION ASKED AFTER A DANGER-WORD LOGIN" in page


def test_a_coordinator_shreds_the_case_the_person_asked_to_delete(
    person: PersonAtRisk,
    coordinator: Staff,
    caseworker: Staff,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    person.intake(language="en").post("/conversation/delete/")
    section = f"/cases/{person.case.public_id}/?section=state"
    case_transition(case=person.case, member=caseworker.member, to_state=State.CLOSED, reason="declined")
    assert (
        "Shred this case now" not in caseworker.console(language="en").get(section).content.decode()
    )  # not theirs to do
    console = coordinator.console(language="en")
    assert "Shred this case now" in console.get(section).content.decode()
    assert console.post(f"/cases/{person.case.public_id}/shred/", {}).status_code == 400  # not confirmed
    assert not Tombstone.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(f"/cases/{person.case.public_id}/shred/", {"confirm": "on"})
    assert response.status_code == 302
    tombstone = Tombstone.objects.get(case=person.case)
    assert tombstone.basis == "person" and tombstone.state == Tombstone.State.SHREDDED
    assert console.get(section).status_code == 404  # nothing of it opens any more
    all_cases = console.get("/all-cases/")
    assert all_cases.status_code == 200


def test_a_deletion_on_a_case_changed_outside_the_console_does_nothing(person: PersonAtRisk) -> None:
    """A database writer changed the case row: the request is refused as a whole (nothing
    half-done), the codename still works, and the person may try again later."""
    client = person.intake(language="en")
    Case.objects.filter(pk=person.case.pk).update(team=None)  # outside the console: the certificate fails
    response = client.post("/conversation/delete/")
    assert response.status_code == 503
    assert PersonCredential.objects.filter(case=person.case).exists()
    assert not DeletionRequest.objects.exists()
