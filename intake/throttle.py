"""Codename logins are slowed by Argon2id and bounded by a global failure budget.

No per-address counting (that would mean storing addresses). When more than
SP_LOGIN_FAILURE_BUDGET wrong codenames arrive in one window, logins pause until the next
window. A guesser then gets at most budget/window attempts per instance, against a 77-bit
space. The trade-off — someone can pause logins for everyone for one window — is documented
in docs/threat-model.md.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from intake.models import LoginFailureWindow


def _window_start(now: datetime) -> datetime:
    length = settings.SP_LOGIN_WINDOW_SECONDS
    return datetime.fromtimestamp(now.timestamp() // length * length, tz=UTC)


def minutes_until_next_window() -> int:
    now = timezone.now()
    end = _window_start(now) + timedelta(seconds=settings.SP_LOGIN_WINDOW_SECONDS)
    return max(1, math.ceil((end - now).total_seconds() / 60))


def logins_paused() -> bool:
    window = LoginFailureWindow.objects.filter(window_start=_window_start(timezone.now())).first()
    return window is not None and window.failures >= settings.SP_LOGIN_FAILURE_BUDGET


def login_failure_record() -> None:
    start = _window_start(timezone.now())
    updated = LoginFailureWindow.objects.filter(window_start=start).update(failures=F("failures") + 1)
    if updated:
        return
    try:
        with transaction.atomic():
            LoginFailureWindow.objects.create(window_start=start, failures=1)
    except IntegrityError:  # another worker created the window first
        LoginFailureWindow.objects.filter(window_start=start).update(failures=F("failures") + 1)
    LoginFailureWindow.objects.filter(window_start__lt=start - timedelta(days=1)).delete()
