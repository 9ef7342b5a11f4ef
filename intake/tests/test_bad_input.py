"""Bad input gets a clear message and loses nothing already saved; a crash keeps nothing half-written."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.test import override_settings

from casework import services
from casework.files import blob_store
from casework.models import Attachment, Case, Message
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REQUEST = {"urgency": "in_hiding", "region": "moscow", "message": "I am hiding at a friend's flat."}


def _upload(name: str, content: bytes) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def _started(language: str = "en") -> FaceClient:
    client = FaceClient(INTAKE)
    client.post("/language/", {"language": language, "next": "/"})
    client.get("/start/")
    return client


def _stored_blobs() -> list[str]:
    """Every file under the store's root, unfinished (.partial) ones included."""
    root = blob_store().root
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@override_settings(SP_ATTACHMENT_MAX_BYTES=1024)
def test_an_oversized_file_is_refused_by_name_and_the_text_is_kept(caseworker: Staff) -> None:
    client = _started()
    response = client.post("/request/", {**REQUEST, "attachments": _upload("scan.png", PNG + b"\x00" * 2048)})
    page = response.content.decode()
    assert response.status_code == 400
    assert "“scan.png” is too big" in page
    assert "I am hiding at a friend&#x27;s flat." in page
    assert "files have to be attached again" in page
    assert not Case.objects.exists()
    assert _stored_blobs() == []


def test_a_file_that_is_not_a_photo_or_pdf_is_refused(caseworker: Staff) -> None:
    client = _started()
    response = client.post(
        "/request/", {**REQUEST, "attachments": _upload("photo.png", b"MZ\x90\x00 not an image at all")}
    )
    assert response.status_code == 400
    assert "“photo.png” cannot be sent" in response.content.decode()
    assert not Case.objects.exists() and _stored_blobs() == []


def test_an_empty_file_is_ignored_not_stored(caseworker: Staff) -> None:
    client = _started()
    response = client.post("/request/", {**REQUEST, "attachments": _upload("empty.png", b"")})
    assert response.status_code == 302
    assert not Attachment.objects.exists() and _stored_blobs() == []


@override_settings(SP_ATTACHMENTS_PER_MESSAGE=2)
def test_too_many_files_are_refused_with_the_limit(caseworker: Staff) -> None:
    client = _started()
    files = [_upload(f"p{i}.png", PNG) for i in range(3)]
    response = client.post("/request/", {**REQUEST, "attachments": files})
    assert response.status_code == 400
    assert "At most 2 files at a time." in response.content.decode()
    assert _stored_blobs() == []


def test_an_empty_first_message_asks_for_a_few_words(caseworker: Staff) -> None:
    client = _started()
    response = client.post("/request/", {**REQUEST, "message": "   "})
    assert response.status_code == 400
    assert "Please write a few words about what is happening." in response.content.decode()


def test_a_huge_message_is_refused_and_kept_for_editing(caseworker: Staff) -> None:
    client = _started()
    huge = "word " * (settings.SP_MESSAGE_MAX_CHARS // 5 + 10)
    response = client.post("/request/", {**REQUEST, "message": huge})
    assert response.status_code == 400
    assert "The message is too long" in response.content.decode()
    assert huge.strip()[:200] in response.content.decode()


def test_missing_choices_are_named(caseworker: Staff) -> None:
    response = _started().post("/request/", {"message": "help"})
    page = response.content.decode()
    assert "Please choose how urgent it is." in page
    assert "Please choose a region" in page


def test_no_region_is_chosen_for_the_person_in_advance(caseworker: Staff) -> None:
    page = _started().get("/request/").content.decode()
    region_list = page[page.index('name="region"') : page.index("</select>", page.index('name="region"'))]
    assert re.findall(r"<option[^>]*>", region_list)[0] == '<option value="" selected>'


def test_a_contact_without_its_kind_is_explained(caseworker: Staff) -> None:
    response = _started().post("/request/", {**REQUEST, "contact_value": "@someone"})
    assert "Please choose what kind of contact this is." in response.content.decode()


def test_a_two_word_danger_word_is_refused(caseworker: Staff) -> None:
    response = _started().post("/request/", {**REQUEST, "duress_word": "two words"})
    assert "The danger word must be one single word." in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "Please type your secret phrase."),
        ("!!! ... ---", "A secret phrase is made of words."),
        ("only three words", "A secret phrase has 6 words."),
        ("x" * 500, "much longer than a secret phrase"),
    ],
)
def test_malformed_codenames_get_a_clear_message(db: None, typed: str, expected: str) -> None:
    client = FaceClient(INTAKE)
    client.post("/language/", {"language": "en", "next": "/"})
    response = client.post("/login/", {"codename": typed})
    assert response.status_code == 400
    assert expected in response.content.decode()


def test_the_request_form_speaks_russian_by_default(caseworker: Staff) -> None:
    client = FaceClient(INTAKE)
    client.get("/start/")
    page = client.post("/request/", {"message": "help"}).content.decode()
    assert 'lang="ru"' in page
    assert "Please choose how urgent it is." not in page


@override_settings(SP_ATTACHMENT_MAX_BYTES=1024)
def test_a_refused_reply_loses_nothing_already_in_the_conversation(person: PersonAtRisk) -> None:
    client = person.intake()
    client.post("/language/", {"language": "en", "next": "/conversation/"})
    response = client.post(
        "/conversation/", {"message": "Second message", "attachments": _upload("big.pdf", b"%PDF-" + b"0" * 4096)}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "First message from the person." in page
    assert "Second message" in page  # still in the text box
    assert "Your message was not sent yet" in page
    assert Message.objects.filter(case=person.case, sender="person", is_decoy=False).count() == 1


def test_an_empty_reply_asks_for_text_or_a_file(person: PersonAtRisk) -> None:
    client = person.intake()
    client.post("/language/", {"language": "en", "next": "/conversation/"})
    response = client.post("/conversation/", {"message": ""})
    assert response.status_code == 400
    assert "Please write a message or attach a file." in response.content.decode()


def test_a_crash_while_opening_a_case_leaves_no_record_and_no_file(
    caseworker: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = services._message_create

    def crash_on_the_acknowledgement(case, sender, body, readers, **kwargs):  # type: ignore[no-untyped-def]
        if sender == "automatic":
            raise RuntimeError("simulated crash after the first message was written")
        return real_create(case, sender, body, readers, **kwargs)

    monkeypatch.setattr(services, "_message_create", crash_on_the_acknowledgement)
    client = _started()
    client.raise_request_exception = False
    response = client.post("/request/", {**REQUEST, "attachments": _upload("p.png", PNG)})
    assert response.status_code == 500
    assert not Case.objects.exists() and not Message.objects.exists() and not Attachment.objects.exists()
    assert _stored_blobs() == []


def test_a_crash_while_replying_keeps_the_conversation_as_it_was(
    person: PersonAtRisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = person.intake()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash while writing attachments")

    monkeypatch.setattr(services.Attachment.objects, "bulk_create", crash)
    client.raise_request_exception = False
    response = client.post("/conversation/", {"message": "with a file", "attachments": _upload("p.png", PNG)})
    assert response.status_code == 500
    assert Message.objects.filter(case=person.case, sender="person", is_decoy=False).count() == 1
    assert _stored_blobs() == []
    assert "First message from the person." in person.intake().get("/conversation/").content.decode()


def test_an_expired_form_shows_back_what_was_typed_and_keeps_no_file(caseworker: Staff) -> None:
    """The session ran out while the person was writing: the post is refused (its CSRF token is
    gone), nothing is stored, and the long message is shown back so it is not lost."""
    client = FaceClient(INTAKE, enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    long_text = "Everything that happened to me since Tuesday. " * 20
    response = client.post(
        "/request/",
        {**REQUEST, "message": long_text, "attachments": _upload("p.png", PNG)},
        headers={"Sec-Fetch-Site": "same-origin"},  # the form was on this site
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "This page has expired" in page and "Copy it before you leave this page" in page
    assert long_text.strip()[:300] in page
    assert not Case.objects.exists()
    assert _stored_blobs() == []
