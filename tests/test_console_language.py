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
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import RequestFactory
from django.urls import get_resolver, reverse
from django.utils import timezone, translation
from django.utils.translation.template import templatize

from accounts.models import StaffMember, Team
from casework.models import Case
from casework.texts import ACKNOWLEDGEMENT
from sealbox.codenames import CODENAME_WORDS, wordlist
from tests import test_access_matrix as matrix
from tests.personas import CONSOLE, INTAKE, FaceClient
from tests.test_access_matrix import MATRIX, World

# The access matrix's world (built once for this module too) and its file store.
world = matrix.world
module_file_store = matrix.module_file_store
_own_file_store = matrix._own_file_store

# Latin words a Russian page may show: names of protocols, products and file formats, and the
# language switch's own name for English. Besides these: the currency codes (ISO 4217) and the
# time zone's abbreviation. Nothing else.
ALLOWED_WORDS = frozenset({"TOTP", "Matrix", "URL", "SMS", "HTTP", "POST", "CSV", "English"})
# What the world's fixtures wrote in English (besides the secrets, the POST bodies, the usernames).
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
    # The acknowledgement every conversation starts with, in the person's language.
    ACKNOWLEDGEMENT["en"],
)
ENGLISH_CODENAME_WORDS = frozenset(wordlist("en"))
ENGLISH_WORD = re.compile(r"(?<![\w.@/-])[A-Za-z]{3,}(?![\w.@/-])")
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "data-label"}
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


def allowed_words() -> frozenset[str]:
    zone = timezone.localtime().tzname() or ""
    return ALLOWED_WORDS | set(settings.SP_FUNDS_CURRENCIES) | {zone}


def english_words(runs: list[str], fixture_texts: list[str]) -> list[str]:
    """Latin words of three letters or more, outside the allow-list, the fixtures' texts and
    codenames (a new one is issued in the person's language, English in the world)."""
    allowed = allowed_words()
    found = []
    for run in runs:
        for text in fixture_texts:
            run = run.replace(text, " ")
        if _is_codename(run):
            continue
        found.extend(f"{word!r} in {run!r}" for word in ENGLISH_WORD.findall(run) if word not in allowed)
    return found


def _is_codename(run: str) -> bool:
    words = run.split()
    return len(words) == CODENAME_WORDS and ENGLISH_CODENAME_WORDS.issuperset(words)


def _world_texts(world: World) -> list[str]:
    texts = [str(value) for values in world.secrets.values() for value in values if isinstance(value, str)]
    texts.extend(StaffMember.objects.values_list("username", flat=True))
    # Case numbers are drawn from digits and capitals: about one in twenty has no digit and
    # would read as a word (issue-12 CI: "MQCKZRGXXQ" failed the inbox).
    texts.extend(Case.objects.values_list("public_id", flat=True))
    # Team names are what people typed (the first one in the language of whoever signed up first).
    texts.extend(Team.objects.values_list("name", flat=True))
    # Free text the matrix's forms send (choice values and codes are lower case).
    texts.extend(value for route in MATRIX for value in route.data.values() if value[:1].isupper())
    texts.extend(FIXTURE_TEXTS)
    return sorted(texts, key=len, reverse=True)  # longest first, so no shorter text splits a longer one


def _russian(world: World, persona: str) -> FaceClient:
    client = world.browser(persona, CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


CONSOLE_PAGES = [
    pytest.param(route, persona, method, id=f"{route.name}-{persona}-{method}")
    for route in MATRIX
    # The language switch is left out: it switches to English.
    if route.face == "console" and route.name not in {"static", "language"}
    for method, outcomes in (("GET", route.get), ("POST", route.post))
    for persona, expect in outcomes.items()
    if expect.status != 405
    and not (expect.status == 302 and expect.location == "/login/")
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
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        # A file download (the person's attachment, a CSV export) has no words of ours.
        assert response.headers.get("Content-Disposition", "").startswith("attachment"), f"{method} {url}"
        return
    found = english_words(visible_runs(response.content), _world_texts(world))
    assert not found, f"{method} {url} as {persona} shows English:\n" + "\n".join(found)


# --- the console's error pages -----------------------------------------------------------


def _russian_page(body: bytes, *known: str) -> str:
    """The page's visible text, after checking it has no English word in it but ``known``."""
    runs = visible_runs(body)
    assert not english_words(runs, list(known)), english_words(runs, list(known))
    return " ".join(runs)


@pytest.mark.django_db
def test_the_console_answers_404_403_and_400_in_russian_in_its_own_look(world: World) -> None:
    client = _russian(world, "caseworker")
    pages = {
        "Страница не найдена": client.get("/no-such-page/"),
        "Эта страница вам недоступна": client.get("/staff/"),  # coordinators only
        "Не удалось прочитать запрос": client.get("/inbox/", HTTP_HOST="attacker.example"),
    }
    for title, response in zip(pages, pages.values(), strict=True):
        assert response.status_code in {404, 403, 400}
        text = _russian_page(response.content, "caseworker")
        assert title in text, text
        assert b"/static/console.css" in response.content and b"/static/intake.css" not in response.content


@pytest.mark.django_db
def test_the_console_answers_500_in_russian_without_touching_the_database(world: World) -> None:
    """The database fails under the request (its case table is gone): the page that says so
    is still the console's, in Russian, and asks nothing of the database itself."""
    client = _russian(world, "caseworker")
    client.raise_request_exception = False
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE casework_case RENAME TO casework_case_gone")
    response = client.get("/inbox/")
    assert response.status_code == 500
    text = _russian_page(response.content, "caseworker")
    assert "Что-то пошло не так" in text
    assert b"/static/console.css" in response.content and b"/static/intake.css" not in response.content


def test_the_console_500_page_needs_no_database_and_no_request() -> None:
    # No django_db mark: any query here fails the test.
    handler = get_resolver(CONSOLE).resolve_error_handler(500)
    with translation.override("ru"):
        response = handler(RequestFactory().get("/inbox/"))
    assert response.status_code == 500
    assert "Что-то пошло не так" in _russian_page(response.content)
    with translation.override("en"):
        assert b"Something went wrong" in handler(RequestFactory().get("/inbox/")).content


@pytest.mark.django_db
def test_the_console_expired_page_is_in_russian() -> None:
    client = FaceClient(CONSOLE, enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    response = client.post("/login/", {"username": "caseworker", "password": "x", "code": "1"})
    assert response.status_code == 403
    assert "Эта страница устарела" in _russian_page(response.content)
    assert b"/static/console.css" in response.content


@pytest.mark.django_db
def test_the_intake_keeps_its_own_error_pages() -> None:
    response = FaceClient(INTAKE).get("/no-such-page/")
    assert response.status_code == 404
    assert b"/static/intake.css" in response.content and b"/exit/" in response.content
    assert b"/static/console.css" not in response.content


# --- every string marked for translation has its Russian ------------------------------------

XGETTEXT_KEYWORDS = [  # what Django's makemessages passes to xgettext for Python and templates
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


def _translatable_sources(root: Path, work: Path) -> list[Path]:
    """The project's Python modules and its templates turned into Python by Django (as
    makemessages does), without tests, migrations and the virtualenv."""
    sources = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if {".venv", "tests", "migrations", "node_modules"} & set(relative.parts) or relative.parts[0].startswith("."):
            continue
        if path.suffix == ".py" and not path.name.startswith("test_"):
            sources.append(path)
        elif path.suffix == ".html":
            converted = work / (str(relative).replace("/", "__") + ".py")
            converted.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(path)), encoding="utf-8")
            sources.append(converted)
    return sources


def test_every_string_marked_for_translation_has_its_russian(tmp_path: Path) -> None:
    """A string wrapped in gettext or {% translate %} but missing from (or empty in) the
    Russian catalogue would show in English on a page the world above does not render."""
    root = Path(settings.BASE_DIR)
    template = tmp_path / "django.pot"
    sources = _translatable_sources(root, tmp_path)
    xgettext = ["xgettext", "--language=Python", "--from-code=UTF-8", *XGETTEXT_KEYWORDS, "-o", str(template)]
    subprocess.run([*xgettext, *map(str, sources)], check=True, capture_output=True)
    catalogue = root / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    compared = subprocess.run(["msgcmp", str(catalogue), str(template)], capture_output=True, text=True)
    lines = template.read_text(encoding="utf-8").splitlines()
    missing = [
        lines[int(number) - 1]
        for number in re.findall(r"django\.pot:(\d+): this message is used but not defined", compared.stderr)
    ]
    assert compared.returncode == 0 and not missing, "no Russian for:\n" + "\n".join(missing)
