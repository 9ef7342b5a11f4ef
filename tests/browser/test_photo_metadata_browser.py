"""A photo's position in a real Chromium: the person, on a phone with JavaScript off, is told
on the form that the place is removed, sends a photo that carries it, and gets back a copy
without it; a coordinator opens the original as sent from the case page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from audit.models import Action, AuditEntry
from tests import samples
from tests.browser.conftest import PHONE, Faces, NewContext, console_log_in, screenshot
from tests.personas import PersonAtRisk, Staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "we remove from them the place where they were taken"


def _console_login(context: BrowserContext, console_url: str, staff: Staff) -> Page:
    page = context.new_page()
    console_log_in(page, console_url, staff)
    return page


def test_a_person_is_told_and_gets_back_the_photo_without_its_place(
    person: PersonAtRisk, coordinator: Staff, faces: Faces, new_context: NewContext
) -> None:
    photo = samples.photo_with_location(width=480, height=360)
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(f"{faces.intake}/")
    page.get_by_role("button", name="English").click()
    page.goto(f"{faces.intake}/login/")
    page.locator("#id_codename").fill(person.codename)
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/")

    note = page.locator("label[for='id_attachments'] + small")
    expect(note).to_be_visible()
    expect(note).to_contain_text(NOTE)
    page.get_by_label("Photos or documents (optional)").set_input_files(
        files=[{"name": "IMG_0420.jpg", "mimeType": "image/jpeg", "buffer": photo.data}]
    )
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_be_visible()
    screenshot(page, "photo-metadata-conversation-phone")

    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"^IMG_0420\.jpg ")).click()
    back = Path(download_info.value.path()).read_bytes()
    assert not any(marker in back for marker in photo.markers)
    assert samples.exif_of(back) == {}

    console = _console_login(new_context(), faces.console, coordinator)
    console.goto(f"{faces.console}/cases/{person.case.public_id}/")
    line = console.locator(".thread p", has_text="IMG_0420.jpg")
    expect(line).to_contain_text("место съёмки и данные камеры удалены")  # the console speaks Russian by default
    screenshot(console, "photo-metadata-case-page")
    with console.expect_download() as original_info:
        line.get_by_role("link", name=re.compile("^оригинал с метаданными")).click()
    assert Path(original_info.value.path()).read_bytes() == photo.data
    assert AuditEntry.objects.filter(action=Action.ATTACHMENT_ORIGINAL_DOWNLOAD, actor=coordinator.member).exists()
