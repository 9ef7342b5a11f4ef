"""The global login failure budget: the only state codename logins keep, and it is not
about anyone — no address, no browser, no codename, just a count per time window."""

from __future__ import annotations

from django.db import models


class LoginFailureWindow(models.Model):
    window_start = models.DateTimeField(unique=True)
    failures = models.PositiveIntegerField(default=0)
