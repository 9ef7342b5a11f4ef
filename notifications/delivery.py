"""Telling staff a case needs attention, by e-mail, webhook or Matrix (the jobs that do it
are casework.alerts for a new case or a duress login, triage.deadlines and
evacuation.checkins.ladder for their escalations).

What goes out is deliberately poor: that a case needs attention, whether it is new or under
duress, its public id and a console link. Never the person's words, region, contact or any
name: a mailbox or a chat server is outside the organisation's control.

Idempotent: every delivery is recorded (NotificationSent) and a job that runs again, after a
crash or a partial failure, skips the members already told. A crash between sending and
recording can still send one message twice; that is the at-least-once trade-off.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

import nacl.hash
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import StaffMember
from jobs.models import Job
from notifications.addresses import notification_key
from notifications.matrix import send_matrix
from notifications.models import Channel, Event, NotificationPreference, NotificationSent
from notifications.outbound import WebhookRefused, pinned_post, webhook_target
from notifications.services import preference_address, webhook_refusal_audit

logger = logging.getLogger(__name__)
# Named explicitly: test runners swap settings.EMAIL_BACKEND for an in-memory one, and
# notifications must always leave through real SMTP.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class EmailNotConfigured(RuntimeError):
    """A member chose e-mail but SP_EMAIL_HOST is not set: retried, and logged."""


class WebhookRejected(RuntimeError):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Mail(Protocol):
    """What an e-mail is written from: a Notice, or another app's notice (a partner's)."""

    def subject(self) -> str: ...
    def body(self) -> str: ...


@dataclass(frozen=True)
class Notice:
    event: str
    public_id: str
    link: str

    def subject(self) -> str:
        if self.event == Event.BACKUP_FAILED:
            return _("A scheduled backup failed")
        if self.event == Event.DURESS:
            return _("Duress: case %(case)s needs attention") % {"case": self.public_id}
        if self.event == Event.RED_FLAG:
            return _("Warning: case %(case)s matches a known compromised contact") % {"case": self.public_id}
        if self.event == Event.OVERDUE:
            return _("Overdue: case %(case)s has no reply yet") % {"case": self.public_id}
        if self.event == Event.MISSED_CHECKIN:
            return _("A check-in was missed on case %(case)s") % {"case": self.public_id}
        return _("New case %(case)s needs attention") % {"case": self.public_id}

    def body(self) -> str:
        if self.event == Event.BACKUP_FAILED:
            return _(
                "A scheduled backup could not be written. The server's log and the audit log say when.\n"
                "Console: %(link)s\n\n"
                "This message deliberately says nothing more."
            ) % {"link": self.link}
        return _(
            "A case needs attention: %(case)s (%(event)s).\n"
            "Open it in the console: %(link)s\n\n"
            "This message deliberately says nothing more."
        ) % {"case": self.public_id, "event": Event(self.event).label, "link": self.link}


class _PublicCase(Protocol):
    public_id: str


def console_link(case: _PublicCase) -> str:
    return f"{settings.SP_CONSOLE_URL.rstrip('/')}/cases/{case.public_id}/"


def deliver(job: Job, members: list[StaffMember], notice: Notice) -> None:
    """Tell each of ``members`` once per job (their preferred channel); raise after trying all
    if any delivery failed, so the job is retried for those only."""
    already = set(NotificationSent.objects.filter(job=job).values_list("member_id", flat=True))
    preferences = NotificationPreference.objects.filter(member__in=members, member__is_active=True).exclude(
        channel=Channel.NONE
    )
    failures: list[Exception] = []
    for preference in preferences.order_by("member_id"):
        if preference.member_id in already:
            continue
        try:
            with translation.override(preference.language):
                send(preference, notice, dedupe_key=dedupe_key(job, preference.member_id))
        except Exception as exc:
            failures.append(exc)  # the others are still told; the job is retried for this one
            delivery_outcome_record(preference, delivered=False)
            continue
        NotificationSent.objects.create(job=job, member_id=preference.member_id, channel=preference.channel)
        delivery_outcome_record(preference, delivered=True)
    if failures:
        raise failures[0]


def delivery_outcome_record(preference: NotificationPreference, *, delivered: bool) -> None:
    """Remember whether the channel worked, for the inbox and the staff page. Only while the
    preference is the one that was tried: an address changed meanwhile has not been tried."""
    now = timezone.now()
    same = NotificationPreference.objects.filter(pk=preference.pk, updated_at=preference.updated_at)
    if delivered:
        same.update(last_delivered_at=now, failing_since=None)
    else:
        same.filter(failing_since=None).update(failing_since=now)  # since the first failure


def dedupe_key(job: Job, member_id: int) -> str:
    """The same for every try of one job to one member, so a channel that de-duplicates
    (Matrix transaction ids) shows a resend once. Keyed, so it does not tell the outside
    server our job and member numbers."""
    digest = nacl.hash.blake2b(
        f"{job.pk}:{member_id}".encode(), digest_size=16, key=notification_key(), person=b"sp.notify-txn.v1"
    )
    return "sp-" + digest.decode()


def send(preference: NotificationPreference, notice: Notice, *, dedupe_key: str) -> None:
    address = preference_address(preference)
    if preference.channel == Channel.EMAIL:
        send_email(address, notice)
    elif preference.channel == Channel.WEBHOOK:
        try:
            send_webhook(address, notice)
        except WebhookRefused as refused:
            webhook_refusal_audit(member_id=preference.member_id, reason=refused.reason, actor=None, when="delivery")
            raise
    elif preference.channel == Channel.MATRIX:
        # The same words as the e-mail: its subject line, then its body.
        send_matrix(address, f"{notice.subject()}\n\n{notice.body()}", transaction_id=dedupe_key)


def send_email(address: str, notice: Mail) -> None:
    if not settings.EMAIL_HOST:
        raise EmailNotConfigured
    with get_connection(SMTP_BACKEND, fail_silently=False) as smtp:
        EmailMessage(notice.subject(), notice.body(), settings.DEFAULT_FROM_EMAIL, [address], connection=smtp).send()


def send_webhook(url: str, notice: Notice) -> None:
    """POST the notice to ``url``, checked again now (its name may point elsewhere than when it
    was saved, or it was saved under an earlier rule) and sent to the address that was checked."""
    target = webhook_target(url)
    payload = {"event": notice.event, "case": notice.public_id, "url": notice.link, "text": notice.subject()}
    status = pinned_post(
        target,
        json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "SafePassage-notify"},
        timeout=settings.SP_WEBHOOK_TIMEOUT,
    )
    if not 200 <= status < 300:  # a redirect too: it would send the notice where the member did not choose
        raise WebhookRejected(status)
