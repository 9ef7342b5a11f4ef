"""Writes: a member's notification preference, and queueing a notification about a case."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

import sealbox
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from jobs.services import job_enqueue
from notifications.addresses import address_decrypt, address_encrypt
from notifications.models import Channel, Event, NotificationPreference
from notifications.outbound import WebhookRefused, webhook_target

NOTIFY_JOB = "notify_case"


def preference_set(*, member: StaffMember, channel: str, address: str, language: str) -> NotificationPreference:
    """Save how ``member`` wants to be told, and audit what changed (never the address).

    A webhook URL must pass the address rule (notifications/outbound.py): a private address, or
    plain http, raises a WebhookRefused whose message the page shows."""
    address = address if channel != Channel.NONE else ""
    if channel == Channel.WEBHOOK:
        try:
            webhook_target(address)
        except WebhookRefused as refused:
            webhook_refusal_audit(member_id=member.pk, reason=refused.reason, actor=member, when="save")
            raise
    with transaction.atomic():
        current = NotificationPreference.objects.select_for_update().filter(member=member).first()
        change = _change(current, channel, address, language)
        address_ct = address_encrypt(member.pk, channel, address) if channel != Channel.NONE else b""
        defaults = {"channel": channel, "address_ct": address_ct, "language": language, "updated_at": timezone.now()}
        if change is not None and (change["channel"] != change["was"] or change["address"] != "kept"):
            # Somewhere else now: how deliveries went to the old address says nothing about it.
            defaults.update(last_delivered_at=None, failing_since=None)
        preference, _ = NotificationPreference.objects.update_or_create(member=member, defaults=defaults)
        if change is not None:
            audit_record(actor=member, action=Action.NOTIFY_PREFERENCE_CHANGE, details={"member": member.pk, **change})
    return preference


def preference_check(*, channel: str, address: str) -> None:
    """At sign-up, before the account exists: the address rule preference_set applies, so a
    refused webhook is shown while the sign-up link still works. Audited without a member."""
    if channel != Channel.WEBHOOK:
        return
    try:
        webhook_target(address)
    except WebhookRefused as refused:
        webhook_refusal_audit(member_id=None, reason=refused.reason, actor=None, when="signup")
        raise


def webhook_refusal_audit(*, member_id: int | None, reason: str, actor: StaffMember | None, when: str) -> None:
    """A webhook refused by the address rule, when saved (``actor`` is the member), at sign-up
    (no account yet) or at delivery (the worker): someone may be probing the server's network,
    or a name they saved now points inside it. The reason code only, never the URL."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=Action.NOTIFY_WEBHOOK_REFUSED,
            details={"member": member_id, "reason": reason, "when": when},
        )


def _change(current: NotificationPreference | None, channel: str, address: str, language: str) -> dict[str, str] | None:
    """What saving would change, in codes; None when nothing would."""
    was = current.channel if current is not None else Channel.NONE
    was_language = current.language if current is not None else ""
    address_change = _address_change(_readable_address(current), was, address, channel)
    language_changed = current is not None and was_language != language
    if was == channel and address_change == "kept" and not language_changed:
        return None
    return {
        "channel": str(channel),
        "was": str(was),
        "address": address_change,
        "language": language,
        "was_language": was_language,
    }


def _address_change(old: str | None, was: str, new: str, channel: str) -> str:
    if not new:
        return "kept" if old == "" else "cleared"
    if old == "":
        return "set"
    return "kept" if (old, was) == (new, channel) else "changed"


def _readable_address(preference: NotificationPreference | None) -> str | None:
    """The stored address, "" for none, None when it no longer opens (the pepper changed)."""
    if preference is None:
        return ""
    try:
        return preference_address(preference)
    except sealbox.CryptoError:
        return None


def preference_address(preference: NotificationPreference) -> str:
    if preference.channel == Channel.NONE or not preference.address_ct:
        return ""
    return address_decrypt(preference.member_id, preference.channel, preference.address_ct)


def case_event_notify_on_commit(*, case_id: int, event: Event) -> None:
    """Queue the notification once the surrounding transaction has committed, so a rolled
    back case never notifies anyone. The job carries the case's row id and the event only."""
    transaction.on_commit(lambda: job_enqueue(NOTIFY_JOB, {"case": case_id, "event": str(event)}))
