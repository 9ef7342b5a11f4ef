"""The one place where a plan's status is worked out from its legs (no Django import).

Rules, in order:
- no legs: draft;
- every leg cancelled: cancelled;
- every leg that is not cancelled is done: done;
- any leg under way, or some (non-cancelled) legs done and others not yet: under way;
- otherwise (legs only planned, perhaps some cancelled): planned.
"""

from __future__ import annotations

from collections.abc import Iterable

PLANNED = "planned"
UNDER_WAY = "under_way"
DONE = "done"
CANCELLED = "cancelled"
DRAFT = "draft"


def plan_status_from_legs(leg_statuses: Iterable[str]) -> str:
    statuses = list(leg_statuses)
    if not statuses:
        return DRAFT
    live = [status for status in statuses if status != CANCELLED]
    if not live:
        return CANCELLED
    if all(status == DONE for status in live):
        return DONE
    if UNDER_WAY in live or DONE in live:
        return UNDER_WAY
    return PLANNED
