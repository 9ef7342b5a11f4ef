"""Every change of a notification preference is in the audit log: which member, what channel
it was and is, whether the address was set, changed or cleared, the language. Never the address."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit.models import Action, AuditEntry
from notifications.models import NotificationPreference
from tests.personas import Staff

PAGE = "/account/notifications/"


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=Action.NOTIFY_PREFERENCE_CHANGE).order_by("sequence"))


@pytest.mark.django_db
def test_every_change_of_a_notification_preference_is_audited_without_the_address(
    caseworker: Staff, settings: Any
) -> None:
    """Attacker: a turned staff member who points their notifications (new and duress cases)
    at an address of their choosing, maybe only for a night, then back. Each change leaves one
    entry a coordinator can see, naming the kind of channel; no entry holds an address."""
    client = caseworker.console(language="en")
    member = caseworker.member.pk
    addresses = ["first-canary@example.org", "second-canary@example.org", "http://127.0.0.1:9000/canary-hook"]

    steps = [
        ({"channel": "email", "address": addresses[0]}, "en"),
        ({"channel": "email", "address": addresses[1]}, "en"),
        ({"channel": "webhook", "address": addresses[2]}, "en"),
        ({"channel": "webhook", "address": addresses[2]}, "ru"),
        ({"channel": "none", "address": ""}, "ru"),
    ]
    for form, language in steps:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        assert client.post(PAGE, form).status_code == 302

    def change(channel: str, was: str, address: str, language: str, was_language: str) -> dict[str, Any]:
        return {
            "member": member,
            "channel": channel,
            "was": was,
            "address": address,
            "language": language,
            "was_language": was_language,
        }

    assert [entry.actor_id for entry in _entries()] == [member] * 5
    assert [entry.details for entry in _entries()] == [
        change("email", "none", "set", "en", ""),
        change("email", "email", "changed", "en", "en"),
        change("webhook", "email", "changed", "en", "en"),
        change("webhook", "webhook", "kept", "ru", "en"),
        change("none", "webhook", "cleared", "ru", "ru"),
    ]
    stored = json.dumps([entry.details for entry in AuditEntry.objects.all()])
    for address in addresses:
        assert "canary" not in stored and address not in stored


@pytest.mark.django_db
def test_saving_the_same_preference_again_adds_no_entry(caseworker: Staff) -> None:
    client = caseworker.console(language="en")
    form = {"channel": "email", "address": "cw@example.org"}
    assert client.post(PAGE, form).status_code == 302
    assert client.post(PAGE, form).status_code == 302
    assert client.post(PAGE, {"channel": "none", "address": ""}).status_code == 302
    assert client.post(PAGE, {"channel": "none", "address": ""}).status_code == 302
    assert [entry.details["address"] for entry in _entries()] == ["set", "cleared"]


@pytest.mark.django_db
def test_a_refused_webhook_changes_nothing_and_the_refusal_is_audited(caseworker: Staff, settings: Any) -> None:
    """Attacker: a staff member probing the server's network through the form. The refusal
    keeps the old preference, and each attempt leaves an entry with the reason, not the URL."""
    settings.SP_WEBHOOK_ALLOW_LOOPBACK = False
    client = caseworker.console(language="en")
    assert client.post(PAGE, {"channel": "email", "address": "cw@example.org"}).status_code == 302
    for url in ("https://10.0.0.1/canary-hook", "http://169.254.169.254/canary-meta", "https://localhost/canary"):
        assert client.post(PAGE, {"channel": "webhook", "address": url}).status_code == 400
    assert NotificationPreference.objects.get().channel == "email"
    assert [entry.details["channel"] for entry in _entries()] == ["email"]
    refusals = AuditEntry.objects.filter(action=Action.NOTIFY_WEBHOOK_REFUSED).order_by("sequence")
    assert [(entry.actor_id, entry.details) for entry in refusals] == [
        (caseworker.member.pk, {"member": caseworker.member.pk, "reason": "private", "when": "save"})
    ] * 3
    assert "canary" not in json.dumps([entry.details for entry in AuditEntry.objects.all()])
