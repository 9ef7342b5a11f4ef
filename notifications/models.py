"""Where each staff member wants to be told that a case needs attention, and what was sent.

The address (e-mail, webhook URL, Matrix room or user id) is personal data: it is stored encrypted under the
server-side notification key (notifications/addresses.py), never in plaintext.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    NONE = "none", _("No notifications")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook (HTTP POST)")
    MATRIX = "matrix", _("Matrix")


class Event(models.TextChoices):
    NEW_CASE = "new_case", _("New case")
    DURESS = "duress", _("Case under duress")
    OVERDUE = "overdue", _("Overdue case: no reply yet")
    RED_FLAG = "red_flag", _("Case matches a known compromised contact")
    MISSED_CHECKIN = "missed_checkin", _("Missed check-in")
    # Not about a case: public_id is "" and nothing else is said (backups.schedule).
    BACKUP_FAILED = "backup_failed", _("A scheduled backup failed")


class NotificationPreference(models.Model):
    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.NONE)
    address_ct = models.BinaryField(default=b"")
    # The language the member set this in; their notifications are written in it.
    language = models.CharField(max_length=8, default="ru")
    updated_at = models.DateTimeField(default=timezone.now)
    # How the last deliveries to this address went (notifications.delivery.deliver): whether
    # the channel works is shown to the member, in the inbox and on the staff page. Both are
    # cleared when the channel or address changes: the new one has not been tried yet.
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)


class NotificationSent(models.Model):
    """One notification job delivered to one member: a job that runs again skips them."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "member"], name="one_notification_per_job_member")]
