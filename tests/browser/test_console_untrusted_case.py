"""What a caseworker sees when a case's records were changed outside the console.

Attacker: a database writer who points the case's replies at a credential of their own. The
caseworker, in a real browser, types a reply: nothing is sent, the page says plainly what
happened and what to do (in Russian, the console's default, and in English), and the case page
carries the warning at the top. Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

import sealbox
from casework.models import Case, Message, PersonCredential
from tests.browser.conftest import Faces, NewContext
from tests.personas import PersonAtRisk, Staff

pytestmark = pytest.mark.browser


def _log_in(page: Page, console_url: str, staff: Staff) -> None:
    page.goto(f"{console_url}/login/")
    page.locator("#id_username").fill(staff.member.username)
    page.locator("#id_password").fill(staff.password)
    page.locator("#id_code").fill(staff.code())
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{console_url}/inbox/")


def _shot(page: Page, name: str) -> None:
    shots = Path(settings.VAR_DIR) / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / f"{name}.png", full_page=True)


def test_a_reply_on_a_case_changed_outside_the_console_is_stopped_with_a_plain_page(
    person: PersonAtRisk, caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    planted = PersonCredential.objects.create(
        case=person.case, lookup_id="e" * 64, public_key=sealbox.KeyPair.generate().public_key
    )
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)
    page = new_context().new_page()
    _log_in(page, faces.console, caseworker)

    page.goto(f"{faces.console}/cases/{person.case.public_id}/")
    expect(page.locator(".untrusted")).to_contain_text("ЗАПИСИ ИЗМЕНЕНЫ В ОБХОД КОНСОЛИ")
    _shot(page, "console-case-untrusted-ru")
    page.locator("#reply_body").fill("Где вы сейчас?")
    page.locator("form[action$='/reply/'] button").first.click()

    expect(page.locator("h1")).to_contain_text("Остановлено")
    expect(page.locator("main")).to_contain_text("Сразу сообщите координатору")
    _shot(page, "console-untrusted-reply-ru")
    assert not Message.objects.filter(case=person.case, sender=Message.Sender.STAFF).exists()

    page.goto(f"{faces.console}/cases/{person.case.public_id}/")
    page.locator("form.lang button[value='en']").click()
    expect(page.locator(".untrusted")).to_contain_text("RECORDS CHANGED OUTSIDE THE CONSOLE")
    _shot(page, "console-case-untrusted-en")
