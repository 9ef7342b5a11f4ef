"""The page on getting through a block, as a person finds it: from the landing page, on a
phone-sized screen, with JavaScript off (Tor Browser's "Safest" setting), in both languages.
The long onion address must wrap instead of pushing the page sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Faces, NewContext, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONION = "http://" + "b" * 56 + ".onion"
LINK = {"ru": "Если у вас заблокирован этот сайт или Tor", "en": "If this site or Tor is blocked where you are"}
HEADING = {"ru": "Если этот сайт или Tor заблокированы", "en": "If this site or Tor is blocked"}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_landing_page_leads_to_it_without_javascript_and_it_fits_a_phone(
    faces: Faces, new_context: NewContext, settings: Any, language: str
) -> None:
    settings.SP_INTAKE_URL = ONION
    settings.SP_INTAKE_CLEARNET_URL = "https://desk.example.org"
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{faces.intake}/")
    if language == "en":
        page.get_by_role("button", name="English").click()
    page.get_by_role("link", name=LINK[language]).click()
    expect(page).to_have_url(f"{faces.intake}/connect/")
    expect(page.locator("h1")).to_have_text(HEADING[language])
    expect(page.locator("p.address")).to_have_text([ONION, "https://desk.example.org"])
    expect(page.get_by_role("link", name={"ru": "Быстрый выход", "en": "Quick exit"}[language])).to_be_visible()
    screenshot(page, f"connect-{language}-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
