"""The intake portal in a real Chromium, mostly with JavaScript off (Tor Browser "Safest").

The request-level tests (intake/tests) prove the views; these prove what only a browser can:
that plain HTML forms, <details>, file inputs, downloads, cookies, redirects and the history
behave as a frightened person on a phone will meet them.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

import scrub
import sealbox
from casework import services, texts
from casework.models import Case
from core.vault import vault_cookie_name
from tests.browser.conftest import PHONE, ExitSite, Faces, NewContext, console_log_in
from tests.personas import PersonAtRisk, Staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_MESSAGE = "They took my friend yesterday. I am at my aunt's flat."
STAFF_REPLY = "We can help. Stay where you are, we write again tonight."
WORD_OUTSIDE_THE_LIST = "Ласточка"  # an ordinary word, but in no codename list
WORDS_A_CAPTOR_MUST_NOT_SEE = ("duress", "danger", "опасн")


def _tiny_png() -> bytes:
    """A real 2x2 PNG, so the upload handler's type sniffing accepts it as a photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xc0\x30\x30" * 2 for _ in range(2))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _tiny_png()


def _read_codename(page: Page) -> list[str]:
    words = page.locator(".codename span").all_inner_texts()
    assert len(words) == sealbox.CODENAME_WORDS
    return words


def _in_another_case_with_extra_spaces(words: list[str]) -> str:
    # What a person typing from memory on a phone keyboard produces: capitals, stray spaces.
    return "  " + "   ".join(word.upper() for word in words) + " "


def _staff_replies_through_console(context: BrowserContext, console_url: str, staff: Staff, body: str) -> None:
    """The caseworker logs in with password and TOTP code, opens the new case and answers."""
    page = context.new_page()
    console_log_in(page, console_url, staff)
    page.locator("table.inbox a[href^='/cases/']").click()
    expect(page.locator(".thread")).to_contain_text(FIRST_MESSAGE)
    expect(page.locator(".thread")).to_contain_text("photo.png")
    page.locator("label[for='reply_body']").click()  # the reply's own label focuses the reply box, not the note
    expect(page.locator("#reply_body")).to_be_focused()
    page.locator("#reply_body").fill(body)
    page.locator("form[action$='/reply/'] button").first.click()
    expect(page.locator(".status")).to_contain_text("Ответ отправлен.")  # the console speaks Russian by default
    expect(page.locator(".thread li.staff")).to_contain_text(body)
    page.close()


def test_a_person_without_javascript_asks_for_help_reads_the_reply_and_leaves_quickly(
    caseworker: Staff, faces: Faces, new_context: NewContext, exit_site: ExitSite
) -> None:
    person = new_context()
    requested: list[str] = []
    person.on("request", lambda request: requested.append(request.url))
    page = person.new_page()
    page.goto(f"{faces.intake}/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="Write for the first time").click()
    words = _read_codename(page)
    page.get_by_role("link", name="I have learnt it — continue").click()
    expect(page).to_have_url(f"{faces.intake}/request/")
    page.get_by_label("In danger now").check()
    page.get_by_label("Where are you now, roughly?").select_option("chechnya")
    page.get_by_label("Leave the region").check()
    page.get_by_label("Your message").fill(FIRST_MESSAGE)
    page.get_by_label("Photos or documents (optional)").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{faces.intake}/conversation/")
    expect(page.get_by_role("status")).to_have_text("Sent. We will answer here.")
    expect(page.locator(".thread li.person")).to_contain_text(FIRST_MESSAGE)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{faces.intake}/")

    _staff_replies_through_console(new_context(), faces.console, caseworker, STAFF_REPLY)

    page.get_by_role("link", name="I already have a secret phrase").click()
    page.get_by_label("Your secret phrase").fill(_in_another_case_with_extra_spaces(words))
    page.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/")
    expect(page.locator(".thread li.staff")).to_contain_text(STAFF_REPLY)

    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"^photo\.png ")).click()
    download = download_info.value
    assert download.suggested_filename == "photo.png"
    assert Path(download.path()).read_bytes() == scrub.clean(PNG, "image/png")  # without metadata, if it had any

    page.get_by_role("link", name="Quick exit").click()
    expect(page).to_have_url(exit_site.url)
    expect(page.locator("body")).to_have_text("weather")
    assert exit_site.referers == [None]  # the destination learns nothing about where the person came from
    assert vault_cookie_name() not in {cookie["name"] for cookie in person.cookies(faces.intake)}
    page.goto(f"{faces.intake}/conversation/")
    expect(page).to_have_url(f"{faces.intake}/login/")
    # Nothing the history or a proxy log could keep: no query strings, no codename in any form.
    assert requested and all(not urlsplit(url).query for url in requested)
    phrase = " ".join(words).casefold()
    assert not [url for url in requested if phrase in unquote_plus(url).casefold()]


def _shape(page: Page) -> dict[str, Any]:
    """What the page looks like with its words taken away: headings, forms and their fields,
    and how many elements of each kind the conversation holds."""
    return {
        "headings": page.locator("h1, h2, h3").all_inner_texts(),
        "forms": page.eval_on_selector_all(
            "form",
            """forms => forms.map(f => [f.getAttribute('action'), f.getAttribute('enctype'),
                 [...f.elements].map(e => e.tagName + ':' + (e.type || '') + ':' + (e.name || '')).join(' ')])""",
        ),
        "thread": Counter(
            page.eval_on_selector_all("ol.thread, ol.thread *", "els => els.map(e => e.tagName + '.' + e.className)")
        ),
        "buttons": page.get_by_role("button").all_inner_texts(),
        "links": page.get_by_role("link").all_inner_texts(),
    }


def _log_in(page: Page, intake_url: str, phrase: str) -> None:
    page.goto(f"{intake_url}/login/")
    page.locator("#id_codename").fill(phrase)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{intake_url}/conversation/")


def _log_out(page: Page, intake_url: str) -> None:
    # By keyboard (as someone with a screen reader would): on the emulated phone, a pointer
    # click right after scrolling the button into view sometimes landed on the reply box while
    # the layout was still settling, and the test failed for a reason no person meets.
    page.locator("form[action='/logout/'] button").press("Enter")
    expect(page).to_have_url(f"{intake_url}/")


def test_the_danger_word_opens_a_harmless_lookalike_and_silently_flags_the_case(
    caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    # In Russian, the portal's default: selectors go by href and id, not by English labels.
    page = new_context().new_page()
    page.goto(f"{faces.intake}/")
    page.locator("main a[href='/start/']").click()
    codename = " ".join(_read_codename(page))
    page.locator("main a[href='/request/']").click()
    page.locator("input[name=urgency][value=in_hiding]").check()
    page.locator("#id_region").select_option("north_caucasus")
    page.locator("#id_message").fill(FIRST_MESSAGE)
    typed_word = page.locator("#id_duress_word")
    expect(typed_word).to_be_hidden()
    page.locator("details:has(#id_duress_word) > summary").click()  # <details> opens without JavaScript
    expect(typed_word).to_be_visible()
    # A word of one's own that is not in the codename's list is refused, and nothing typed is lost.
    typed_word.fill(WORD_OUTSIDE_THE_LIST)
    page.locator("form[action='/request/'] button[type=submit]").click()
    expect(page).to_have_url(f"{faces.intake}/request/")
    expect(page.locator("details:has(#id_duress_word) .fielderror")).to_contain_text("нет в списке слов")
    expect(page.locator("#id_message")).to_have_value(FIRST_MESSAGE)
    expect(page.locator("input[name=urgency][value=in_hiding]")).to_be_checked()
    assert not Case.objects.exists()
    # One of the offered words, picked with a radio button (no JavaScript needed).
    typed_word.fill("")
    offered = page.locator("input[name=duress_pick]:not([value=''])")
    expect(offered).to_have_count(5)
    danger_word = offered.nth(2).get_attribute("value") or ""
    assert danger_word in sealbox.wordlist("ru") and danger_word not in codename.split()
    offered.nth(2).check()
    page.locator("form[action='/request/'] button[type=submit]").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/")
    case = Case.objects.get()
    assert case.under_duress_since is None
    _log_out(page, faces.intake)

    _log_in(page, faces.intake, codename)
    expect(page.locator(".thread li.person .body")).to_have_text(FIRST_MESSAGE)
    real_shape = _shape(page)
    _log_out(page, faces.intake)

    _log_in(page, faces.intake, " ".join([*codename.split()[:-1], danger_word]))
    decoy_text = page.locator("body").inner_text()
    decoy_html = page.content()
    assert FIRST_MESSAGE not in decoy_text and FIRST_MESSAGE not in decoy_html
    expect(page.locator(".thread li.person")).to_have_count(1)
    decoy_question = page.locator(".thread li.person .body").inner_text()
    assert decoy_question in set(texts.decoy_openings("ru"))
    expect(page.locator(".thread li.automatic .body")).to_have_text(texts.acknowledgement("ru"))
    assert _shape(page) == real_shape
    for word in WORDS_A_CAPTOR_MUST_NOT_SEE:
        assert word not in decoy_text.casefold() and word not in decoy_html.casefold(), word
    case.refresh_from_db()
    assert case.under_duress_since is not None
    _log_out(page, faces.intake)

    # A captor who drops the last word sees neither the history nor the cover: a calm, empty
    # conversation, in the same layout.
    _log_in(page, faces.intake, codename)
    expect(page.locator(".thread li")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Сообщений пока нет.")
    assert FIRST_MESSAGE not in page.content() and decoy_question not in page.content()
    assert _shape(page)["headings"] == real_shape["headings"]
    assert _shape(page)["forms"] == real_shape["forms"]


def test_quick_exit_with_javascript_leaves_no_way_back_to_the_portal(
    caseworker: Staff, faces: Faces, new_context: NewContext, exit_site: ExitSite
) -> None:
    page = new_context(javascript=True).new_page()
    page.goto(f"{faces.intake}/start/")
    _read_codename(page)
    page.locator("a[data-exit]").click()
    expect(page).to_have_url(exit_site.url)
    page.go_back()
    assert page.url in {"about:blank", exit_site.url}

    # The control: without the script the same link is an ordinary navigation, and "back"
    # does return to the page with the secret phrase. The assertion above can fail.
    page = new_context().new_page()
    page.goto(f"{faces.intake}/start/")
    page.locator("a[data-exit]").click()
    expect(page).to_have_url(exit_site.url)
    page.go_back()
    expect(page).to_have_url(f"{faces.intake}/start/")


def _fits_the_phone(page: Page, name: str) -> None:
    shots = Path(settings.VAR_DIR) / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    # From the top: a full-page capture of a scrolled page paints the sticky header mid-page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=shots / f"{name}-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width}px wide on a {PHONE['width']}px screen"


def test_the_portal_fits_a_phone_screen_without_sideways_scrolling(
    person: PersonAtRisk, caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    # A reply with an unbroken link: the longest thing a line can hold.
    services.message_post_from_staff(
        case=person.case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body="Read this first: https://example.org/" + "a" * 80,
    )
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{faces.intake}/")
    _fits_the_phone(page, "landing")
    page.goto(f"{faces.intake}/start/")
    _fits_the_phone(page, "start")
    page.goto(f"{faces.intake}/request/")
    page.locator("details:has(#id_duress_word) > summary").click()
    _fits_the_phone(page, "request")
    _log_in(page, faces.intake, person.codename)
    expect(page.locator(".thread li")).to_have_count(3)
    _fits_the_phone(page, "conversation")
    _log_out(page, faces.intake)
    # After a danger-word login: the cover conversation, and the real phrase's calm page.
    _log_in(page, faces.intake, services.duress_phrase(person.codename, person.duress_word))
    expect(page.locator(".thread li")).to_have_count(2)
    _fits_the_phone(page, "conversation-danger-phrase")
    _log_out(page, faces.intake)
    _log_in(page, faces.intake, person.codename)
    expect(page.locator(".thread li")).to_have_count(0)
    _fits_the_phone(page, "conversation-real-phrase-under-duress")
