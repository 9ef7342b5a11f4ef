"""Global budgets per time window, for what an anonymous visitor can make the server do.

No per-address counting (that would mean storing addresses): each budget is one count per
window for everyone. When it is spent, that action pauses until the next window.

- Codename logins: more than SP_LOGIN_FAILURE_BUDGET wrong codenames in one window pause
  logins. A guesser then gets at most budget/window attempts per instance, against a 77-bit
  space.
- New cases: more than SP_NEW_CASE_BUDGET cases opened in one window pause the first-request
  form (T11: a flood of fake requests would bury the real ones and fill the database). Only
  cases actually opened count; a refused or failed form spends nothing.

The trade-off — someone can pause an action for everyone for one window — is documented in
docs/threat-model.md. The check and the spending are two steps, so concurrent requests can
overshoot a budget by at most the number of requests in flight: a bound, not an exact quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from intake.models import BudgetKind, BudgetWindow

# Windows older than this are deleted when a new one opens: nothing needs their counts.
_KEEP_WINDOWS = timedelta(days=1)


@dataclass(frozen=True)
class Budget:
    kind: str
    limit_setting: str
    window_setting: str

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))

    @property
    def window_seconds(self) -> int:
        return int(getattr(settings, self.window_setting))


LOGIN_FAILURES = Budget(BudgetKind.LOGIN_FAILURE, "SP_LOGIN_FAILURE_BUDGET", "SP_LOGIN_WINDOW_SECONDS")
NEW_CASES = Budget(BudgetKind.NEW_CASE, "SP_NEW_CASE_BUDGET", "SP_NEW_CASE_WINDOW_SECONDS")


def _window_start(budget: Budget, now: datetime) -> datetime:
    length = budget.window_seconds
    return datetime.fromtimestamp(now.timestamp() // length * length, tz=UTC)


def minutes_until_next_window(budget: Budget = LOGIN_FAILURES) -> int:
    now = timezone.now()
    end = _window_start(budget, now) + timedelta(seconds=budget.window_seconds)
    return max(1, math.ceil((end - now).total_seconds() / 60))


def budget_spent(budget: Budget) -> bool:
    start = _window_start(budget, timezone.now())
    window = BudgetWindow.objects.filter(kind=budget.kind, window_start=start).first()
    return window is not None and window.count >= budget.limit


def budget_spend(budget: Budget) -> None:
    start = _window_start(budget, timezone.now())
    current = BudgetWindow.objects.filter(kind=budget.kind, window_start=start)
    if current.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            BudgetWindow.objects.create(kind=budget.kind, window_start=start, count=1)
    except IntegrityError:  # another worker opened the window first
        current.update(count=F("count") + 1)
    BudgetWindow.objects.filter(kind=budget.kind, window_start__lt=start - _KEEP_WINDOWS).delete()


def logins_paused() -> bool:
    return budget_spent(LOGIN_FAILURES)


def login_failure_record() -> None:
    budget_spend(LOGIN_FAILURES)


def new_cases_paused() -> bool:
    return budget_spent(NEW_CASES)


def new_case_record() -> None:
    budget_spend(NEW_CASES)
