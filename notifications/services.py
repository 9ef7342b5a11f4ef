"""Writes: a member's notification preference, and queueing a notification about a case."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import StaffMember
from jobs.services import job_enqueue
from notifications.addresses import address_decrypt, address_encrypt
from notifications.models import Channel, Event, NotificationPreference

NOTIFY_JOB = "notify_case"


def preference_set(*, member: StaffMember, channel: str, address: str, language: str) -> NotificationPreference:
    address_ct = address_encrypt(member.pk, channel, address) if channel != Channel.NONE else b""
    preference, _ = NotificationPreference.objects.update_or_create(
        member=member,
        defaults={"channel": channel, "address_ct": address_ct, "language": language, "updated_at": timezone.now()},
    )
    return preference


def preference_address(preference: NotificationPreference) -> str:
    if preference.channel == Channel.NONE or not preference.address_ct:
        return ""
    return address_decrypt(preference.member_id, preference.channel, preference.address_ct)


def case_event_notify_on_commit(*, case_id: int, event: Event) -> None:
    """Queue the notification once the surrounding transaction has committed, so a rolled
    back case never notifies anyone. The job carries the case's row id and the event only."""
    transaction.on_commit(lambda: job_enqueue(NOTIFY_JOB, {"case": case_id, "event": str(event)}))
