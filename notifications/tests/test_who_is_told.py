"""Whether anyone would be told of a case in danger now: the inbox warns while nobody who
gets new cases has a working channel, and the coordinator's staff page says who would be told.
Deliveries go through a real SMTP server (aiosmtpd) and the real worker."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from jobs.models import Job
from notifications.models import Channel, NotificationPreference
from notifications.services import preference_set
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.personas import Staff, open_case
from triage.services import shift_add

NOBODY_AT_ONCE = "Nobody on call would be told of a new case, even one in danger now, or of a login with a danger word."
NOBODY_UNANSWERED = "Nobody would be told when a case goes unanswered past its deadline"
OWN = "You have no working notification channel: you are not told when a case needs you."


def _inbox(staff: Staff) -> str:
    response = staff.console(language="en").get("/inbox/")
    assert response.status_code == 200
    return response.content.decode()


def _staff_row(page: str, handle: str) -> str:
    row = re.search(rf"<tr>\s*<td>{re.escape(handle)}</td>.*?</tr>", page, re.S)
    assert row is not None, page
    return re.sub(r"<[^>]+>", " ", row.group(0))


def _new_case_through_the_worker(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_case(urgency="danger_now")
    call_command("worker", "--once")


def test_the_inbox_warns_until_someone_on_call_has_a_working_channel(
    coordinator: Staff,
    caseworker: Staff,
    outsider: Staff,
    smtp: SmtpInbox,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The coordinator and the caseworker get new cases (the on-call team); the outsider does not.
    page = _inbox(coordinator)
    assert NOBODY_AT_ONCE in page and OWN in page
    assert 'href="/staff/#told"' in page and 'href="/account/notifications/"' in page

    preference_set(member=outsider.member, channel=Channel.EMAIL, address="out@example.org", language="en")
    assert NOBODY_AT_ONCE in _inbox(coordinator)  # reachable, but not given new cases

    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    page = _inbox(coordinator)
    assert NOBODY_AT_ONCE not in page
    # Nobody is on the rota, so a case left unanswered goes to the coordinators: she has no channel.
    assert NOBODY_UNANSWERED in page and OWN in page
    assert NOBODY_AT_ONCE not in _inbox(caseworker) and OWN not in _inbox(caseworker)

    smtp.refuse = True  # the caseworker's mail server refuses: the channel is failing
    _new_case_through_the_worker(django_capture_on_commit_callbacks)
    assert NotificationPreference.objects.get(member=caseworker.member).failing_since is not None
    assert NOBODY_AT_ONCE in _inbox(coordinator)
    assert OWN in _inbox(caseworker)
    own_page = caseworker.console(language="en").get("/account/notifications/").content.decode()
    assert "Your channel now: failing (" in own_page

    smtp.refuse = False  # the retry goes through: working again
    Job.objects.filter(done_at=None).update(run_at=timezone.now() - timedelta(seconds=1))
    call_command("worker", "--once")
    assert [recipients for recipients, _ in smtp.messages] == [["cw@example.org"]]
    assert NOBODY_AT_ONCE not in _inbox(coordinator)


def test_a_channel_the_server_cannot_send_through_does_not_count(
    coordinator: Staff, caseworker: Staff, settings: Any
) -> None:
    settings.EMAIL_HOST = ""  # no mail server set up: e-mail cannot go out at all
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    assert NOBODY_AT_ONCE in _inbox(coordinator)
    settings.EMAIL_HOST = "127.0.0.1"
    assert NOBODY_AT_ONCE not in _inbox(coordinator)


def test_nobody_reachable_on_the_rota_is_warned_of_too(
    coordinator: Staff, caseworker: Staff, outsider: Staff, settings: Any
) -> None:
    settings.EMAIL_HOST = "127.0.0.1"
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    now = timezone.now()
    shift_add(actor=coordinator.member, member=outsider.member, starts_at=now, ends_at=now + timedelta(hours=8))
    page = _inbox(coordinator)
    assert NOBODY_AT_ONCE not in page and NOBODY_UNANSWERED in page
    preference_set(member=outsider.member, channel=Channel.EMAIL, address="out@example.org", language="en")
    assert NOBODY_UNANSWERED not in _inbox(coordinator)


def test_the_staff_page_shows_who_would_be_told_without_their_addresses(
    coordinator: Staff,
    caseworker: Staff,
    outsider: Staff,
    smtp: SmtpInbox,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    page = coordinator.console(language="en").get("/staff/").content.decode()
    assert "Nobody would be told: nobody who gets new cases has a working notification channel." in page

    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    preference_set(member=outsider.member, channel=Channel.EMAIL, address="out@example.org", language="en")
    _new_case_through_the_worker(django_capture_on_commit_callbacks)  # the caseworker is told: working
    now = timezone.now()
    shift_add(actor=coordinator.member, member=outsider.member, starts_at=now, ends_at=now + timedelta(hours=1))

    page = coordinator.console(language="en").get("/staff/").content.decode()
    told = re.search(r'<section id="told">.*?</section>', page, re.S)
    assert told is not None and "caseworker" in told.group(0)
    assert "outsider" not in told.group(0) and "coordinator" not in told.group(0)
    caseworker_row = " ".join(_staff_row(page, "caseworker").split())
    assert "gets new cases" in caseworker_row and "E-mail: working" in caseworker_row and caseworker_row.endswith("yes")
    outsider_row = " ".join(_staff_row(page, "outsider").split())
    assert "on the rota now" in outsider_row and "gets new cases" not in outsider_row
    assert "E-mail: set up, nothing sent yet" in outsider_row and outsider_row.endswith("no")
    coordinator_row = " ".join(_staff_row(page, "coordinator").split())
    assert "gets new cases" in coordinator_row and "not set up" in coordinator_row and coordinator_row.endswith("no")
    assert "cw@example.org" not in page and "out@example.org" not in page


def test_a_new_address_is_not_judged_by_the_failures_of_the_old_one(
    coordinator: Staff,
    caseworker: Staff,
    smtp: SmtpInbox,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="old@example.org", language="en")
    smtp.refuse = True
    _new_case_through_the_worker(django_capture_on_commit_callbacks)
    assert NOBODY_AT_ONCE in _inbox(coordinator)
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="old@example.org", language="ru")
    assert NOBODY_AT_ONCE in _inbox(coordinator)  # the same address, still failing

    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="new@example.org", language="en")
    assert NOBODY_AT_ONCE not in _inbox(coordinator)
    page = caseworker.console(language="en").get("/account/notifications/").content.decode()
    assert "Your channel now: set up, nothing sent yet" in page
