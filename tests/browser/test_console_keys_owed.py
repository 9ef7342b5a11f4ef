"""The first night, as the two staff members see it in a real browser (phone-sized, in Russian,
the console's default): a caseworker who signs up after the first case arrived finds her inbox
saying a colleague must hand her its key; the coordinator who holds it sees a count beside
"Access waiting to be handed on" on every page, hands it on with one button, and the case is in
her inbox. Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Faces, NewContext, console_log_in, screenshot
from tests.personas import Staff, make_staff, open_case

pytestmark = pytest.mark.browser

FIRST_WORDS = "Помогите, меня ищут. Это первое обращение за ночь."


def test_the_first_caseworker_is_handed_the_key_of_the_first_case(
    coordinator: Staff, faces: Faces, new_context: NewContext
) -> None:
    person = open_case(body=FIRST_WORDS, language="ru")
    caseworker = make_staff("caseworker", invited_by=coordinator)  # signs up from her invitation

    hers = new_context(viewport=PHONE).new_page()
    console_log_in(hers, faces.console, caseworker)
    expect(hers.locator("main")).to_contain_text("1 кейс вашей команды ждёт, пока коллега")
    expect(hers.locator("table.inbox")).not_to_contain_text(person.case.public_id)
    screenshot(hers, "console-inbox-key-owed-ru")

    his = new_context(viewport=PHONE).new_page()
    console_log_in(his, faces.console, coordinator)
    waiting = his.locator("nav a[href='/pending-keys/']")
    expect(waiting.locator(".badge")).to_have_text("1")
    expect(his.locator("main")).to_contain_text("Ключи кейсов, которые вы должны передать коллегам: 1.")
    screenshot(his, "console-inbox-keys-to-hand-on-ru")
    waiting.click()
    expect(his.locator("main table")).to_contain_text(person.case.public_id)
    expect(his.locator("main table")).to_contain_text("caseworker")
    screenshot(his, "console-pending-keys-ru")
    his.locator("form[action='/pending-keys/'] button").click()
    expect(his.locator(".status")).to_contain_text("Передано ключей кейсов: 1.")
    expect(his.locator("nav a[href='/pending-keys/'] .badge")).to_have_count(0)

    hers.goto(f"{faces.console}/inbox/")
    hers.locator(f"a[href='/cases/{person.case.public_id}/']").click()
    expect(hers.locator("main")).to_contain_text(FIRST_WORDS)
