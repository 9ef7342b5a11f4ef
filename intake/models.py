"""Global budgets: the only state the intake keeps about traffic, and it is not about anyone —
no address, no browser, no codename, just a count per kind and time window."""

from __future__ import annotations

from django.db import models


class BudgetKind(models.TextChoices):
    LOGIN = "login", "codename derivations at the login (one per well-formed phrase typed)"
    NEW_CASE = "new_case", "first requests that derived their keys (two derivations each)"
    UPLOAD_BYTES = "upload_bytes", "bytes of files taken with first requests and messages"


class BudgetWindow(models.Model):
    kind = models.CharField(max_length=20, choices=BudgetKind.choices)
    window_start = models.DateTimeField()
    # Bytes for uploads: more than a 32-bit count holds.
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "window_start"], name="one_budget_window_per_kind")]
