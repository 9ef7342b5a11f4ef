"""A request body that did not arrive whole is refused, never stored cut short (core/body.py).

A message cut off inside its text field used to be stored truncated and answered "Sent". Now
nothing is stored, what arrived is given back in the form with the reason, and the session
goes on. Attacker: none here but the network (a broken mobile connection, a proxy that gave
up, a client the server cut off for not sending); the harm is a message that looks sent whole
and is not, to the person and to the staff who act on it.

Below the face served by gunicorn: the same through the test client, whose server stand-in
hands Django fewer bytes than the Content-Length, as a server does when a connection ends early.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from casenotes.models import CaseNote
from casework.models import Case, Message
from core.body import BodyReceipt
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff
from tests.served import ServedFace, served_face

BOUNDARY = "sp-incomplete-41c9"
LONG = "Мы прячемся у друзей, нам нужна помощь с документами. " * 35  # ~1,900 characters
NOT_WHOLE_EN = "Your message did not arrive whole. Please check it and send again."


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _cut_inside(body: bytes, text: str) -> bytes:
    """The body up to the middle of `text`: the connection ended there."""
    encoded = text.encode()
    start = body.index(encoded)
    return body[: start + len(encoded) // 2]


def _post(client: Client, path: str, body: bytes, sent: bytes, content_type: str) -> object:
    """POST `body` (whose length is declared) of which the server hands Django only `sent`."""
    return client.generic("POST", path, body, content_type=content_type, **{"wsgi.input": io.BytesIO(sent)})


def _started(language: str = "en") -> FaceClient:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.get("/start/")
    return client


FIRST = {"urgency": "in_hiding", "region": "moscow", "message": LONG}


@pytest.mark.parametrize("declared", ["whole", "as cut"])
def test_a_first_request_cut_inside_its_message_is_given_back_and_the_codename_stays(
    caseworker: Staff, declared: str
) -> None:
    client = _started()
    body = _multipart(FIRST)
    sent = _cut_inside(body, LONG)
    # "whole": the Content-Length of the whole body, of which fewer bytes came; "as cut": a
    # Content-Length that matches what came, which then ends without its closing delimiter.
    response = _post(
        client, "/request/", body if declared == "whole" else sent, sent, f"multipart/form-data; boundary={BOUNDARY}"
    )
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert NOT_WHOLE_EN in page
    assert LONG[:200] in page and LONG not in page
    assert not Case.objects.exists()

    again = client.post("/request/", FIRST)  # the pending codename is still in the session
    assert again.status_code == 302
    case = Case.objects.get()
    assert client.get("/conversation/").status_code == 200
    assert Message.objects.filter(case=case, sender="person", is_decoy=False).count() == 1


def test_a_reply_cut_inside_its_text_is_given_back_and_the_session_goes_on(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    before = Message.objects.filter(case=person.case).count()
    body = _multipart({"message": LONG})
    response = _post(
        client, "/conversation/", body, _cut_inside(body, LONG), f"multipart/form-data; boundary={BOUNDARY}"
    )
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert NOT_WHOLE_EN in page and LONG[:200] in page and LONG not in page
    assert Message.objects.filter(case=person.case).count() == before

    assert client.get("/conversation/").status_code == 200
    assert client.post("/conversation/", {"message": LONG}).status_code == 302
    assert Message.objects.filter(case=person.case).count() == before + 1


def test_a_staff_reply_cut_inside_its_text_stays_in_the_reply_box(person: PersonAtRisk, caseworker: Staff) -> None:
    console = caseworker.console(language="en")
    path = f"/cases/{person.case.public_id}/reply/"
    before = Message.objects.filter(case=person.case).count()
    body = f"body={LONG}".encode()
    sent = _cut_inside(body, LONG)
    response = _post(console, path, body, sent, "application/x-www-form-urlencoded")
    page = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert NOT_WHOLE_EN in page and LONG[:200] in page
    assert Message.objects.filter(case=person.case).count() == before
    assert console.get(f"/cases/{person.case.public_id}/").status_code == 200  # still signed in


def test_any_other_form_cut_short_is_refused_before_its_view(person: PersonAtRisk, caseworker: Staff) -> None:
    console = caseworker.console(language="en")
    path = f"/cases/{person.case.public_id}/notes/"
    body = f"body={LONG}".encode()
    response = _post(console, path, body, _cut_inside(body, LONG), "application/x-www-form-urlencoded")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert not CaseNote.objects.exists()
    assert console.post(path, {"body": LONG}).status_code == 302  # the same note, whole, is kept
    assert CaseNote.objects.count() == 1


def test_the_receipt_finds_the_closing_delimiter_across_reads() -> None:
    body = _multipart({"message": "hello"})
    for size in (1, 3, 7, len(body)):
        receipt = BodyReceipt(io.BytesIO(body), len(body), BOUNDARY.encode())
        while receipt.read(size):
            pass
        assert not receipt.incomplete, size
    cut = body[: -len(b"--\r\n")]
    receipt = BodyReceipt(io.BytesIO(cut), len(cut), BOUNDARY.encode())
    assert receipt.read() == cut and receipt.incomplete
    short = BodyReceipt(io.BytesIO(b"message=hel"), len(b"message=hello"), None)
    assert short.read() == b"message=hel" and short.incomplete


# --- the face served by gunicorn --------------------------------------------------------------


def _raw_post(face: ServedFace, path: str, cookies: str, body: bytes, sent: bytes) -> str:
    """Declares `body`, sends `sent`, then shuts its sending side: what the server answers."""
    with face.connect() as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{face.port}\r\nOrigin: http://127.0.0.1:{face.port}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n"
            f"Cookie: {cookies}\r\n\r\n"
        )
        sock.sendall(head.encode() + sent)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.django_db(transaction=True)
def test_a_served_face_refuses_a_reply_whose_connection_ended_early(person: PersonAtRisk, tmp_path: Path) -> None:
    before = Message.objects.filter(case=person.case).count()
    with served_face("intake", tmp_path) as face:
        visitor = face.browser()
        visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        login = urlencode({"csrfmiddlewaretoken": visitor.csrf_token("/login/"), "codename": person.codename})
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert visitor.request("POST", "/login/", login.encode(), form).status == 302
        body = _multipart({"csrfmiddlewaretoken": visitor.csrf_token("/conversation/"), "message": LONG})
        answer = _raw_post(face, "/conversation/", visitor.cookie_header(), body, _cut_inside(body, LONG))
        assert answer.startswith("HTTP/1.1 400"), answer[:300]
        assert NOT_WHOLE_EN in answer and LONG[:200] in answer
        assert Message.objects.filter(case=person.case).count() == before
        assert visitor.get("/conversation/").status == 200  # the session goes on
    assert "Traceback" not in face.log()
