"""Welfare check-ins (T9): a schedule per case, the check-ins themselves, the escalation
ladder's alerts, and the person's fate status with its history.

Plaintext columns are what the worker needs while nobody is logged in: the interval, the
grace period, whether the schedule is active, when the next check-in is due, when the last
one arrived, the ladder's state (which due instance is being escalated, the last step sent,
when the next step is due) and ``sweep_at``. The fate status value is plaintext too (the
coordinator dashboard counts it); who set it and when are plaintext, "on what information"
is sealed to the case key. The partner contact's e-mail address and the reference agreed with
the partner are sealed under the server-side notification key, like staff notification
addresses (notifications/addresses.py): the worker must read them while nobody is logged in.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CheckInSchedule(models.Model):
    case = models.OneToOneField("casework.Case", on_delete=models.CASCADE, related_name="checkin_schedule")
    interval_hours = models.PositiveIntegerField()
    grace_minutes = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    next_due_at = models.DateTimeField()
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    # The ladder: the due instance being escalated (None: none), the last step sent (0-4),
    # when the next step is due, and how many times the last step has repeated.
    missed_due_at = models.DateTimeField(null=True, blank=True)
    step = models.PositiveSmallIntegerField(default=0)
    step_due_at = models.DateTimeField(null=True, blank=True)
    repeats = models.PositiveIntegerField(default=0)
    # The one column the sweep reads: the next moment something must happen (next_due_at +
    # grace while waiting, step_due_at while escalating); NULL while paused. One indexed
    # range query finds all that is due, however many schedules there are.
    sweep_at = models.DateTimeField(null=True, blank=True)
    # Sealed under the notification key, bound to this schedule's row (b"": none set).
    partner_address_ct = models.BinaryField(default=b"")
    # What the partner is told instead of a case id or a link: a reference the staff agreed
    # with the partner, sealed like the address (b"": none set). The partner's language is
    # plaintext ("" means English): the worker writes the notice with nobody logged in.
    partner_reference_ct = models.BinaryField(default=b"")
    partner_language = models.CharField(max_length=8, blank=True, default="")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["sweep_at"], name="checkin_sweep_at", condition=models.Q(sweep_at__isnull=False))
        ]

    @property
    def escalating(self) -> bool:
        return self.missed_due_at is not None


class CheckIn(models.Model):
    """One press of "I am safe". ``trusted`` is False for a danger-word login and for any
    check-in while the case is under duress: those never stop an escalation."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    trusted = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["case", "-at"])]


class Alert(models.Model):
    """One step of the ladder for one missed due instance: made in the same transaction that
    moves the schedule on, unique per (schedule, due instance, step, repeat), so a sweep run
    twice, by two workers or after a crash, cannot make it twice. Its job sends it."""

    class Step(models.IntegerChoices):
        CASEWORKERS = 1, _("the case's caseworkers")
        ON_CALL = 2, _("staff on call")
        COORDINATORS = 3, _("coordinators")
        PARTNER = 4, _("the partner contact")

    schedule = models.ForeignKey(CheckInSchedule, on_delete=models.CASCADE, related_name="alerts")
    due_at = models.DateTimeField()
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    repeat = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    job = models.ForeignKey("jobs.Job", null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when the job found the escalation already over (a check-in or an acknowledgement).
    stopped_at = models.DateTimeField(null=True, blank=True)
    partner_sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at", "step", "repeat"], name="one_alert_per_step")
        ]


class Fate(models.TextChoices):
    IN_HIDING = "in_hiding", pgettext_lazy("fate status", "In hiding")
    IN_TRANSIT = "in_transit", _("In transit")
    DETAINED = "detained", _("Detained")
    RELEASED = "released", _("Released")
    EVACUATED = "evacuated", _("Evacuated")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DEAD = "dead", _("Dead")
    UNKNOWN = "unknown", _("Unknown")


class FateStatus(models.Model):
    """One entry in a person's fate history; the newest is the current status."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="+")
    # Plaintext: the dashboard counts people by status while nobody is logged in.
    status = models.CharField(max_length=20, choices=Fate.choices)
    # PROTECT: the setter's id is bound into the sealed text's context.
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    # "On what information": sealed to the case key version named above.
    information_ct = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["case", "-set_at"]), models.Index(fields=["status"])]
