"""Sign-up asks how to be told, with the notifications page's rules, and stores the answer as
that page does: a "danger now" case then reaches the newcomer through a real SMTP server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command

from accounts import services as account_services
from accounts.models import SignupLink, StaffMember
from audit.models import Action, AuditEntry
from notifications.models import Channel, NotificationPreference
from notifications.services import preference_address
from notifications.tests.conftest import HostTable
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.personas import CONSOLE, PASSWORD, FaceClient, Staff, open_case, totp_now

NEWCOMER = {"username": "night.shift", "password": PASSWORD, "password_again": PASSWORD}


def _english() -> FaceClient:
    client = FaceClient(CONSOLE)
    client.post("/language/", {"language": "en", "next": "/"})
    return client


def _invite(coordinator: Staff) -> str:
    return account_services.signup_link_create(
        purpose=SignupLink.Purpose.INVITE, role="caseworker", team=None, created_by=coordinator.member
    )


def _channels_offered(page: str) -> list[str]:
    return re.findall(r'name="channel" value="([a-z]+)"', page)


@pytest.mark.django_db
def test_the_setup_link_asks_the_first_coordinator_how_to_be_told() -> None:
    token = account_services.first_coordinator_link_create()
    page = _english().get(f"/signup/{token}/").content.decode()
    assert _channels_offered(page) == ["email", "webhook", "none"]  # Matrix only once its bot is set up
    assert 'name="address"' in page
    assert "I will set this up later. Until then I am told of nothing, not even a case in danger now." in page
    assert not re.search(r'name="channel" value="[a-z]+"[^>]*checked', page)  # nothing chosen for them


def test_an_invited_member_who_chooses_e_mail_is_told_of_a_danger_now_case(
    coordinator: Staff,
    smtp: SmtpInbox,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    token = _invite(coordinator)
    client = _english()
    assert _channels_offered(client.get(f"/signup/{token}/").content.decode()) == ["email", "webhook", "none"]

    form = {**NEWCOMER, "channel": "email", "address": "night@example.org"}
    assert client.post(f"/signup/{token}/", form).status_code == 302
    member = StaffMember.objects.get(username="night.shift")
    stored = NotificationPreference.objects.get(member=member)
    assert (stored.channel, stored.language, preference_address(stored)) == (Channel.EMAIL, "en", "night@example.org")
    assert b"night@example.org" not in bytes(stored.address_ct)
    change = AuditEntry.objects.get(action=Action.NOTIFY_PREFERENCE_CHANGE, actor=member)
    assert change.details["address"] == "set" and "night@example.org" not in str(change.details)
    assert client.post("/enrol/totp/", {"code": totp_now(member.totpdevice_set.get())}).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        person = open_case(urgency="danger_now")
    call_command("worker", "--once")

    assert [recipients for recipients, _ in smtp.messages] == [["night@example.org"]]
    assert person.case.public_id in smtp.texts()[0]


def test_a_bad_address_comes_back_with_everything_typed_but_the_password(coordinator: Staff) -> None:
    token = _invite(coordinator)
    client = _english()
    response = client.post(f"/signup/{token}/", {**NEWCOMER, "channel": "email", "address": "night-at-example"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid e-mail address." in page
    assert 'value="night.shift"' in page and 'value="night-at-example"' in page
    assert re.search(r'name="channel" value="email"[^>]*checked', page)
    assert PASSWORD not in page
    assert "Everything you typed is kept except the password: type it again, twice." in page
    assert not StaffMember.objects.filter(username="night.shift").exists()
    assert SignupLink.objects.get(purpose=SignupLink.Purpose.INVITE).used_at is None


def test_skipping_the_question_is_refused_and_later_is_a_choice_that_is_recorded(coordinator: Staff) -> None:
    token = _invite(coordinator)
    client = _english()
    skipped = client.post(f"/signup/{token}/", NEWCOMER)
    assert skipped.status_code == 400
    assert "Choose how to be told, or that you will set it up later." in skipped.content.decode()

    assert client.post(f"/signup/{token}/", {**NEWCOMER, "channel": "none", "address": "ignored"}).status_code == 302
    stored = NotificationPreference.objects.get(member__username="night.shift")
    assert (stored.channel, bytes(stored.address_ct)) == (Channel.NONE, b"")


def test_a_webhook_into_the_servers_network_is_refused_before_the_link_is_used(
    coordinator: Staff, dns: HostTable
) -> None:
    dns.names["hooks.example.org"] = ["10.0.0.7"]
    token = _invite(coordinator)
    form = {**NEWCOMER, "channel": "webhook", "address": "https://hooks.example.org/in"}
    response = _english().post(f"/signup/{token}/", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "This address leads into the server&#x27;s own network" in page
    assert 'value="https://hooks.example.org/in"' in page
    assert SignupLink.objects.get(purpose=SignupLink.Purpose.INVITE).used_at is None
    refusal = AuditEntry.objects.get(action=Action.NOTIFY_WEBHOOK_REFUSED)
    assert refusal.actor is None and refusal.details["when"] == "signup"
    assert "hooks.example.org" not in str(refusal.details)
