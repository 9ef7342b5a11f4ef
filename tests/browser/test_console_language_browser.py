"""The console's error pages in a real browser, in Russian (the console's default language):
a missing page, a page the member's role does not open, and a server error, each in the
console's own look with a way back, never Django's bare English pages. Screenshots are kept
under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.browser.conftest import Faces, NewContext, console_log_in, screenshot
from tests.personas import Staff

pytestmark = pytest.mark.browser


def test_the_console_error_pages_are_russian_and_look_like_the_console(
    caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    page = new_context(viewport={"width": 1024, "height": 700}).new_page()
    console_log_in(page, faces.console, caseworker)

    missing = page.goto(f"{faces.console}/cases/NO-SUCH-CASE/")
    assert missing is not None and missing.status == 404
    expect(page.locator("h1")).to_have_text("Страница не найдена")
    expect(page.locator("header")).to_have_text("Консоль")
    screenshot(page, "console-404-ru")
    page.get_by_role("link", name="Назад ко входящим").click()
    expect(page).to_have_url(f"{faces.console}/inbox/")

    refused = page.goto(f"{faces.console}/staff/")  # coordinators only
    assert refused is not None and refused.status == 403
    expect(page.locator("h1")).to_have_text("Эта страница вам недоступна")
    expect(page.locator("main")).to_contain_text("обратитесь к координатору")
    screenshot(page, "console-403-ru")

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE casework_case RENAME TO casework_case_gone")
    try:
        failed = page.goto(f"{faces.console}/inbox/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE casework_case_gone RENAME TO casework_case")
    assert failed is not None and failed.status == 500
    expect(page.locator("h1")).to_have_text("Что-то пошло не так")
    expect(page.locator("header")).to_contain_text("Консоль")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(31, 41, 55)"
    screenshot(page, "console-500-ru")
