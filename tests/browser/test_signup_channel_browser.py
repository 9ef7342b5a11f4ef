"""A caseworker joins from an invitation in a real browser and says how to be told; a case in
danger now then reaches her through a real SMTP server, and the coordinator's staff page shows
her among those who would be told. Screenshots are kept under var/test/browser/ to look at."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import SignupLink, StaffMember
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.browser.conftest import Faces, NewContext, console_log_in, screenshot
from tests.personas import Staff, open_case, totp_now

pytestmark = pytest.mark.browser


def test_an_invited_caseworker_chooses_e_mail_at_sign_up_and_is_told_of_a_danger_now_case(
    coordinator: Staff,
    faces: Faces,
    new_context: NewContext,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    token = account_services.signup_link_create(
        purpose=SignupLink.Purpose.INVITE, role="caseworker", team=None, created_by=coordinator.member
    )
    page = new_context(viewport={"width": 360, "height": 740}).new_page()
    page.goto(f"{faces.console}/signup/{token}/")
    expect(page.locator("main")).to_contain_text("Как сообщать вам, когда кейс требует вашего внимания?")
    password = "night shift password 2026"
    page.locator("#id_username").fill("nadia")
    page.locator("#id_password").fill(password)
    page.locator("#id_password_again").fill(password)
    page.get_by_label("Электронная почта", exact=True).check()
    page.locator("#id_address").fill("nadia-at-example.org")
    page.locator("main form button").click()

    # Refused: what she typed is still there, except the passwords, and the page says so.
    expect(page.locator(".error")).to_contain_text("Введите правильный адрес электронной почты.")
    expect(page.locator("#id_username")).to_have_value("nadia")
    expect(page.locator("#id_address")).to_have_value("nadia-at-example.org")
    expect(page.get_by_label("Электронная почта", exact=True)).to_be_checked()
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator("main")).to_contain_text("Всё введённое сохранено, кроме пароля")
    screenshot(page, "signup-channel-refused-ru")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the sign-up page is {width}px wide on a 360px screen"

    page.locator("#id_password").fill(password)
    page.locator("#id_password_again").fill(password)
    page.locator("#id_address").fill("nadia@example.org")
    page.locator("main form button").click()
    expect(page).to_have_url(f"{faces.console}/enrol/totp/")
    device = StaffMember.objects.get(username="nadia").totpdevice_set.get()
    page.locator("#id_code").fill(totp_now(device))
    page.locator("main form button").click()
    expect(page).to_have_url(f"{faces.console}/account/recovery-codes/")
    page.goto(f"{faces.console}/inbox/")
    expect(page.locator("#nobody-told-at-once")).to_have_count(0)  # she gets new cases and can be told
    # Nobody is on the rota and the coordinator has no channel: a case left unanswered reaches nobody.
    expect(page.locator("#nobody-told-unanswered")).to_contain_text("Никого не оповестят, если кейс останется")
    expect(page.locator("#own-channel")).to_have_count(0)
    screenshot(page, "signup-channel-inbox-ru")

    public_id = _danger_now_case_arrives()
    assert [recipients for recipients, _ in smtp.messages] == [["nadia@example.org"]]
    assert public_id in smtp.texts()[0]

    staff_page = new_context().new_page()
    console_log_in(staff_page, faces.console, coordinator)
    staff_page.goto(f"{faces.console}/staff/")
    expect(staff_page.locator("#told")).to_contain_text("nadia")
    row = staff_page.locator("tr", has=staff_page.locator("td", has_text="nadia"))
    expect(row).to_contain_text("Электронная почта: работает")
    expect(row).not_to_contain_text("nadia@example.org")
    screenshot(staff_page, "staff-who-would-be-told-ru")


def _danger_now_case_arrives() -> str:
    """A request marked "danger now" arrives, and the worker sends the notifications (the
    test is transactional: they are queued when the intake's transaction commits)."""
    with transaction.atomic():
        person = open_case(urgency="danger_now")
    call_command("worker", "--once")
    return person.case.public_id
