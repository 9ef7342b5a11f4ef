"""Looking at the portal writes nothing on the server: no session row for anonymous visitors.

Every cookieless page view used to write a session row (the CSRF token of the language
switch and of the login form lived in the session): 3,000 views made 3,000 rows, and whoever
can send requests could fill the disk. A session begins only when the person does something
that needs one: asks for a secret phrase (/start/), logs in, or sends a first request. The
CSRF token lives in a cookie that ends with the browser; the language switch needs none.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import URLPattern
from django.utils import timezone

from config import urls_intake
from tests.personas import INTAKE, FaceClient, PersonAtRisk

VIEWS = 5  # per page: a few suffice to tell "one row per view" from "none"
# Every intake route, as a cookieless browser would ask for it.
ANONYMOUS_GETS = {
    "landing": "/",
    "login": "/login/",
    "conversation": "/conversation/",  # sends a visitor without a session to the login page
    "request": "/request/",  # sends a visitor without a phrase to /start/
    "download": "/conversation/file/",
    "checkin": "/checkin/",
    "forget": "/conversation/delete/",  # sends a visitor without a session to the login page
    "logout": "/logout/",
    "exit": "/exit/",
    "connect": "/connect/",
    "language": "/language/",
    "static": "/static/intake.css",
}
# The one page that begins a session: the secret phrase it shows is kept, sealed, until the
# first request is sent (core/vault.py). Asking for a phrase is something that needs one.
STARTS_A_SESSION = {"start": "/start/"}


def _rows() -> int:
    return Session.objects.count()


def _cookieless() -> FaceClient:
    return FaceClient(INTAKE, enforce_csrf_checks=True)


def test_every_intake_route_is_listed_here() -> None:
    """A new page cannot be added without saying whether a visit to it begins a session."""
    names = {pattern.name for pattern in urls_intake.urlpatterns if isinstance(pattern, URLPattern)}
    assert names == set(ANONYMOUS_GETS) | set(STARTS_A_SESSION)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ANONYMOUS_GETS))
def test_cookieless_views_of_an_intake_page_write_no_session_row(name: str) -> None:
    """Attacker: anyone on the internet, sending cookieless requests to fill the session table."""
    for _ in range(VIEWS):
        _cookieless().get(ANONYMOUS_GETS[name])
    assert _rows() == 0


@pytest.mark.django_db
def test_a_missing_page_writes_no_session_row() -> None:
    for _ in range(VIEWS):
        assert _cookieless().get("/no-such-page/").status_code == 404
    assert _rows() == 0


@pytest.mark.django_db
def test_the_landing_page_sets_no_cookie_at_all() -> None:
    """Nothing is left in a browser that only looked (T2): not even a CSRF cookie for the
    language buttons."""
    response = _cookieless().get("/")
    assert response.status_code == 200
    assert not response.cookies, list(response.cookies)


@pytest.mark.usefixtures("caseworker")  # the line is open: /start/ gives a phrase
def test_asking_for_a_secret_phrase_begins_one_session() -> None:
    for _ in range(VIEWS):
        assert _cookieless().get("/start/").status_code == 200
    assert _rows() == VIEWS


@pytest.mark.usefixtures("caseworker")
def test_the_session_of_a_visitor_who_asked_for_a_phrase_and_left_is_deleted_by_the_worker() -> None:
    """Attacker: anyone asking for phrases to fill the session table. Each such session ends
    after the intake's idle time, and the worker's periodic purge deletes the row."""
    left = _cookieless()
    left.get("/start/")
    staying = _cookieless()
    staying.get("/start/")
    Session.objects.filter(session_key=left.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    call_command("worker", "--once")
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        staying.cookies[settings.SESSION_COOKIE_NAME].value
    ]


@pytest.mark.django_db
def test_a_wrong_phrase_at_login_writes_no_session_row() -> None:
    client = _cookieless()
    client.get("/login/")
    response = client.post(
        "/login/",
        {"codename": "one two three four five six", "csrfmiddlewaretoken": _token(client)},
    )
    assert response.status_code == 400
    assert _rows() == 0


def _token(client: FaceClient) -> str:
    page = client.get("/login/").content.decode()
    return page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


# --- the language switch needs no token --------------------------------------------------


@pytest.mark.django_db
def test_the_language_buttons_work_without_a_session_or_token() -> None:
    client = _cookieless()
    response = client.post(
        "/language/", {"language": "en", "next": "/login/"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert client.get("/login/")["Content-Language"] == "en"
    assert _rows() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
    ],
    ids=["cross-site", "same-site", "other origin", "null origin"],
)
def test_another_site_cannot_switch_the_language(headers: dict[str, str]) -> None:
    """Attacker: a page elsewhere that posts to the language switch. Without a token, the
    browser's own word on where the form was decides."""
    response = _cookieless().post("/language/", {"language": "en", "next": "/"}, headers=headers)
    assert response.status_code == 302 and response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://attacker.example/", "//attacker.example/", "/\\attacker.example"])
def test_the_language_switch_returns_only_to_this_site(target: str) -> None:
    response = _cookieless().post("/language/", {"language": "en", "next": target})
    assert response["Location"] == "/"


# --- an expired session after typing ---------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_written_while_the_session_ran_out_is_shown_back(person: PersonAtRisk) -> None:
    """The CSRF token now outlives the server-side session (it ends with the browser): a reply
    sent after the session expired reaches the view, which shows the text back instead of
    sending the person to the login page without it."""
    client = person.intake()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.handler.enforce_csrf_checks = True
    page = client.get("/conversation/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    typed = "Everything that happened since Tuesday, written slowly. " * 10
    response = client.post(
        "/conversation/",
        {"message": typed, "csrfmiddlewaretoken": token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 403
    text = response.content.decode()
    assert "This page has expired" in text and typed.strip()[:200] in text
