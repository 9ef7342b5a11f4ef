"""Files sent through the intake (with a first request or in a conversation) count against one
global budget of bytes per window, which keeps no address. Over it, files are refused before a
byte of them is written, not even encrypted, and the person's words are still sent: someone who
presses Send and leaves at once (the quick exit) has still reached the hotline."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, BinaryIO

import pytest
from django.conf import settings
from django.test import override_settings

from casework.files import blob_store
from casework.models import Attachment, Case, Message
from core.tests.test_translations import untranslated
from intake import uploads
from intake.models import BudgetKind, BudgetWindow
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REQUEST = {"urgency": "in_hiding", "region": "moscow", "message": "I am hiding at a friend's flat."}
# Less than any request with a file in it: every file is over the budget, every word fits none.
TINY = 100


def _upload(name: str, content: bytes = PNG) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def _uploaded_bytes() -> int:
    window = BudgetWindow.objects.filter(kind=BudgetKind.UPLOAD_BYTES).first()
    return window.count if window else 0


def _stored_bytes_on_disk() -> int:
    return sum(path.stat().st_size for path in blob_store().root.rglob("*") if path.is_file())


def _stored_files() -> list[str]:
    root = blob_store().root
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


class _WatchedStore:
    """The configured store, with every blob the handler starts writing noted down."""

    def __init__(self, store: Any, started: list[str]) -> None:
        self._store, self._started = store, started

    def writer(self, name: str) -> AbstractContextManager[BinaryIO]:
        self._started.append(name)
        return self._store.writer(name)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture
def blobs_started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    started: list[str] = []
    monkeypatch.setattr(uploads, "blob_store", lambda: _WatchedStore(blob_store(), started))
    yield started


def _person_messages(person: PersonAtRisk) -> list[Message]:
    return list(Message.objects.filter(case=person.case, sender="person", is_decoy=False).order_by("created_at"))


def test_files_count_against_the_budget_by_their_size_and_words_alone_spend_nothing(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    files = [_upload("a.png"), _upload("b.png", PNG + b"\x00" * 100)]
    assert client.post("/conversation/", {"message": "Two photos", "attachments": files}).status_code == 302
    assert Attachment.objects.count() == 2
    on_disk = _stored_bytes_on_disk()
    assert _uploaded_bytes() == on_disk > 2 * len(PNG) + 100
    assert client.post("/conversation/", {"message": "Only words"}).status_code == 302
    assert _uploaded_bytes() == on_disk


def test_the_budget_row_holds_no_exact_file_size(person: PersonAtRisk) -> None:
    """Attacker: a database reader. The budget window is a plaintext row and, on a quiet line,
    often counts one message's files: it is charged the padded size on disk, so two files in one
    padding bucket leave the same count, as they leave the same blob sizes."""
    counts = []
    for extra in (100, 101):
        client = person.intake(language="en")
        BudgetWindow.objects.all().delete()
        files = [_upload("a.png", PNG + b"\x00" * extra)]
        assert client.post("/conversation/", {"message": "A photo"}).status_code == 302
        assert client.post("/conversation/", {"message": "A photo", "attachments": files}).status_code == 302
        counts.append(_uploaded_bytes())
    assert counts[0] == counts[1] > 0


def test_files_that_are_refused_give_their_bytes_back(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    document = _upload("notes.txt", b"plain text, not a photo" * 10)
    assert client.post("/conversation/", {"message": "", "attachments": document}).status_code == 400
    assert _uploaded_bytes() == 0


@override_settings(SP_UPLOAD_BUDGET_BYTES=TINY)
def test_over_the_budget_the_words_are_sent_and_the_files_never_written(
    person: PersonAtRisk, blobs_started: list[str]
) -> None:
    """Attacker: anonymous, with a codename of their own, sending file after file to fill the
    disk and keep the server encrypting. Once the budget is spent, no byte of a file is written."""
    client = person.intake(language="en")
    response = client.post(
        "/conversation/", {"message": "They took my passport.", "attachments": [_upload("a.png"), _upload("b.png")]}
    )
    assert (response.status_code, response["Location"]) == (302, "/conversation/")
    assert blobs_started == [] and _stored_files() == []
    sent = _person_messages(person)[-1]
    assert not Attachment.objects.filter(message=sent).exists()
    page = client.get("/conversation/").content.decode()
    assert "They took my passport." in page
    assert "Your message was sent, but without the files" in page
    assert "Please send them again in" in page
    assert _uploaded_bytes() == 0


@override_settings(SP_UPLOAD_BUDGET_BYTES=TINY)
def test_files_alone_over_the_budget_send_nothing_and_say_when_to_try_again(
    person: PersonAtRisk, blobs_started: list[str]
) -> None:
    client = person.intake(language="en")
    before = len(_person_messages(person))
    response = client.post("/conversation/", {"message": "", "attachments": _upload("a.png")})
    assert response.status_code == 429
    page = response.content.decode()
    assert "The service cannot take files right now" in page and "Please try again in" in page
    assert "Your message was not sent yet" in page
    assert 'href="/exit/"' in page
    assert len(_person_messages(person)) == before
    assert blobs_started == [] and _stored_files() == []


@override_settings(SP_UPLOAD_BUDGET_BYTES=TINY)
def test_a_first_request_over_the_budget_opens_the_case_without_its_files(
    caseworker: Staff, blobs_started: list[str]
) -> None:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.get("/start/")
    response = client.post("/request/", {**REQUEST, "attachments": _upload("summons.png")})
    assert (response.status_code, response["Location"]) == (302, "/conversation/")
    assert Case.objects.count() == 1 and not Attachment.objects.exists()
    assert blobs_started == [] and _stored_files() == []
    page = client.get("/conversation/").content.decode()
    assert "I am hiding at a friend&#x27;s flat." in page
    assert "Your message was sent, but without the files" in page


@override_settings(SP_UPLOAD_BUDGET_BYTES=TINY)
def test_a_first_request_with_mistakes_over_the_budget_keeps_the_words_and_says_why_files_wait(
    caseworker: Staff, blobs_started: list[str]
) -> None:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.get("/start/")
    response = client.post("/request/", {**REQUEST, "region": "mars", "attachments": _upload("summons.png")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "I am hiding at a friend&#x27;s flat." in page
    assert "The service cannot take files right now" in page
    assert "files have to be attached again" in page
    assert not Case.objects.exists() and blobs_started == []


@override_settings(SP_UPLOAD_BUDGET_BYTES=5000)
def test_files_are_taken_again_in_the_next_window(person: PersonAtRisk) -> None:
    client = person.intake(language="en")

    def send_a_photo() -> None:
        response = client.post("/conversation/", {"message": "A photo", "attachments": _upload("a.png")})
        assert response.status_code == 302

    send_a_photo()
    assert Attachment.objects.count() == 1
    BudgetWindow.objects.filter(kind=BudgetKind.UPLOAD_BYTES).update(count=5000)  # spent by others
    send_a_photo()
    assert Attachment.objects.count() == 1
    window = BudgetWindow.objects.get(kind=BudgetKind.UPLOAD_BYTES)
    window.window_start -= timedelta(hours=1)  # the window has passed
    window.save(update_fields=["window_start"])
    send_a_photo()
    assert Attachment.objects.count() == 2


@override_settings(SP_UPLOAD_BUDGET_BYTES=TINY)
def test_the_pages_about_files_over_the_budget_speak_the_persons_language(person: PersonAtRisk) -> None:
    pages = {}
    for language in ("en", "ru"):
        client = person.intake(language=language)
        alone = client.post("/conversation/", {"message": "", "attachments": _upload("a.png")})
        assert alone.status_code == 429
        client.post("/conversation/", {"message": "Слова", "attachments": _upload("a.png")})
        pages[language] = alone.content.decode() + client.get("/conversation/").content.decode()
    assert "Сейчас сервис не может принять файлы" in pages["ru"]
    assert "без файлов" in pages["ru"]
    assert untranslated(pages["en"], pages["ru"]) == []
