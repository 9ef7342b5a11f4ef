"""What every page tells the browser (T1, T2): keep nothing, send nothing elsewhere, load
nothing from elsewhere, remember no secret input, carry no tell-tale title, leave in one step.

Each check runs against every GET-able intake page (and the pages a person meets on the way:
the form shown again with errors, the expired page, the 404 page) and a few console pages.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import override_settings

from accounts.models import Team
from tests.personas import CONSOLE, INTAKE, FaceClient, PersonAtRisk, make_coordinator, make_staff, open_case

# Words that would tell an onlooker what the site is for, in either language.
TELLTALE_WORDS = ("help", "помощь", "помощи", "gay", "гей", "лгбт", "lgbt", "asylum", "убежище", "rights", "права")
# Inputs whose values must never land in the browser's form history.
SECRET_INPUTS = {"codename", "duress_pick", "duress_word", "decoy_opening", "contact_value", "cover_phrase", "message"}
URL_ATTRIBUTES = {
    "src",
    "href",
    "action",
    "formaction",
    "srcset",
    "poster",
    "data",
    "background",
    "cite",
    "ping",
    "manifest",
}
INTAKE_SCRIPTS = {"/static/exit.js"}
# The policy's only sources: the site itself, or nothing. The console may show data: images (the TOTP QR code).
ALLOWED_SOURCES = {"intake": {"'self'", "'none'"}, "console": {"'self'", "'none'", "data:"}}


# --- the world the pages are fetched in -----------------------------------------------------


@dataclass
class World:
    person: PersonAtRisk
    jars: dict[str, Any]

    def browser(self, face: str, persona: str = "anonymous", *, language: str | None = None) -> FaceClient:
        client = FaceClient(FACES[face])
        if persona != "anonymous":
            client.cookies = copy.deepcopy(self.jars[persona])
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client


FACES = {"intake": INTAKE, "console": CONSOLE}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once, rolled back at the end; each test runs in its own savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        coordinator = make_coordinator()
        caseworker = make_staff("caseworker", invited_by=coordinator)
        make_staff("outsider", team=Team.objects.create(name="Documentation"), invited_by=coordinator)
        person = open_case(body="Headers: the person's first message.")
        yield World(person, {"person": person.intake().cookies, "caseworker": caseworker.console().cookies})
        transaction.set_rollback(True)


# --- the pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    face: str
    status: int
    fetch: Callable[[World, str | None], HttpResponse]
    secret_inputs: frozenset[str] = field(default_factory=frozenset)  # must be present on the page


def _get(face: str, path: str, persona: str = "anonymous") -> Callable[[World, str | None], HttpResponse]:
    return lambda world, language: world.browser(face, persona, language=language).get(path)


def _request_form(world: World, language: str | None) -> HttpResponse:
    client = world.browser("intake", language=language)
    client.get("/start/")  # the form follows the page that hands out the codename
    return client.get("/request/")


def _request_form_with_errors(world: World, language: str | None) -> HttpResponse:
    client = world.browser("intake", language=language)
    client.get("/start/")
    return client.post("/request/", {"message": "", "contact_value": "+7 900 000-00-00", "duress_word": "two words"})


def _login_with_errors(world: World, language: str | None) -> HttpResponse:
    # Too few words: rejected by the form, before any derivation or failure count.
    return world.browser("intake", language=language).post("/login/", {"codename": "only three words"})


def _expired(world: World, language: str | None) -> HttpResponse:
    client = world.browser("intake", language=language)
    client.handler.enforce_csrf_checks = True  # a form sent after its session ended
    return client.post("/login/", {"codename": "a form posted after its session ended"})


def _console_expired(world: World, language: str | None) -> HttpResponse:
    client = world.browser("console", language=language)
    client.handler.enforce_csrf_checks = True
    return client.post("/login/", {"username": "caseworker", "password": "", "code": ""})


ALL_SECRETS = frozenset(SECRET_INPUTS)
INTAKE_PAGES = {
    "landing": Page("intake", 200, _get("intake", "/")),
    "start": Page("intake", 200, _get("intake", "/start/")),
    "request": Page("intake", 200, _request_form, ALL_SECRETS - {"codename"}),
    "request with errors": Page("intake", 400, _request_form_with_errors, ALL_SECRETS - {"codename"}),
    "login": Page("intake", 200, _get("intake", "/login/"), frozenset({"codename"})),
    "connect": Page("intake", 200, _get("intake", "/connect/")),
    "login with errors": Page("intake", 400, _login_with_errors, frozenset({"codename"})),
    "conversation": Page("intake", 200, _get("intake", "/conversation/", "person"), frozenset({"message"})),
    "expired form": Page("intake", 403, _expired),
    "not found": Page("intake", 404, _get("intake", "/no-such-page/")),
}
CONSOLE_PAGES = {
    "console login": Page("console", 200, _get("console", "/login/")),
    "console inbox": Page("console", 200, _get("console", "/inbox/", "caseworker")),
    "console not found": Page("console", 404, _get("console", "/no-such-page/", "caseworker")),
    "console expired form": Page("console", 403, _console_expired),
}
PAGES = {**INTAKE_PAGES, **CONSOLE_PAGES}


def fetch(world: World, name: str, language: str | None = None) -> HttpResponse:
    page = PAGES[name]
    response = page.fetch(world, language)
    assert response.status_code == page.status, f"{name}: {response.status_code} {response.content[:500]!r}"
    return response


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_no_page_may_be_cached_framed_sniffed_or_followed_by_a_referrer(world: World, name: str) -> None:
    response = fetch(world, name)
    assert "no-store" in response["Cache-Control"]
    # same-origin sends nothing to other sites, and keeps the Origin header Django's CSRF check
    # needs on HTTPS (with no-referrer, browsers send "Origin: null" on form posts).
    assert response["Referrer-Policy"] in {"no-referrer", "same-origin"}
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _csp(response: HttpResponse) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        if part.strip():
            name, *sources = part.split()
            directives[name.lower()] = sources
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_every_page_allows_nothing_but_itself_in_its_content_security_policy(world: World, name: str) -> None:
    response = fetch(world, name)
    policy = response["Content-Security-Policy"]
    directives = _csp(response)
    assert directives.get("default-src") == ["'none'"], policy
    assert directives.get("frame-ancestors") == ["'none'"], policy
    assert directives.get("base-uri") == ["'none'"], policy
    for forbidden in ("http:", "https:", "*", "'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"):
        assert forbidden not in policy, f"{name}: {forbidden} in {policy}"
    for directive, sources in directives.items():
        unexpected = set(sources) - ALLOWED_SOURCES[PAGES[name].face]
        assert not unexpected, f"{name}: {directive} allows {unexpected}"


def _cookie_problems(response: HttpResponse) -> list[str]:
    """Every cookie dies with the browser session, is out of scripts' reach and stays on this site.
    A deletion (empty, Max-Age=0, expiry in the past) is allowed: it removes a cookie and
    carries nothing a script could read."""
    problems = []
    now = datetime.now(tz=UTC)
    for name, morsel in response.cookies.items():
        max_age = int(morsel["max-age"]) if morsel["max-age"] not in ("", None) else None
        expires = parsedate_to_datetime(morsel["expires"]) if morsel["expires"] else None
        if max_age is not None and max_age > 0:
            problems.append(f"{name} lives for {max_age} seconds")
        if expires is not None and expires > now:
            problems.append(f"{name} expires on {morsel['expires']}")
        deletion = morsel.value == "" and (max_age == 0 or (expires is not None and expires <= now))
        if not morsel["httponly"] and not deletion:
            problems.append(f"{name} is readable by scripts")
        if str(morsel["samesite"]).lower() != "strict":
            problems.append(f"{name} has SameSite={morsel['samesite']!r}")
    return problems


def _logging_in(world: World) -> HttpResponse:
    return FaceClient(INTAKE).post("/login/", {"codename": world.person.codename})


def _sending(world: World) -> HttpResponse:
    return world.browser("intake", "person").post("/conversation/", {"message": "Still here."})


def _choosing_a_language(world: World) -> HttpResponse:
    return FaceClient(INTAKE).post("/language/", {"language": "en", "next": "/"})


def _leaving(world: World) -> HttpResponse:
    return world.browser("intake", "person").get("/exit/")


def _logging_out(world: World) -> HttpResponse:
    return world.browser("intake", "person").post("/logout/")


# Responses that set or delete cookies without being pages.
COOKIE_STEPS: dict[str, tuple[int, Callable[[World], HttpResponse]]] = {
    "codename login": (302, _logging_in),
    "sending a message": (302, _sending),
    "choosing a language": (302, _choosing_a_language),
    "quick exit": (302, _leaving),
    "logging out": (302, _logging_out),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*PAGES, *COOKIE_STEPS])
def test_no_response_sets_a_persistent_scriptable_or_cross_site_cookie(world: World, name: str) -> None:
    if name in COOKIE_STEPS:
        status, step = COOKIE_STEPS[name]
        response = step(world)
        assert response.status_code == status
        assert response["Referrer-Policy"] in {"no-referrer", "same-origin"}
        assert "no-store" in response["Cache-Control"]
    else:
        response = fetch(world, name)
    assert not _cookie_problems(response), _cookie_problems(response)


@pytest.mark.django_db
def test_the_cookie_check_can_tell_a_persistent_cookie(world: World) -> None:
    response = HttpResponse()
    response.set_cookie("kept", "1", max_age=3600, httponly=True, samesite="Strict")
    response.set_cookie("lax", "1", samesite="Lax", httponly=True)
    response.set_cookie("scriptable", "1", samesite="Strict")
    response.set_cookie("fine", "1", httponly=True, samesite="Strict")
    response.delete_cookie("gone", samesite="Strict")
    assert _cookie_problems(response) == [
        "kept lives for 3600 seconds",
        f"kept expires on {response.cookies['kept']['expires']}",
        "lax has SameSite='Lax'",
        "scriptable is readable by scripts",
    ]


# --- the HTML --------------------------------------------------------------------------------


class Document(HTMLParser):
    """The parts of a page these checks care about."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.inline_scripts: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in {"title", "script"}:
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "title":
            self.title += data
        elif self._in and self._in[-1] == "script" and data.strip():
            self.inline_scripts.append(data)

    def urls(self) -> list[tuple[str, str, str]]:
        found = []
        for tag, attrs in self.elements:
            for name, value in attrs.items():
                if name in URL_ATTRIBUTES and value is not None:
                    found.append((tag, name, value))
            if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
                found.append((tag, "content", attrs.get("content") or ""))
        return found

    def find(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.elements if t == tag]


def _document(response: HttpResponse) -> Document:
    assert response["Content-Type"].startswith("text/html")
    return Document(response.content.decode())


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.scheme or parts.netloc) or url.strip().startswith("//")


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_no_page_loads_or_links_anything_from_another_site(world: World, name: str) -> None:
    document = _document(fetch(world, name))
    for tag, attribute, url in document.urls():
        # A scheme (https:, javascript:, data:) or a host both count as leaving the site.
        assert not _is_absolute(url), f"{name}: <{tag} {attribute}={url!r}> leaves the site"
    for tag in ("iframe", "frame", "object", "embed", "style", "base"):
        assert not document.find(tag), f"{name} has a <{tag}>"
    for tag, attrs in document.elements:
        assert "style" not in attrs, f"{name}: <{tag}> has an inline style"
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers, f"{name}: <{tag}> has inline event handlers {handlers}"
    assert not document.inline_scripts, f"{name} has inline script"
    scripts = {attrs.get("src") for attrs in document.find("script")}
    if PAGES[name].face == "intake":
        assert scripts <= INTAKE_SCRIPTS, f"{name} loads scripts {scripts}"
    else:
        assert all(src and src.startswith("/static/") for src in scripts), f"{name} loads scripts {scripts}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", INTAKE_PAGES)
def test_every_intake_page_has_the_quick_exit_and_it_goes_through_exit(world: World, name: str) -> None:
    document = _document(fetch(world, name))
    exits = [(tag, attrs) for tag, attrs in document.elements if "data-exit" in attrs]
    assert len(exits) == 1, f"{name} has {len(exits)} quick-exit links"
    tag, attrs = exits[0]
    assert tag == "a" and attrs.get("href") == "/exit/", f"{name}: quick exit is <{tag} {attrs}>"


@pytest.mark.django_db
@pytest.mark.parametrize("name", INTAKE_PAGES)
def test_no_secret_input_is_remembered_by_the_browser(world: World, name: str) -> None:
    document = _document(fetch(world, name))
    seen = set()
    for tag, attrs in document.elements:
        if tag in {"input", "textarea"} and attrs.get("name") in SECRET_INPUTS:
            seen.add(attrs["name"])
            assert attrs.get("autocomplete") == "off", f"{name}: <{tag} name={attrs['name']}> may be autocompleted"
            assert attrs.get("type", "text") != "hidden", f"{name}: {attrs['name']} is sent back in a hidden field"
    assert PAGES[name].secret_inputs <= seen, f"{name} lacks {PAGES[name].secret_inputs - seen}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", INTAKE_PAGES)
def test_the_title_is_the_configured_site_name_and_nothing_more(world: World, name: str, language: str) -> None:
    title = _document(fetch(world, name, language)).title.strip()
    configured = settings.SP_SITE_NAME[language]
    assert title == configured
    for word in TELLTALE_WORDS:
        # A deployment may choose such a name; the page itself never adds one.
        assert word not in title.casefold() or word in configured.casefold(), f"{name}: {title!r}"


NEUTRAL_NAMES = {"ru": "Заметки о погоде", "en": "Weather notes"}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("name", INTAKE_PAGES)
def test_the_site_name_setting_sets_the_title_of_every_page(world: World, name: str, language: str) -> None:
    with override_settings(SP_SITE_NAME=NEUTRAL_NAMES):
        document = _document(fetch(world, name, language))
    assert document.title.strip() == NEUTRAL_NAMES[language]
    assert not any(word in document.title.casefold() for word in TELLTALE_WORDS)


# --- quick exit ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_quick_exit_ends_the_session_and_leaves_for_the_configured_site(world: World) -> None:
    client = world.browser("intake", "person")
    assert client.get("/conversation/").status_code == 200
    cookies_before = copy.deepcopy(client.cookies)

    response = client.get("/exit/")

    assert response.status_code == 302
    assert response["Location"] == settings.SP_QUICK_EXIT_URL
    assert client.get("/conversation/")["Location"] == "/login/"
    # Whoever copied the cookies before the exit gets nothing either: the session is gone.
    replay = FaceClient(INTAKE)
    replay.cookies = cookies_before
    assert replay.get("/conversation/")["Location"] == "/login/"


@pytest.mark.django_db
def test_quick_exit_goes_wherever_the_operator_configured(world: World) -> None:
    with override_settings(SP_QUICK_EXIT_URL="https://weather.example/today"):
        response = world.browser("intake", "person").get("/exit/")
    assert response["Location"] == "https://weather.example/today"


# --- no identifiers in URLs ------------------------------------------------------------------


def _codename_forms(codename: str) -> list[str]:
    return [codename.replace(" ", sep) for sep in (" ", "+", "%20", "-", "_", ",", ".", "")]


def _identifiers_in(url: str, world: World, extra_codenames: list[str]) -> list[str]:
    found = [world.person.case.public_id] if world.person.case.public_id.casefold() in url.casefold() else []
    for codename in [world.person.codename, *extra_codenames]:
        found += [form for form in _codename_forms(codename) if form.casefold() in url.casefold()]
    return found


def _shown_codename(response: HttpResponse) -> str:
    shown = response.content.decode().split('class="codename"')[1].split("</p>")[0]
    words = re.findall(r"<span>([^<]+)</span>", shown)
    assert words
    return " ".join(words)


REDIRECT_STEPS: dict[str, Callable[[World], HttpResponse]] = {
    "codename login": _logging_in,
    "sending a message": _sending,
    "landing while logged in": lambda world: world.browser("intake", "person").get("/"),
    "request without a codename": lambda world: FaceClient(INTAKE).get("/request/"),
    "conversation while logged out": lambda world: FaceClient(INTAKE).get("/conversation/"),
    "quick exit": _leaving,
    "logging out": _logging_out,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*INTAKE_PAGES, *REDIRECT_STEPS])
def test_no_intake_url_or_redirect_carries_the_codename_or_the_case(world: World, name: str) -> None:
    if name in REDIRECT_STEPS:
        response = REDIRECT_STEPS[name](world)
        assert response.status_code == 302
        urls = [response["Location"]]
        shown = []
    else:
        response = fetch(world, name)
        document = _document(response)
        urls = [url for _, _, url in document.urls()]
        # The start page shows a fresh codename: it must not travel in a URL either.
        shown = [_shown_codename(response)] if name == "start" else []
    for url in urls:
        assert not _identifiers_in(url, world, shown), f"{name}: {url!r} carries an identifier"
