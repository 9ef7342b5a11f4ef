"""A recovery ceremony in real browsers, in Russian (the console's default): two coordinators,
each on their own device, enter their shares; the one who started it gives an orphaned case to
a new caseworker, who reads it. Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import Role
from recovery.tests.conftest import Trustees
from recovery.tests.test_ceremony import FIRST_WORDS, _orphaned_case
from tests.browser.conftest import Faces, NewContext, console_log_in, screenshot
from tests.personas import enrol, make_staff

pytestmark = pytest.mark.browser


def test_two_trustees_give_an_orphaned_case_to_a_new_caseworker(faces: Faces, new_context: NewContext) -> None:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    first = enrol(token, "marat")
    second = make_staff("zarema", role=Role.COORDINATOR, invited_by=first)
    shares = account_services.recovery_shares_create(
        created_by=first.member, threshold=2, holders=[first.member.pk, second.member.pk, None]
    )
    person, newcomer = _orphaned_case(Trustees(first, second, shares))

    his = new_context().new_page()
    console_log_in(his, faces.console, first)
    his.locator("nav a[href='/recovery/']").click()
    screenshot(his, "recovery/home-ru")
    start = his.locator("form:has(input[name=purpose][value=case_access])")
    start.locator("input[name=case]").fill(person.case.public_id)
    start.locator("select[name=member]").select_option(label=newcomer.member.username)
    start.locator("button").click()
    ceremony_url = his.url
    his.locator("textarea[name=share]").fill(shares[0])
    his.locator("form:has(textarea[name=share]) button").click()
    expect(his.locator("main")).to_contain_text("Часть 1 принята")
    screenshot(his, "recovery/ceremony-one-share-ru")

    hers = new_context().new_page()
    console_log_in(hers, faces.console, second)
    hers.goto(ceremony_url)
    words = shares[1].split()
    words[3], words[4] = words[4], words[3]
    hers.locator("textarea[name=share]").fill(" ".join(words))
    hers.locator("form:has(textarea[name=share]) button").click()
    expect(hers.locator(".error")).to_contain_text("В этой части ошибка")
    screenshot(hers, "recovery/ceremony-wrong-share-ru")
    hers.locator("textarea[name=share]").fill(shares[1])
    hers.locator("form:has(textarea[name=share]) button").click()
    expect(hers.locator("main")).to_contain_text("Все части введены")

    his.goto(ceremony_url)
    screenshot(his, "recovery/ceremony-ready-ru")
    his.locator("form[action$='/perform/'] button").click()
    expect(his.locator("main")).to_contain_text(person.case.public_id)
    screenshot(his, "recovery/ceremony-done-ru")

    theirs = new_context().new_page()
    console_log_in(theirs, faces.console, newcomer)
    theirs.goto(f"{faces.console}/cases/{person.case.public_id}/")
    expect(theirs.locator("main")).to_contain_text(FIRST_WORDS)
