"""The first night of a real team, end to end, in real browsers.

Nothing here is set up behind the pages' backs: the first coordinator starts from the one-time
setup link, the caseworker from an invitation she is sent after the first case has already
arrived, and the person at risk from the landing page on a phone with JavaScript off. The
notification for the "in danger now" case goes through the worker to a real SMTP server
(aiosmtpd) on loopback. Each browser context is one person's own browser.

What it proves, in order (issue "the first night of a real team"):
- while the line cannot accept requests the landing page says so and offers no form;
- the coordinator is asked for a notification channel at sign-up, and it is used;
- a caseworker who joins after a case arrived is owed its key, the coordinator sees that at once
  and hands it on, and the caseworker then sees, reads and answers the case;
- the person reads the reply with their secret phrase.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import StaffMember
from accounts.services import first_coordinator_link_create
from casework.models import Case
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.browser.conftest import (
    PHONE,
    Faces,
    NewContext,
    current_code,
    make_recovery_key,
    person_asks_for_help,
    screenshot,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "ночной поезд идёт на север 1917"
FIRST_MESSAGE = "Меня ищут родственники. Я у подруги, могу пробыть здесь до утра."
REPLY = "Мы вас слышим. Оставайтесь на месте, напишем через час."


def _log_in(page: Page, console: str, username: str) -> None:
    page.goto(f"{console}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_code").fill(current_code(username))
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{console}/inbox/")


def test_the_first_night_from_setup_link_to_the_persons_reply(
    faces: Faces,
    new_context: NewContext,
    smtp: SmtpInbox,  # noqa: F811
    settings: Any,
) -> None:
    settings.SP_CONSOLE_URL = faces.console
    person = new_context(viewport=PHONE)

    # 1. Nobody has set up the line yet: the person is told so before typing anything.
    page = person.new_page()
    page.goto(f"{faces.intake}/")
    screenshot(page, "first-night/landing-closed")
    expect(page.locator("main")).to_contain_text(re.compile("не принимаем|not taking|not open", re.IGNORECASE))
    assert page.locator("textarea, form[action='/request/']").count() == 0
    page.goto(f"{faces.intake}/request/")
    assert page.locator("textarea").count() == 0
    page.close()

    # 2. The first coordinator: setup link, a channel for alerts, TOTP, recovery codes, recovery key.
    token = first_coordinator_link_create()
    assert token is not None
    coordinator = new_context().new_page()
    sign_up(
        coordinator, f"{faces.console}/signup/{token}/", "marat", PASSWORD, "marat@example.org", shots="first-night"
    )
    expect(coordinator).to_have_url(f"{faces.console}/enrol/recovery/")
    make_recovery_key(coordinator, shots="first-night")

    # 3. The line is open now: the person on a phone writes that they are in danger.
    codename = person_asks_for_help(person.new_page(), faces.intake, FIRST_MESSAGE, shots="first-night")
    case = Case.objects.get()

    # The coordinator holds the new case's key and is told about it by e-mail, through the worker.
    call_command("worker", "--once")
    assert [recipients for recipients, _ in smtp.messages] == [["marat@example.org"]]
    mail = smtp.messages[0][1]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert case.public_id in body
    assert FIRST_MESSAGE not in mail.as_string()  # never the person's words in an e-mail

    # 4. The coordinator invites a caseworker only now, after the first case has arrived.
    coordinator.goto(f"{faces.console}/staff/")
    coordinator.locator("#id_role").select_option("caseworker")
    coordinator.locator("main form:has(#id_role) button").click()
    invite = coordinator.locator(".notice code").inner_text().strip()
    assert invite.startswith(f"{faces.console}/signup/")

    caseworker = new_context().new_page()
    sign_up(caseworker, invite, "alina", PASSWORD, "alina@example.org", shots="first-night")
    expect(caseworker).to_have_url(f"{faces.console}/inbox/")
    screenshot(caseworker, "first-night/caseworker-inbox-before-key")

    # 5. The coordinator sees at once that the new caseworker is owed the case's key, and hands it on.
    coordinator.goto(f"{faces.console}/inbox/")
    coordinator.locator("a[href='/pending-keys/']").first.click()
    expect(coordinator.locator("main table")).to_contain_text("alina")
    expect(coordinator.locator("main table")).to_contain_text(case.public_id)
    screenshot(coordinator, "first-night/coordinator-pending-keys")
    coordinator.locator("form[action='/pending-keys/'] button").click()
    expect(coordinator.locator("main")).not_to_contain_text("alina")

    # 6. The caseworker now sees the case, reads it and answers.
    caseworker.goto(f"{faces.console}/inbox/")
    caseworker.locator(f"a[href='/cases/{case.public_id}/']").first.click()
    expect(caseworker.locator(".thread")).to_contain_text(FIRST_MESSAGE)
    caseworker.locator("#reply_body").fill(REPLY)
    caseworker.locator("form[action$='/reply/'] button").first.click()
    expect(caseworker.locator(".thread li.staff")).to_contain_text(REPLY)
    screenshot(caseworker, "first-night/caseworker-replied")

    # 7. The person comes back with their secret phrase and reads the answer.
    page = person.new_page()
    page.goto(f"{faces.intake}/login/")
    page.locator("#id_codename").fill(codename)
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{faces.intake}/conversation/")
    expect(page.locator("main")).to_contain_text(REPLY)
    screenshot(page, "first-night/person-reads-reply")
    assert StaffMember.objects.filter(username="alina", is_active=True).exists()
