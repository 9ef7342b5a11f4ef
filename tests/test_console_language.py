"""Every console page in Russian, with no English left on it.

The console's URL patterns, the world and the personas come from the access matrix: each
pattern is requested (GET and POST) by every persona the matrix lets see a page there, with the
language cookie set to Russian, redirects followed so the message a change leaves is read too.
The visible text of each page (text nodes and the attributes a person sees) is searched for
English words. What the world's fixtures wrote (names, notes, codenames) is taken out first;
everything else Latin must be on the small allow-list below.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests.personas import CONSOLE, FaceClient
from tests.test_access_matrix import (  # noqa: F401  (the world and its fixtures)
    MATRIX,
    ON_VERIFIED_CASE,
    World,
    _own_file_store,
    module_file_store,
    world,
)

# Latin words a Russian page may show: names of protocols, products and formats, and the
# language switch's own name for English. Nothing else.
ALLOWED_WORDS = frozenset({"TOTP", "Matrix", "URL", "PGP", "HTTPS", "PDF", "PNG", "JPEG", "English", "webhook"})
# What the world's fixtures wrote in English (besides the secrets, the codename and usernames).
FIXTURE_TEXTS = (
    "Documentation",
    "Matrix reply",
    "A canned reply.",
    "Matrixland",
    "Matrix route",
    "Transit city",
    "Train tickets",
    "A reply held from the matrix.",
    "Checked.",
)
ENGLISH_WORD = re.compile(r"(?<![\w.@/-])[A-Za-z]{3,}(?![\w.@/-])")
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
BUTTON_TYPES = {"submit", "button", "reset"}


class VisibleText(HTMLParser):
    """The text a person sees: text nodes outside script, style and code, the title, the
    attributes read out or shown, and the labels of input buttons."""

    SKIPPED = {"script", "style", "code"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping.append(tag)
        values = dict(attrs)
        self.runs.extend(value for name, value in attrs if name in VISIBLE_ATTRIBUTES and value)
        if tag == "input" and values.get("type") in BUTTON_TYPES and values.get("value"):
            self.runs.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.runs.append(data.strip())


def visible_runs(body: bytes) -> list[str]:
    parser = VisibleText()
    parser.feed(body.decode("utf-8"))
    parser.close()
    return parser.runs


def english_words(runs: list[str], fixture_texts: list[str]) -> list[str]:
    found = []
    for run in runs:
        for text in fixture_texts:
            run = run.replace(text, " ")
        found.extend(
            f"{word!r} in {run!r}" for word in ENGLISH_WORD.findall(run) if word not in ALLOWED_WORDS
        )
    return found


def _world_texts(world: World) -> list[str]:
    from accounts.models import StaffMember

    texts = [str(value) for values in world.secrets.values() for value in values if isinstance(value, str)]
    texts.extend(StaffMember.objects.values_list("username", flat=True))
    texts.extend(FIXTURE_TEXTS)
    return sorted(texts, key=len, reverse=True)  # longest first, so no shorter text splits a longer one


def _russian(world: World, persona: str) -> FaceClient:
    client = world.browser(persona, CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


CONSOLE_PAGES = [
    pytest.param(route, persona, method, id=f"{route.name}-{persona}-{method}")
    for route in MATRIX
    if route.face == "console" and route.name not in {"static"}
    for method, outcomes in (("GET", route.get), ("POST", route.post))
    for persona, expect in outcomes.items()
    if expect.status != 405 and not (expect.status == 302 and expect.location == "/login/")
    and persona not in {"person", "person_under_duress", "other_person"}
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "method"), CONSOLE_PAGES)
def test_every_console_page_is_in_russian(world: World, route: Any, persona: str, method: str) -> None:
    client = _russian(world, persona)
    url = reverse(route.name, urlconf=CONSOLE, kwargs={k: world.fill(v, persona) for k, v in route.kwargs.items()})
    if method == "GET":
        response = client.get(url, follow=True)
    else:
        response = client.post(url, {k: world.fill(v, persona) for k, v in route.data.items()}, follow=True)
    content_type = response.headers.get("Content-Type", "")
    if not content_type.startswith("text/html"):
        return
    found = english_words(visible_runs(response.content), _world_texts(world))
    assert not found, f"{method} {url} as {persona} shows English:\n" + "\n".join(found)
