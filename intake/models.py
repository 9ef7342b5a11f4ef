"""Global budgets: the only state the intake keeps about traffic, and it is not about anyone —
no address, no browser, no codename, just a count per kind and time window."""

from __future__ import annotations

from django.db import models


class BudgetKind(models.TextChoices):
    LOGIN_FAILURE = "login_failure", "wrong codenames typed at the login"
    NEW_CASE = "new_case", "cases opened through the first request"


class BudgetWindow(models.Model):
    kind = models.CharField(max_length=20, choices=BudgetKind.choices)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "window_start"], name="one_budget_window_per_kind")]
