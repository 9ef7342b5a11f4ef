"""The on-call rota (a case's state history is casework.models.CaseStateChange)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
