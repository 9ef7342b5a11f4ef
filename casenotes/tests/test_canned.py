"""Canned replies: organisation templates in Russian and English that coordinators keep on
/canned/ and staff insert into the reply box of a case in the same language, without
JavaScript and without losing a draft."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import Action, AuditEntry
from casenotes.models import CannedReply
from casenotes.tests.helpers import field_value, text, textarea
from tests.personas import PersonAtRisk, Staff, make_staff, open_case

EN_TEXT = "We read your message. Stay where you are; we will write again tonight."
RU_TEXT = "Мы прочитали ваше сообщение. Оставайтесь на месте, вечером напишем снова."


def _canned(coordinator: Staff, language: str, title: str, body: str) -> CannedReply:
    form = {"language": language, "title": title, "body": body}
    response = coordinator.console().post("/canned/", form)
    assert response.status_code == 302, text(response)[:2000]
    return CannedReply.objects.get(title=title)


def test_canned_reply_fills_the_reply_box(coordinator: Staff, caseworker: Staff, person: PersonAtRisk) -> None:
    reply = _canned(coordinator, "en", "Stay put", EN_TEXT)
    _canned(coordinator, "ru", "Оставайтесь", RU_TEXT)
    console = caseworker.console(language="en")
    page = text(console.get(f"/cases/{person.case.public_id}/"))
    picker = page.split("<legend>Canned replies</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert f'formaction="/cases/{person.case.public_id}/canned/insert/"' in picker
    assert f'name="canned" value="{reply.pk}"' in picker and "formnovalidate" in picker
    assert "Оставайтесь" not in picker  # the case is in English

    insert = f"/cases/{person.case.public_id}/canned/insert/"
    response = console.post(insert, {"body": "", "canned": reply.pk})
    assert response.status_code == 200
    assert textarea(text(response), "body") == EN_TEXT
    # A draft already typed is kept, with the canned text after it.
    response = console.post(insert, {"body": "Hello Timur,\n", "canned": reply.pk})
    assert textarea(text(response), "body") == f"Hello Timur,\n\n{EN_TEXT}"
    # The draft is only echoed back: the reply is sent by the reply form, as usual.
    assert console.post(f"/cases/{person.case.public_id}/reply/", {"body": EN_TEXT}).status_code == 302


def test_canned_replies_offered_are_in_the_case_language(coordinator: Staff, caseworker: Staff) -> None:
    _canned(coordinator, "en", "Stay put", EN_TEXT)
    _canned(coordinator, "ru", "Оставайтесь", RU_TEXT)
    russian = open_case(body="Помогите.", language="ru")
    page = text(caseworker.console(language="en").get(f"/cases/{russian.case.public_id}/"))
    picker = page.split("<legend>Canned replies</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "Оставайтесь" in picker and "Stay put" not in picker


def test_a_canned_reply_deleted_meanwhile_keeps_the_draft_with_a_clear_message(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    reply = _canned(coordinator, "en", "Stay put", EN_TEXT)
    reply_id = reply.pk
    reply.delete()
    response = caseworker.console(language="ru").post(
        f"/cases/{person.case.public_id}/canned/insert/", {"body": "Мой черновик", "canned": reply_id}
    )
    assert response.status_code == 400
    page = text(response)
    assert "Этого готового ответа больше нет." in page
    assert textarea(page, "body") == "Мой черновик"


def test_only_coordinators_edit_canned_replies(coordinator: Staff, caseworker: Staff) -> None:
    reply = _canned(coordinator, "en", "Stay put", EN_TEXT)
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    for staff in (caseworker, verifier):
        console = staff.console()
        assert console.get("/canned/").status_code == 403
        assert console.post("/canned/", {"language": "en", "title": "Mine", "body": "x"}).status_code == 403
        assert console.get(f"/canned/{reply.pk}/edit/").status_code == 403
        edit = {"language": "en", "title": "Changed", "body": "x", "revision": 1}
        assert console.post(f"/canned/{reply.pk}/edit/", edit).status_code == 403
        assert console.post(f"/canned/{reply.pk}/delete/").status_code == 403
    reply.refresh_from_db()
    assert (reply.title, reply.body, reply.revision) == ("Stay put", EN_TEXT, 1)
    assert CannedReply.objects.count() == 1

    console = coordinator.console(language="en")
    assert "Stay put" in text(console.get("/canned/"))
    edit = {"language": "en", "title": "Stay where you are", "body": EN_TEXT, "revision": 1}
    assert console.post(f"/canned/{reply.pk}/edit/", edit).status_code == 302
    reply.refresh_from_db()
    assert (reply.title, reply.revision, reply.updated_by) == ("Stay where you are", 2, coordinator.member)
    assert console.post(f"/canned/{reply.pk}/delete/").status_code == 302
    assert not CannedReply.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="canned_").order_by("sequence").values_list("action", "details")
    )
    assert actions == [
        (Action.CANNED_CREATE, {"canned": reply.pk}),
        (Action.CANNED_EDIT, {"canned": reply.pk, "revision": 2}),
        (Action.CANNED_DELETE, {"canned": reply.pk}),
    ]


def test_a_second_coordinator_editing_a_canned_reply_gets_a_conflict_and_keeps_their_text(
    coordinator: Staff,
) -> None:
    second = make_staff("second-coordinator", role=Role.COORDINATOR, invited_by=coordinator)
    reply = _canned(coordinator, "en", "Stay put", EN_TEXT)
    url = f"/canned/{reply.pk}/edit/"
    first_console, second_console = coordinator.console(language="en"), second.console(language="en")
    assert field_value(text(second_console.get(url)), "revision") == "1"
    saved = {"language": "en", "title": "Stay put", "body": "The first coordinator's words.", "revision": 1}
    assert first_console.post(url, saved).status_code == 302
    typed = {"language": "en", "title": "Stay put (new)", "body": "The second coordinator's words.", "revision": 1}
    response = second_console.post(url, typed)

    assert response.status_code == 409
    page = text(response)
    assert "coordinator saved a newer version" in page
    assert "The first coordinator's words." in page.split("The version saved now", 1)[1]
    assert textarea(page, "body") == "The second coordinator's words."
    assert field_value(page, "title") == "Stay put (new)"
    assert field_value(page, "revision") == "2"
    reply.refresh_from_db()
    assert (reply.body, reply.revision) == ("The first coordinator's words.", 2)


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        ("en", ["Choose the language.", "Give the reply a short name.", "The reply is empty."]),
        ("ru", ["Выберите язык.", "Дайте ответу короткое название.", "Ответ пустой."]),
    ],
)
def test_canned_reply_form_errors_are_clear_in_both_languages(
    coordinator: Staff, language: str, messages: list[str]
) -> None:
    response = coordinator.console(language=language).post("/canned/", {"language": "de", "title": "", "body": ""})
    assert response.status_code == 400
    page = text(response)
    for message in messages:
        assert message in page
    assert not CannedReply.objects.exists()
