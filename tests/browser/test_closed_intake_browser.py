"""The intake before setup is finished, and when the line closes while someone writes, in a
real Chromium on a phone-sized screen with JavaScript off.

A person must never type into a dead end: while the intake cannot take requests the landing
page says so and offers nothing to write in; a request refused after it was typed comes back
with every word still in the form.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import TeamMembership
from casework.models import Case
from tests.browser.conftest import PHONE, Faces, NewContext
from tests.personas import Staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE = "The line is not open yet. Please come back later."
TYPED = "They came to my mother's house last night. I am hiding at a friend's place in Grozny."


def _phone_page(new_context: NewContext) -> Page:
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def _shot(page: Page, name: str) -> None:
    shots = Path(settings.VAR_DIR) / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=shots / f"{name}-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def _in_english(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_before_setup_the_landing_page_says_so_and_offers_nothing_to_type_into(
    faces: Faces, new_context: NewContext
) -> None:
    page = _phone_page(new_context)
    page.goto(f"{faces.intake}/")
    expect(page.locator("h1")).to_have_text("Мы пока не принимаем обращения")  # Russian by default
    _in_english(page, f"{faces.intake}/")
    expect(page.locator("h1")).to_have_text("The line is not open yet")
    expect(page.get_by_role("status")).to_have_text("Please come back later.")
    expect(page.locator("textarea, input[type=text], input[type=file]")).to_have_count(0)
    expect(page.locator("form:not([action='/language/'])")).to_have_count(0)
    expect(page.get_by_role("link", name="Write for the first time")).to_have_count(0)
    _shot(page, "landing-closed")

    # Nor does typing the address of the next step get anyone a phrase or a form.
    page.goto(f"{faces.intake}/start/")
    expect(page).to_have_url(f"{faces.intake}/")
    expect(page.locator(".codename")).to_have_count(0)
    page.goto(f"{faces.intake}/request/")
    expect(page).to_have_url(f"{faces.intake}/")
    expect(page.locator("textarea")).to_have_count(0)
    # Only the language the person chose is kept in the browser: no session, no CSRF cookie.
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert names == {settings.LANGUAGE_COOKIE_NAME}, names


def test_a_request_refused_after_typing_comes_back_with_everything_typed(
    caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    page = _phone_page(new_context)
    _in_english(page, f"{faces.intake}/")
    page.get_by_role("link", name="Write for the first time").click()
    page.get_by_role("link", name="I have learnt it — continue").click()
    expect(page).to_have_url(f"{faces.intake}/request/")
    page.get_by_label("In danger now").check()
    page.get_by_label("Where are you now, roughly?").select_option("chechnya")
    page.get_by_label("Your message").fill(TYPED)

    # Meanwhile the on-call team loses its last member who reads new cases.
    TeamMembership.objects.filter(team__is_on_call=True).delete()
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{faces.intake}/request/")
    expect(page.get_by_role("alert")).to_contain_text(NOTICE)
    expect(page.get_by_text("Nothing was sent yet. What you wrote is kept below.")).to_be_visible()
    expect(page.get_by_label("Your message")).to_have_value(TYPED)
    expect(page.get_by_label("Where are you now, roughly?")).to_have_value("chechnya")
    expect(page.get_by_label("In danger now")).to_be_checked()
    _shot(page, "request-refused-closed")
    assert not Case.objects.exists()
