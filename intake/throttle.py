"""Global budgets per time window, for the work an anonymous visitor can make the server do.

No per-address counting (that would mean storing addresses): each budget is one count per
window for everyone. When it is spent, that action pauses until the next window.

- Codename logins (SP_LOGIN_BUDGET): every well-formed phrase typed at the login costs one
  Argon2id derivation (64 MiB, a core for ~100 ms) and takes one unit before it runs, whether
  it is the real phrase, the danger phrase or a wrong one. They count the same, so watching
  the budget tells nobody which phrase was typed. A guesser gets at most budget/window
  attempts per instance against a 77-bit space.
- First requests (SP_NEW_CASE_BUDGET): each runs two derivations, with or without a danger
  word, and takes one unit. A form refused before the derivations gives its unit back; once
  they ran the unit stays spent, whether or not a case opened (T11: a flood of fake requests
  would bury the real ones, fill the database and keep the cores busy).
- Uploads (SP_UPLOAD_BUDGET_BYTES): the bytes of files taken with first requests and messages.
  A request reserves what its body could hold in files before the body is read, so the files
  of a request that does not fit are never written; what it did not store is given back.

Units are taken with one conditional UPDATE (or the INSERT that opens the window): requests
racing for the last units cannot overshoot the budget. A process killed mid-request cannot give
back what it reserved; the next window starts afresh. The trade-off — anyone can pause an
action for everyone for one window — is documented in docs/threat-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
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


LOGINS = Budget(BudgetKind.LOGIN, "SP_LOGIN_BUDGET", "SP_LOGIN_WINDOW_SECONDS")
NEW_CASES = Budget(BudgetKind.NEW_CASE, "SP_NEW_CASE_BUDGET", "SP_NEW_CASE_WINDOW_SECONDS")
UPLOAD_BYTES = Budget(BudgetKind.UPLOAD_BYTES, "SP_UPLOAD_BUDGET_BYTES", "SP_UPLOAD_WINDOW_SECONDS")


@dataclass
class Reservation:
    """Units taken from one window of a budget. Those not marked used are given back."""

    budget: Budget
    window_start: datetime
    units: int
    used: int = 0

    def use(self, units: int | None = None) -> None:
        """Keep ``units`` (all of them by default) spent: the work they pay for has run."""
        self.used = self.units if units is None else max(0, min(units, self.units))


def _window_start(budget: Budget, now: datetime) -> datetime:
    length = budget.window_seconds
    return datetime.fromtimestamp(now.timestamp() // length * length, tz=UTC)


def minutes_until_next_window(budget: Budget) -> int:
    now = timezone.now()
    end = _window_start(budget, now) + timedelta(seconds=budget.window_seconds)
    return max(1, math.ceil((end - now).total_seconds() / 60))


def budget_take(budget: Budget, units: int = 1) -> Reservation | None:
    """Take ``units`` from the current window if they fit in what is left of it; None if not."""
    start = _window_start(budget, timezone.now())
    if units > budget.limit:
        return None
    taken = Reservation(budget, start, units)
    if units <= 0:
        return taken
    window = BudgetWindow.objects.filter(kind=budget.kind, window_start=start)
    room = window.filter(count__lte=budget.limit - units)
    if room.update(count=F("count") + units):
        return taken
    if not window.exists():
        try:
            with transaction.atomic():
                BudgetWindow.objects.create(kind=budget.kind, window_start=start, count=units)
        except IntegrityError:  # another request opened the window first
            pass
        else:
            BudgetWindow.objects.filter(kind=budget.kind, window_start__lt=start - _KEEP_WINDOWS).delete()
            return taken
    # The window exists, possibly opened by another request since the first update: count
    # in it if there is room, rather than call a new window full.
    return taken if room.update(count=F("count") + units) else None


def budget_settle(reservation: Reservation | None) -> None:
    """Give back the reserved units that were not used."""
    if reservation is None:
        return
    unused = reservation.units - reservation.used
    if unused <= 0:
        return
    BudgetWindow.objects.filter(
        kind=reservation.budget.kind, window_start=reservation.window_start, count__gte=unused
    ).update(count=F("count") - unused)


@contextmanager
def budget_reserved(budget: Budget, units: int = 1) -> Iterator[Reservation | None]:
    """Reserve ``units`` for the work inside; whatever it did not mark used comes back after."""
    reservation = budget_take(budget, units)
    try:
        yield reservation
    finally:
        budget_settle(reservation)
