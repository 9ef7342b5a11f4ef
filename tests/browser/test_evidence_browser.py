"""The evidence locker as a caseworker uses it in a real browser (phone-sized, in Russian, the
console's default): she records the person's consent, writes down a testimony, keeps one of
the person's messages, opens the testimony's page with its fingerprint and custody log, has a
redacted copy proposed, and opens the events and export pages.
Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Faces, NewContext, console_log_in, screenshot
from tests.personas import Staff, open_case

pytestmark = pytest.mark.browser

FIRST_WORDS = "Меня держали в подвале в Аргуне. Я могу рассказать, кто там был."
TESTIMONY = "Двенадцать дней в Аргуне. Офицер называл себя Мохмад. Били каждый день."


def test_a_caseworker_records_consent_keeps_a_testimony_and_a_message_and_opens_it(
    caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    person = open_case(body=FIRST_WORDS, language="ru")
    page = new_context(viewport=PHONE).new_page()
    console_log_in(page, faces.console, caseworker)
    page.goto(f"{faces.console}/cases/{person.case.public_id}/?section=evidence")
    expect(page.locator("#evidence")).to_contain_text("Согласие ещё не записано")
    expect(page.locator("#evidence")).to_contain_text("Сначала запишите согласие человека.")
    screenshot(page, "console-evidence-empty-ru")

    page.locator("#consent_uses_0").check()  # journalists
    page.locator("#consent_uses_1").check()  # prosecutors and courts
    page.locator("#consent_redacted_only").check()
    page.locator("#consent_how").fill("По телефону 3 мая: да, журналистам и прокуратуре, без имени.")
    page.locator("form[action$='/evidence/consents/'] button").click()
    expect(page.locator(".status")).to_contain_text("Согласие записано.")

    page.locator("#testimony_title").fill("Задержание в Аргуне")
    page.locator("#testimony_text").fill(TESTIMONY)
    page.locator("form[action$='/evidence/testimonies/'] button").click()
    expect(page.locator(".status")).to_contain_text("Показания сохранены как доказательство.")

    page.locator("a[href$='messages=1#evidence-messages']").click()
    message = page.locator("#evidence-messages ~ ol li").first
    message.locator("summary").click()
    message.locator("input[name='title']").fill("Первое сообщение")
    message.locator("button").click()
    expect(page.locator(".status")).to_contain_text("Сообщение сохранено как доказательство.")
    expect(page.locator("ul.items li")).to_have_count(2)
    screenshot(page, "console-evidence-section-ru")

    page.locator("ul.items a", has_text="Задержание в Аргуне").click()
    expect(page.locator("h1")).to_have_text("Задержание в Аргуне")
    expect(page.locator("#original")).to_contain_text("Офицер называл себя Мохмад.")
    expect(page.locator("#custody ol li")).to_have_count(3)
    expect(page.locator("#custody")).not_to_contain_text("НЕ ПРОВЕРЯЕТСЯ")
    screenshot(page, "console-evidence-item-ru")

    page.locator("form[action$='/redact/'] button").click()
    expect(page.locator("#spans")).to_contain_text("Аргуне")
    expect(page.locator("#preview")).to_be_visible()
    screenshot(page, "console-evidence-review-ru")
    page.goto(f"{faces.console}/cases/{person.case.public_id}/evidence/events/")
    expect(page.locator("form")).not_to_have_count(0)
    screenshot(page, "console-evidence-events-ru")
    page.goto(f"{faces.console}/cases/{person.case.public_id}/evidence/export/")
    expect(page.locator("main")).to_contain_text("Задержание в Аргуне")
    screenshot(page, "console-evidence-export-ru")

    page.goto(f"{faces.console}/evidence/custody/")
    expect(page.locator("main")).to_contain_text("Журнал цел:")
    screenshot(page, "console-evidence-custody-ru")
