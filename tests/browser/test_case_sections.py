"""The case page on a phone (360×740, JavaScript off): the default view is the conversation and
the warnings, short enough to read; every other section is one tap away in the section list,
and a form sent from a section comes back to it. Screenshots are kept under var/test/browser/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from casework import services
from casework.lifecycle import State, case_transition
from tests.browser.conftest import PHONE, Faces, NewContext, console_log_in, screenshot
from tests.personas import Staff, open_case

pytestmark = pytest.mark.browser

# Before the page had sections, a coordinator saw this case 8,134 px high (2,229 px after).
DEFAULT_VIEW_MAX_PX = 2_500
SECTIONS = {
    "vetting": "#vetting",
    "plan": "#evacuation-plan",
    "money": "#funds",
    "safehouse": "#placement",
    "checkins": "#checkins",
    "notes": "#notes",
    "access": "#holders",
    "state": "#state",
}


def _height(page: Page) -> int:
    height: int = page.evaluate("document.documentElement.scrollHeight")
    return height


def test_the_case_page_on_a_phone_opens_short_and_every_section_is_one_tap_away(
    coordinator: Staff, caseworker: Staff, faces: Faces, new_context: NewContext
) -> None:
    person = open_case(
        body="Они забрали моего друга. Дядя читает мой телефон, я боюсь выходить.",
        hostile_relative=True,
        hostile_note="дядя в Грозном",
    )
    for body in ("Мы с вами. Где вы сейчас?", "Можете ли вы завтра быть в Махачкале?"):
        services.message_post_from_staff(
            case=person.case,
            member=caseworker.member,
            member_private_key=caseworker.private_key,
            signing_key=caseworker.signing_key,
            body=body,
        )
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(case=person.case, member=caseworker.member, to_state=State.VETTING)
    page = new_context(viewport=PHONE).new_page()
    console_log_in(page, faces.console, coordinator)
    case_url = f"{faces.console}/cases/{person.case.public_id}/"

    page.goto(case_url)
    expect(page.locator("#alerts")).to_contain_text("дядя в Грозном")
    expect(page.locator("#conversation")).to_contain_text("Можете ли вы завтра быть в Махачкале?")
    expect(page.locator("#reply_body")).to_be_visible()
    screenshot(page, "console-case-default-phone")
    default_height = _height(page)
    assert default_height < DEFAULT_VIEW_MAX_PX, f"the default view is {default_height} px high"

    for key, panel in SECTIONS.items():
        page.goto(case_url)
        page.locator(f"nav.sections a[href$='?section={key}']").click()
        expect(page).to_have_url(f"{case_url}?section={key}")
        expect(page.locator(panel)).to_be_visible()
        expect(page.locator("#conversation")).to_have_count(0)
        expect(page.locator("#alerts")).to_contain_text("дядя в Грозном")  # the warnings stay on top
        expect(page.locator(f"nav.sections a[href$='?section={key}']")).to_have_attribute("aria-current", "page")
        screenshot(page, f"console-case-{key}-phone")
        assert _height(page) < DEFAULT_VIEW_MAX_PX, f"the {key} section is {_height(page)} px high"

    # A form sent from a section comes back to it, with what it did.
    page.locator("nav.sections a[href$='?section=notes']").click()
    page.locator("#note_body").fill("Позвонили, всё спокойно.")
    page.locator("form[action$='/notes/'] button").click()
    expect(page).to_have_url(f"{case_url}?section=notes")
    expect(page.locator("#notes")).to_contain_text("Позвонили, всё спокойно.")
    screenshot(page, "console-case-note-added-phone")

    # Back to the conversation from any section.
    page.locator("nav.sections a").first.click()
    expect(page).to_have_url(case_url)
    expect(page.locator("#reply_body")).to_be_visible()
