"""Case state history and the on-call rota.

The current state lives on casework.Case.status (kept in sync by triage.services); this table
is the history: who moved a case from which state to which, why, and when. It holds codes
only, never text someone typed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CaseStateChange(models.Model):
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    # A closing reason code (triage.lifecycle.ClosingReason) or "".
    reason = models.CharField(max_length=30, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class OnCallShift(models.Model):
    """One member on call from starts_at to ends_at (stored in UTC, shown in settings.TIME_ZONE)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start")
        ]
