"""Every intake page stays small enough for a slow, watched, pay-per-megabyte connection (T1):
at most 20 KB uncompressed, counting the HTML and everything it makes the browser fetch
(stylesheet, script, images), in Russian and in English.

The pages are found from the intake URLconf: a pattern must be either weighed here or named
as not being a page, with the reason. Run with -s to see the weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from casework import services
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff, make_coordinator, make_staff, open_case

BUDGET_BYTES = 20 * 1024
LANGUAGES = ("ru", "en")

# A conversation as it may look after a few days: long enough to weigh something real.
# Cyrillic on purpose: two bytes a letter in UTF-8.
FIRST_MESSAGE = (
    "Здравствуйте. Вчера забрали моего друга, теперь звонят его родственники и спрашивают обо мне. "
    "Я боюсь выходить из дома, телефон, кажется, проверяют. Мне нужно уехать из республики как можно скорее. "
    "Денег на дорогу нет, паспорт у меня с собой."
)
REPLY = (
    "Спасибо, что написали. Мы можем помочь с дорогой. Не рассказывайте никому о планах и не берите "
    "с собой телефон, который могли проверять. Напишите, в каком городе вы можете быть послезавтра."
)
SECOND_MESSAGE = "Послезавтра могу быть в Махачкале. Могу выйти из дома утром, пока все на работе."
SECOND_REPLY = "Хорошо. Завтра здесь будет ответ: где и когда вас встретят. Заходите проверить вечером."


@dataclass
class World:
    person: PersonAtRisk
    person_jar: Any

    def browser(self, language: str, *, logged_in: bool = False) -> FaceClient:
        client = FaceClient(INTAKE)
        if logged_in:
            client.cookies = copy.deepcopy(self.person_jar)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once, rolled back at the end; each test runs in its own savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world() -> World:
    coordinator = make_coordinator()
    caseworker: Staff = make_staff("caseworker", invited_by=coordinator)
    person = open_case(body=FIRST_MESSAGE)  # the message and the automatic acknowledgement
    client = person.intake()
    services.message_post_from_staff(
        case=person.case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body=REPLY,
    )
    assert client.post("/conversation/", {"message": SECOND_MESSAGE}).status_code == 302
    services.message_post_from_staff(
        case=person.case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body=SECOND_REPLY,
    )
    return World(person, client.cookies)


# --- the pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    status: int
    fetch: Callable[[World, str], HttpResponse]


def _get(path: str, *, logged_in: bool = False) -> Callable[[World, str], HttpResponse]:
    return lambda world, language: world.browser(language, logged_in=logged_in).get(path)


def _request_form(world: World, language: str) -> HttpResponse:
    client = world.browser(language)
    client.get("/start/")
    return client.get("/request/")


def _request_form_with_errors(world: World, language: str) -> HttpResponse:
    client = world.browser(language)
    client.get("/start/")
    data = {"message": "", "contact_value": "@someone", "duress_word": "two words", "help_kinds": ["legal"]}
    return client.post("/request/", data)


def _login_with_errors(world: World, language: str) -> HttpResponse:
    return world.browser(language).post("/login/", {"codename": "only three words"})


def _conversation_with_five_messages(world: World, language: str) -> HttpResponse:
    response = world.browser(language, logged_in=True).get("/conversation/")
    assert response.content.decode().count('<li class="') == 5, "the conversation should hold five messages"
    return response


def _expired(world: World, language: str) -> HttpResponse:
    client = world.browser(language)
    client.handler.enforce_csrf_checks = True
    return client.post("/login/", {"codename": "a form posted after its session ended"})


def _connect_with_both_addresses(world: World, language: str) -> HttpResponse:
    """The onion address (56 letters) and an ordinary address are written out on the page."""
    with override_settings(SP_INTAKE_URL=f"http://{'a' * 56}.onion", SP_INTAKE_CLEARNET_URL="https://example.org"):
        return world.browser(language).get("/connect/")


_FORGET = "/conversation/delete/"

# Every intake URL pattern by name: the pages it shows, or why it shows none.
PAGES: dict[str, list[Variant]] = {
    "landing": [Variant("logged out", 200, _get("/"))],
    "start": [Variant("logged out", 200, _get("/start/")), Variant("logged in", 200, _get("/start/", logged_in=True))],
    "request": [Variant("empty form", 200, _request_form), Variant("form with errors", 400, _request_form_with_errors)],
    "login": [Variant("logged out", 200, _get("/login/")), Variant("with errors", 400, _login_with_errors)],
    "conversation": [Variant("five messages", 200, _conversation_with_five_messages)],
    "checkin": [
        Variant("confirmation", 200, lambda world, language: world.browser(language, logged_in=True).post("/checkin/"))
    ],
    "connect": [
        Variant("logged out", 200, _get("/connect/")),
        Variant("with both addresses", 200, _connect_with_both_addresses),
    ],
    "forget": [
        Variant("confirmation", 200, lambda world, language: world.browser(language, logged_in=True).get(_FORGET)),
        Variant("deleted", 200, lambda world, language: world.browser(language, logged_in=True).post(_FORGET)),
    ],
}
NOT_PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "download": ("a file the person asked for, by POST", {}),
    "logout": ("POST only, answers with a redirect", {}),
    "exit": ("answers with a redirect away from the site", {}),
    "language": ("POST only, answers with a redirect", {}),
    "static": ("the stylesheet and script themselves, weighed with every page", {"name": "intake.css"}),
}
# Pages no URL pattern names: what a wrong address or an old form shows.
OTHER_PAGES = [Variant("not found", 404, _get("/no-such-page/")), Variant("expired form", 403, _expired)]

WEIGHED = [
    pytest.param(pattern, variant, language, id=f"{pattern}-{variant.name}-{language}")
    for pattern, variants in [*PAGES.items(), ("error", OTHER_PAGES)]
    for variant in variants
    for language in LANGUAGES
]


def _intake_pattern_names(patterns: list[Any], namespaces: tuple[str, ...] = ()) -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _intake_pattern_names(
                entry.url_patterns, (*namespaces, *([entry.namespace] if entry.namespace else []))
            )
        elif isinstance(entry, URLPattern):
            yield ":".join((*namespaces, entry.name or f"<unnamed {entry.pattern}>"))


def test_every_intake_url_pattern_is_weighed_or_said_not_to_be_a_page() -> None:
    discovered = set(_intake_pattern_names(get_resolver(INTAKE).url_patterns))
    declared = set(PAGES) | set(NOT_PAGES)
    missing = [
        f"add intake {name!r} to PAGES (or NOT_PAGES, with the reason) in the page weight test"
        for name in sorted(discovered - declared)
    ]
    stale = [
        f"remove intake {name!r} from the page weight test: no such pattern" for name in sorted(declared - discovered)
    ]
    assert not missing and not stale, "\n".join(missing + stale)


@pytest.mark.django_db
@pytest.mark.parametrize("name", NOT_PAGES)
def test_what_is_said_not_to_be_a_page_shows_no_page(world: World, name: str) -> None:
    url = reverse(name, urlconf=INTAKE, kwargs=NOT_PAGES[name][1])
    for logged_in in (False, True):
        response = world.browser("ru", logged_in=logged_in).get(url)
        is_page = response.status_code == 200 and response["Content-Type"].startswith("text/html")
        assert not is_page, f"GET {url} shows a page: weigh it in PAGES"


# --- weighing --------------------------------------------------------------------------------


class Subresources(HTMLParser):
    """Everything the browser fetches on its own to show the page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if (
            tag == "link"
            and found.get("href")
            and set((found.get("rel") or "").split()) & {"stylesheet", "icon", "preload", "manifest"}
        ):
            self.urls.append(str(found["href"]))
        elif tag in {"script", "img", "source", "video", "audio", "input", "embed", "iframe"} and found.get("src"):
            self.urls.append(str(found["src"]))


def _bytes(response: HttpResponse) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)


@pytest.mark.django_db
@pytest.mark.parametrize(("pattern", "variant", "language"), WEIGHED)
def test_every_intake_page_weighs_at_most_20_kb_with_its_css_and_script(
    world: World, pattern: str, variant: Variant, language: str
) -> None:
    response = variant.fetch(world, language)
    assert response.status_code == variant.status, response.content[:500]
    assert response["Content-Language"] == language
    html = _bytes(response)
    parts = {"html": len(html)}
    client = world.browser(language)  # the subresources are public; fetched like the browser would
    for url in Subresources(html.decode()).urls:
        fetched = client.get(url)
        assert fetched.status_code == 200, f"{url} is linked but not served"
        parts[url] = len(_bytes(fetched))
    total = sum(parts.values())
    label = f"{pattern}, {variant.name} [{language}]"
    print(f"\n{label}: {total} bytes ({', '.join(f'{k} {v}' for k, v in parts.items())})")
    assert any(url.endswith(".css") for url in parts), "the page links no stylesheet: is it the page we meant?"
    assert total <= BUDGET_BYTES, f"{label} weighs {total} bytes, over {BUDGET_BYTES}: {parts}"
