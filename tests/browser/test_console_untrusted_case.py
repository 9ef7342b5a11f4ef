"""What a caseworker sees when a case's records were changed outside the console.

Attacker: a database writer who points the case's replies at a credential of their own. The
caseworker, in a real browser, types a reply: nothing is sent, the page says plainly what
happened and what to do (in Russian, the console's default, and in English), and the case page
carries the warning at the top. Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import sealbox
from casework.models import Case, Message, PersonCredential
from tests.browser.conftest import Faces, NewContext, console_log_in, screenshot
from tests.personas import PersonAtRisk, Staff

pytestmark = pytest.mark.browser


def test_a_reply_on_a_case_changed_outside_the_console_is_stopped_with_a_plain_page(
    person: PersonAtRisk, caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    planted = PersonCredential.objects.create(
        case=person.case, lookup_id="e" * 64, public_key=sealbox.KeyPair.generate().public_key
    )
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)
    page = new_context().new_page()
    console_log_in(page, faces.console, caseworker)

    page.goto(f"{faces.console}/cases/{person.case.public_id}/")
    expect(page.locator(".untrusted")).to_contain_text("ЗАПИСИ ИЗМЕНЕНЫ В ОБХОД КОНСОЛИ")
    screenshot(page, "console-case-untrusted-ru")
    page.locator("#reply_body").fill("Где вы сейчас?")
    page.locator("form[action$='/reply/'] button").first.click()

    expect(page.locator("h1")).to_contain_text("Остановлено")
    expect(page.locator("main")).to_contain_text("Сразу сообщите координатору")
    screenshot(page, "console-untrusted-reply-ru")
    assert not Message.objects.filter(case=person.case, sender=Message.Sender.STAFF).exists()

    page.goto(f"{faces.console}/cases/{person.case.public_id}/")
    page.locator("form.lang button[value='en']").click()
    expect(page.locator(".untrusted")).to_contain_text("RECORDS CHANGED OUTSIDE THE CONSOLE")
    screenshot(page, "console-case-untrusted-en")
