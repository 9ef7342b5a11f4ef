"""Two first requests sent at once from one browser (two windows, or a double click after an
edit): both carry the same pending secret phrase, and only one can open the case.

Both used to answer "Sent" while only the first text was stored. Now the one that comes
second is logged in to the case the first one opened and its words are added there as the
person's next message, unless they are the very words already stored (a double click):
nothing is ever called sent that was not kept. Real concurrent requests through the test
client, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import copy
import io
import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connections
from django.http import HttpResponse

from casework import services
from casework.files import blob_store
from casework.models import Attachment, Case, Message
from tests.personas import INTAKE, FaceClient, Staff

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST = {"urgency": "in_hiding", "region": "moscow"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Overlap:
    """Makes two requests overlap for certain, and in a known order: each holds at its first
    codename derivation (after it has read the session and the form) until the other gets
    there too; then the one sent second waits until the first has answered. The real
    derivation runs."""

    def __init__(self) -> None:
        self.meet = threading.Barrier(2, timeout=30)
        self.first_answered = threading.Event()
        self.seen = threading.local()

    def at_derivation(self) -> None:
        if getattr(self.seen, "met", False):
            return
        self.seen.met = True
        self.meet.wait()
        if threading.current_thread().name == "second":
            assert self.first_answered.wait(timeout=60)


@pytest.fixture
def overlap(monkeypatch: pytest.MonkeyPatch) -> Overlap:
    overlap = Overlap()
    derive = services.derive_secrets

    def overlapping(normalised: str) -> object:
        overlap.at_derivation()
        return derive(normalised)

    monkeypatch.setattr(services, "derive_secrets", overlapping)
    return overlap


def _one_browser_two_windows() -> tuple[FaceClient, FaceClient]:
    first = FaceClient(INTAKE)
    first.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert first.get("/start/").status_code == 200
    second = FaceClient(INTAKE)
    second.cookies = copy.deepcopy(first.cookies)
    return first, second


def _at_once(
    overlap: Overlap, first: Callable[[], HttpResponse], second: Callable[[], HttpResponse]
) -> tuple[HttpResponse, HttpResponse]:
    """Send both at once; the one named first opens the case."""
    responses: dict[str, HttpResponse] = {}
    errors: list[BaseException] = []

    def run(name: str, send: Callable[[], HttpResponse]) -> None:
        try:
            responses[name] = send()
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            if name == "first":
                overlap.first_answered.set()
            connections.close_all()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return responses["first"], responses["second"]


def _upload(name: str) -> io.BytesIO:
    handle = io.BytesIO(PNG)
    handle.name = name
    return handle


def _conversation(client: FaceClient) -> str:
    response = client.get("/conversation/")
    assert response.status_code == 200
    return response.content.decode()


def _stored_files() -> list[str]:
    root = blob_store().root
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_two_different_first_requests_sent_at_once_are_both_kept(caseworker: Staff, overlap: Overlap) -> None:
    first, second = _one_browser_two_windows()
    texts = ["They took my brother this morning.", "I also need to tell you about my passport."]

    responses = _at_once(
        overlap,
        lambda: first.post("/request/", {**REQUEST, "message": texts[0]}),
        lambda: second.post("/request/", {**REQUEST, "message": texts[1]}),
    )

    assert [response.status_code for response in responses] == [302, 302]
    assert all(response["Location"] == "/conversation/" for response in responses)
    assert Case.objects.count() == 1
    assert Message.objects.filter(sender="person", is_decoy=False).count() == 2
    for client in (first, second):
        page = _conversation(client)
        assert texts[0] in page and texts[1] in page


def test_the_second_of_two_first_requests_is_told_it_was_added_to_the_first(
    caseworker: Staff, overlap: Overlap
) -> None:
    first, second = _one_browser_two_windows()
    _at_once(
        overlap,
        lambda: first.post("/request/", {**REQUEST, "message": "One window."}),
        lambda: second.post("/request/", {**REQUEST, "message": "The other window."}),
    )
    assert "Sent. We will answer here." in _conversation(first)
    page = _conversation(second)
    assert "was added to the request you had just sent" in page and "Sent. We will answer here." not in page


def test_a_second_request_with_its_own_file_keeps_the_file(caseworker: Staff, overlap: Overlap) -> None:
    first, second = _one_browser_two_windows()
    text = "I am hiding at a friend's flat."
    _at_once(
        overlap,
        lambda: first.post("/request/", {**REQUEST, "message": text}),
        lambda: second.post("/request/", {**REQUEST, "message": text, "attachments": _upload("passport.png")}),
    )
    assert Attachment.objects.count() == 1 and len(_stored_files()) == 1
    assert "passport.png" in _conversation(first)


def test_a_double_click_stores_the_request_once(caseworker: Staff, overlap: Overlap) -> None:
    """The same form sent twice: its words and file are kept once, and both answers are true."""
    first, second = _one_browser_two_windows()
    text = "Please help, they know where I live."
    responses = _at_once(
        overlap,
        lambda: first.post("/request/", {**REQUEST, "message": text, "attachments": _upload("photo.png")}),
        lambda: second.post("/request/", {**REQUEST, "message": text, "attachments": _upload("photo.png")}),
    )
    assert [response.status_code for response in responses] == [302, 302]
    assert Message.objects.filter(sender="person", is_decoy=False).count() == 1
    assert Attachment.objects.count() == 1 and len(_stored_files()) == 1
    for client in (first, second):
        page = _conversation(client)
        assert page.count("Please help, they know where I live.") == 1 and "Sent. We will answer here." in page
