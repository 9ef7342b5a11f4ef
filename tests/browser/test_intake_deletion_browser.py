"""The person's "Delete what I wrote here" in a real Chromium with JavaScript off, on a phone's
screen, in Russian (the intake's default language): the confirmation, the deleted page, and a
login afterwards that finds nothing, as a wrong codename does. Screenshots for looking at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from casework.models import PersonCredential
from retention.models import DeletionRequest
from tests.browser.conftest import PHONE, Faces, NewContext, screenshot
from tests.personas import PersonAtRisk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_person_deletes_what_they_wrote_without_javascript(
    faces: Faces, new_context: NewContext, person: PersonAtRisk
) -> None:
    page = new_context(viewport=PHONE).new_page()
    page.goto(f"{faces.intake}/login/")
    page.locator("#id_codename").fill(person.codename)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/")

    page.get_by_role("link", name="Удалить то, что я здесь написал(а)").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/delete/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Удалить то, что вы здесь написали?")
    screenshot(page, "intake-delete-confirm-ru")
    page.get_by_role("link", name="Оставить").click()  # "Keep it" goes back, nothing done
    expect(page).to_have_url(f"{faces.intake}/conversation/")
    assert not DeletionRequest.objects.exists()

    page.goto(f"{faces.intake}/conversation/delete/")
    page.get_by_role("button", name="Да, удалить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Удалено")
    screenshot(page, "intake-deleted-ru")
    assert not PersonCredential.objects.filter(case=person.case).exists()

    page.goto(f"{faces.intake}/login/")
    page.locator("#id_codename").fill(person.codename)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{faces.intake}/login/")  # refused, as a wrong codename is
    screenshot(page, "intake-login-after-deletion-ru")
