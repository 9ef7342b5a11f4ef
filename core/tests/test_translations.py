"""The Russian catalogue: complete, compiled, and actually used on every intake page.

Russian is the intake portal's default language. A person who lands on an English sentence
in the middle of a Russian page may not understand the one instruction that keeps them safe,
so a missing translation is a defect, not a cosmetic issue.
"""

from __future__ import annotations

import gettext
import re
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import translation

import sealbox
from config import urls_intake
from intake.views import server_error
from tests.personas import INTAKE, FaceClient, PersonAtRisk

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES"
RUSSIAN_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# One number for each Russian plural form: 1 файл, 2 файла, 5 файлов.
SAMPLE_FOR_FORM = {0: 1, 1: 2, 2: 5}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{\s*\w+\s*\}\}")


# --- a small .po reader: msgctxt, msgid, msgid_plural, msgstr, msgstr[n], flags ---------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def mo_key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+"(.*)"$')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: _ESCAPES[match.group(1)], text)


def read_po(path: Path) -> list[PoEntry]:
    entries: list[PoEntry] = []
    entry, target = PoEntry(), ("", 0)
    started = False

    def finish() -> None:
        nonlocal entry, started
        if started:
            entries.append(entry)
        entry, started = PoEntry(), False

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            raise AssertionError(f"obsolete entry left in {path.name}: {line}")
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword, index, text = match.group(1), int(match.group(2) or 0), _unquote(match.group(3))
            target = (keyword, index)
            started = True
            _append(entry, target, text)
        elif line.startswith('"') and line.endswith('"'):
            _append(entry, target, _unquote(line[1:-1]))
        else:
            raise AssertionError(f"unreadable line in {path.name}: {line}")
    return entries


def _append(entry: PoEntry, target: tuple[str, int], text: str) -> None:
    keyword, index = target
    if keyword == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + text
    elif keyword == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    elif keyword == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    else:
        entry.msgid += text


def mo_keys(path: Path) -> set[str]:
    """The msgids a compiled catalogue holds (GNU .mo layout: a table of (length, offset))."""
    data = path.read_bytes()
    endian = "<" if struct.unpack("<I", data[:4])[0] == 0x950412DE else ">"
    count, ids_at = struct.unpack(f"{endian}2I", data[8:16])
    keys = set()
    for index in range(count):
        length, offset = struct.unpack(f"{endian}2I", data[ids_at + 8 * index : ids_at + 8 * index + 8])
        keys.add(data[offset : offset + length].split(b"\0")[0].decode("utf-8"))
    return keys


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    return read_po(CATALOGUE / "django.po")


@pytest.fixture(scope="module")
def mo() -> gettext.GNUTranslations:
    with (CATALOGUE / "django.mo").open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _messages(entries: list[PoEntry]) -> list[PoEntry]:
    return [entry for entry in entries if entry.msgid]


# --- (a) the compiled catalogue is the .po file, compiled -------------------------------------


def test_the_compiled_catalogue_translates_every_message_as_the_po_file_does(
    po_entries: list[PoEntry], mo: gettext.GNUTranslations
) -> None:
    stale = []
    for entry in _messages(po_entries):
        context = entry.msgctxt
        if entry.msgid_plural is None:
            got = mo.pgettext(context, entry.msgid) if context else mo.gettext(entry.msgid)
            if entry.msgstr.get(0) and got != entry.msgstr[0]:
                stale.append(entry.msgid)
            continue
        for form, text in entry.msgstr.items():
            n = SAMPLE_FOR_FORM[form]
            got = (
                mo.npgettext(context, entry.msgid, entry.msgid_plural, n)
                if context
                else mo.ngettext(entry.msgid, entry.msgid_plural, n)
            )
            if text and got != text:
                stale.append(f"{entry.msgid} [{form}]")
    assert not stale, "django.mo is older than django.po; run compilemessages. Differs: " + "; ".join(stale)


def test_the_compiled_catalogue_holds_no_message_the_po_file_dropped(po_entries: list[PoEntry]) -> None:
    in_po = {entry.mo_key for entry in _messages(po_entries)}
    in_mo = mo_keys(CATALOGUE / "django.mo") - {""}
    assert in_mo == in_po, f"only in .mo: {sorted(in_mo - in_po)}; only in .po: {sorted(in_po - in_mo)}"


def test_both_catalogues_use_the_three_russian_plural_forms(
    po_entries: list[PoEntry], mo: gettext.GNUTranslations
) -> None:
    header = po_entries[0]
    assert header.msgid == "" and f"Plural-Forms: {RUSSIAN_PLURAL_FORMS}\n" in header.msgstr[0]
    assert mo.info()["plural-forms"] == RUSSIAN_PLURAL_FORMS
    # Numbers where Russian grammar is easy to get wrong: 11-14 take the "many" form.
    expected = {1: 0, 21: 0, 101: 0, 2: 1, 4: 1, 22: 1, 0: 2, 5: 2, 11: 2, 12: 2, 14: 2, 111: 2, 112: 2, 25: 2}
    assert {n: mo.plural(n) for n in expected} == expected  # type: ignore[attr-defined]


# --- (b) nothing is left empty, fuzzy or with a broken placeholder ----------------------------


def test_every_message_has_a_translation_and_none_is_fuzzy(po_entries: list[PoEntry]) -> None:
    assert "fuzzy" not in po_entries[0].flags, "the header is still marked fuzzy"
    empty = [entry.msgid for entry in _messages(po_entries) if not all(entry.msgstr.values())]
    fuzzy = [entry.msgid for entry in _messages(po_entries) if "fuzzy" in entry.flags]
    assert not empty, f"untranslated: {empty}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_every_plural_message_has_all_three_russian_forms(po_entries: list[PoEntry]) -> None:
    plurals = [entry for entry in _messages(po_entries) if entry.msgid_plural is not None]
    assert plurals
    assert [entry.msgid for entry in plurals if sorted(entry.msgstr) != [0, 1, 2]] == []


def test_translations_keep_every_placeholder(po_entries: list[PoEntry]) -> None:
    broken = []
    for entry in _messages(po_entries):
        source = Counter(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in entry.msgstr.values():
            if Counter(PLACEHOLDER.findall(text)) != source:
                broken.append(f"{entry.msgid!r} -> {text!r}")
    assert not broken, broken


# --- (c) no English left on the intake pages --------------------------------------------------

# Proper names and formats that stay in Latin letters in Russian too.
PROPER_NAMES = ("Tor Browser", "English", "Signal", "Telegram", "WhatsApp", "PDF", "JPEG", "PNG", "GIF", "WebP", "HEIC")
_PROPER_NAME = re.compile("|".join(rf"\b{re.escape(name)}\b" for name in PROPER_NAMES))
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Content, not interface: what people wrote, codename words, names of attached files, and the
# addresses a person copies or types (bridges@torproject.org, @GetBridgesBot, the onion).
_CONTENT_CLASSES = {"body", "codename", "file", "address"}
_VISIBLE_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []  # (tag, starts a subtree that is skipped)
        self.nodes: list[str] = []

    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self.open)

    def _add(self, text: str | None) -> None:
        text = " ".join((text or "").split())
        if text:
            self.nodes.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        skipped = tag in {"script", "style", "textarea"} or bool(
            set((attributes.get("class") or "").split()) & _CONTENT_CLASSES
        )
        if not skipped and not self._skipping():
            for name in _VISIBLE_ATTRIBUTES:
                self._add(attributes.get(name))
            if tag == "input" and attributes.get("type") in {"submit", "button"}:
                self._add(attributes.get("value"))
        if tag not in _VOID:
            self.open.append((tag, skipped))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self._add(data)


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.nodes


def untranslated(english_html: str, russian_html: str) -> list[str]:
    """Text nodes the Russian page shows exactly as the English page does, in Latin letters."""
    english = set(visible_text(english_html))
    return sorted(
        {
            text
            for text in visible_text(russian_html)
            if text in english and _LATIN_WORD.search(_PROPER_NAME.sub("", text))
        }
    )


def test_the_check_finds_an_english_sentence_left_on_a_russian_page() -> None:
    english = '<p>Write to us</p><p class="body">Hello</p><button>Signal</button><p>Close the browser.</p>'
    russian = '<p>Напишите нам</p><p class="body">Hello</p><button>Signal</button><p>Close the browser.</p>'
    assert untranslated(english, russian) == ["Close the browser."]


def _language_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "page without a language"
    return match.group(1)


def _to_english(client: FaceClient) -> FaceClient:
    response = client.post("/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WRONG_PHRASE = "lorem ipsum dolor sit amet consectetur"


def _png(name: str, size: int = len(PNG)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG + b"\x00" * (size - len(PNG)), content_type="image/png")


def _first_request(client: FaceClient, data: dict[str, object]) -> HttpResponse:
    client.get("/start/")
    return client.post("/request/", data)


def _request_form(client: FaceClient) -> HttpResponse:
    client.get("/start/")  # the form asks for a codename first
    return client.get("/request/")


def _request_with_mistakes(client: FaceClient) -> HttpResponse:
    files = [
        _png("big.png", 4096),
        SimpleUploadedFile("notes.txt", b"plain text, not a photo", content_type="text/plain"),
        _png("first.png"),
        _png("second.png"),
    ]
    data = {
        "region": "mars",
        "message": "",
        "contact_value": "@someone",
        "duress_word": "two words",
        "attachments": files,
    }
    with override_settings(SP_ATTACHMENT_MAX_BYTES=1024, SP_ATTACHMENTS_PER_MESSAGE=1):
        return _first_request(client, data)


def _request_after_the_line_closed(client: FaceClient) -> HttpResponse:
    client.get("/start/")
    with override_settings(SP_RECOVERY_PUBLIC_KEY=sealbox.KeyPair.generate().public_key):  # not the stored one
        return client.post("/request/", {"urgency": "in_hiding", "region": "abroad", "message": "Help"})


def _login_paused(client: FaceClient) -> HttpResponse:
    with override_settings(SP_LOGIN_BUDGET=1):
        client.post("/login/", {"codename": WRONG_PHRASE})
        return client.post("/login/", {"codename": WRONG_PHRASE})


def _conversation_after_sending(client: FaceClient) -> HttpResponse:
    assert client.post("/conversation/", {"message": "Are you there?"}).status_code == 302
    return client.get("/conversation/")


def _conversation_with_a_wrong_file(client: FaceClient) -> HttpResponse:
    document = SimpleUploadedFile("notes.txt", b"plain text, not a photo", content_type="text/plain")
    return client.post("/conversation/", {"message": "", "attachments": [document]})


def _conversation_with_files_over_the_budget(client: FaceClient) -> HttpResponse:
    with override_settings(SP_UPLOAD_BUDGET_BYTES=0):
        return client.post("/conversation/", {"message": "", "attachments": [_png("photo.png")]})


def _conversation_sent_without_its_files(client: FaceClient) -> HttpResponse:
    with override_settings(SP_UPLOAD_BUDGET_BYTES=0):
        sent = client.post("/conversation/", {"message": "Are you there?", "attachments": [_png("photo.png")]})
    assert sent.status_code == 302
    return client.get("/conversation/")


def _expired_form(client: FaceClient) -> HttpResponse:
    client.handler.enforce_csrf_checks = True  # a form sent after its session ended
    return client.post("/login/", {"codename": WRONG_PHRASE})


def _connect_with_both_addresses(client: FaceClient) -> HttpResponse:
    with override_settings(SP_INTAKE_URL=f"http://{'a' * 56}.onion", SP_INTAKE_CLEARNET_URL="https://example.org"):
        return client.get("/connect/")


@dataclass(frozen=True)
class Page:
    name: str
    template: str
    status: int
    visit: Callable[[FaceClient], HttpResponse]
    logged_in: bool = False
    line_open: bool = True  # a coordinator and a caseworker are set up: the intake takes requests


PAGES = [
    Page("landing", "intake/landing.html", 200, lambda c: c.get("/")),
    Page("landing while the line is not set up", "intake/landing.html", 200, lambda c: c.get("/"), line_open=False),
    Page("start", "intake/start.html", 200, lambda c: c.get("/start/")),
    Page("request", "intake/request.html", 200, _request_form),
    Page("request with mistakes", "intake/request.html", 400, _request_with_mistakes),
    Page("request left empty", "intake/request.html", 400, lambda c: _first_request(c, {})),
    Page("request after the line closed", "intake/request.html", 503, _request_after_the_line_closed),
    Page("login", "intake/login.html", 200, lambda c: c.get("/login/")),
    Page("login left empty", "intake/login.html", 400, lambda c: c.post("/login/", {"codename": ""})),
    Page("login with too few words", "intake/login.html", 400, lambda c: c.post("/login/", {"codename": "lonely"})),
    Page("login not found", "intake/login.html", 400, lambda c: c.post("/login/", {"codename": WRONG_PHRASE})),
    Page("login paused", "intake/login.html", 429, _login_paused),
    Page("conversation", "intake/conversation.html", 200, lambda c: c.get("/conversation/"), logged_in=True),
    Page("conversation after sending", "intake/conversation.html", 200, _conversation_after_sending, logged_in=True),
    Page(
        "conversation sent empty",
        "intake/conversation.html",
        400,
        lambda c: c.post("/conversation/", {"message": ""}),
        logged_in=True,
    ),
    Page(
        "conversation with a wrong file",
        "intake/conversation.html",
        400,
        _conversation_with_a_wrong_file,
        logged_in=True,
    ),
    Page(
        "conversation with files over the upload budget",
        "intake/conversation.html",
        429,
        _conversation_with_files_over_the_budget,
        logged_in=True,
    ),
    Page(
        "conversation sent without its files",
        "intake/conversation.html",
        200,
        _conversation_sent_without_its_files,
        logged_in=True,
    ),
    Page("checked in", "checkins/checked_in.html", 200, lambda c: c.post("/checkin/"), logged_in=True),
    # (The "deleted" page that follows ends the codename: retention/tests/test_self_deletion.py
    # and tests/browser/test_intake_deletion_browser.py show it in each language.)
    Page("delete what I wrote", "retention/forget.html", 200, lambda c: c.get("/conversation/delete/"), logged_in=True),
    Page("if the site is blocked", "intake/connect.html", 200, _connect_with_both_addresses),
    Page("page not found", "intake/error.html", 404, lambda c: c.get("/no-such-page/")),
    Page("expired form", "core/expired.html", 403, _expired_form),
]
# Intake URLs that answer with a redirect, a file or a stylesheet, never with a page of text.
NOT_PAGES = {"download", "logout", "exit", "language", "static"}


def test_every_intake_page_is_checked_for_english() -> None:
    names = {pattern.name for pattern in urls_intake.urlpatterns}
    visited = {"landing", "start", "request", "login", "conversation", "checkin", "forget", "connect"}
    assert names == visited | NOT_PAGES, "a new intake page needs a Page entry in PAGES"


def _render(page: Page, make_client: Callable[[], FaceClient], language: str) -> str:
    client = make_client()
    if language == "en":
        _to_english(client)
    response = page.visit(client)
    assert response.status_code == page.status, (page.name, response.status_code)
    assert page.template in [template.name for template in response.templates]
    html = response.content.decode()
    assert _language_of(html) == language
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_the_intake_page_shows_no_english_in_russian(page: Page, request: pytest.FixtureRequest) -> None:
    if page.line_open:
        request.getfixturevalue("caseworker")
    if page.logged_in:
        person: PersonAtRisk = request.getfixturevalue("person")
        make_client: Callable[[], FaceClient] = person.intake
    else:
        make_client = lambda: FaceClient(INTAKE)  # noqa: E731
    english = _render(page, make_client, "en")
    russian = _render(page, make_client, "ru")  # no cookie: the default language
    assert any(_LATIN_WORD.search(text) for text in visible_text(english)), "the English rendering is not English"
    assert untranslated(english, russian) == []


def test_the_server_error_page_shows_no_english_in_russian() -> None:
    # No intake view fails on purpose, so the handler the URLconf names is called directly,
    # with the intake's URLconf as its process would have it.
    assert urls_intake.handler500 == "intake.views.server_error"
    pages = {}
    for language in ("en", "ru"):
        with translation.override(language), override_settings(ROOT_URLCONF=INTAKE):
            response = server_error(RequestFactory().get("/"))
        assert response.status_code == 500
        pages[language] = response.content.decode()
        assert _language_of(pages[language]) == language
    assert untranslated(pages["en"], pages["ru"]) == []
