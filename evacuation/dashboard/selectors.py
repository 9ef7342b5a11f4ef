"""Counts for the coordinator dashboard, each from plaintext columns only: case states and
closing reasons, plan statuses, check-in schedule times, safe-house capacity and stays, ledger
amounts, fate statuses. No ciphertext column is read, so nothing here could decrypt anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.lifecycle import ClosingReason, State
from casework.models import Case, CaseStateChange
from evacuation.checkins.models import Alert, CheckInSchedule, Fate, FateStatus
from evacuation.funds.selectors import ReportRow, report_by_category_and_month
from evacuation.plans.models import EvacuationPlan, PlanStatus
from evacuation.safehouses.selectors import houses_with_occupancy

# How many overdue cases the dashboard lists by reference (the counts are always complete).
OVERDUE_LISTED = 100
# How many months of money paid out the charts show, this month included.
MONTHS_SHOWN = 12


@dataclass(frozen=True)
class Count_:
    key: str
    label: str
    count: int
    level: int = 0  # 0: a stage; 1: part of the stage above it


def case_funnel() -> list[Count_]:
    """Open cases by state; verified ones split by their active plan's status; closed ones
    by the reason given when they were closed."""
    by_state = dict(Case.objects.values_list("status").annotate(n=Count("id")).order_by())
    rows = [Count_(state, str(State(state).label), by_state.get(state, 0)) for state in State.values]
    verified = next(row for row in rows if row.key == State.VERIFIED)
    closed = next(row for row in rows if row.key == State.CLOSED)
    stages = [row for row in rows if row.key not in (State.VERIFIED, State.CLOSED)]
    return [*stages, verified, *_verified_by_plan(verified.count), closed, *_closed_by_reason()]


def _verified_by_plan(verified: int) -> list[Count_]:
    plans = dict(
        EvacuationPlan.objects.filter(is_active=True, case__status=State.VERIFIED)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    without = verified - sum(plans.values())
    rows = [Count_("plan_none", _("No evacuation plan yet"), without, 1)]
    rows += [
        Count_(f"plan_{status}", _("Plan: %(status)s") % {"status": PlanStatus(status).label}, plans.get(status, 0), 1)
        for status in PlanStatus.values
    ]
    return rows


NO_REASON = gettext_lazy("No reason recorded")


def _closed_by_reason() -> list[Count_]:
    last_reason = (
        CaseStateChange.objects.filter(case=OuterRef("pk"), to_state=State.CLOSED)
        .order_by("-at", "-pk")
        .values("reason")[:1]
    )
    reasons = dict(
        Case.objects.filter(status=State.CLOSED)
        .annotate(reason=Coalesce(Subquery(last_reason), Value("")))
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [
        Count_(f"closed_{reason}", str(ClosingReason(reason).label), reasons.pop(reason, 0), 1)
        for reason in ClosingReason.values
    ]
    # "" (closed before reasons were asked) and any code no longer in the list.
    rest = sum(reasons.values())
    if rest:
        rows.append(Count_("closed_other", str(NO_REASON), rest, 1))
    return rows


# --- check-ins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueCase:
    public_id: str
    since: datetime  # the due time that was missed
    step: int  # the ladder's last step sent (0: not escalated yet)
    step_label: str


@dataclass(frozen=True)
class CheckinSummary:
    late_in_grace: int  # past due, still within the grace period
    overdue: int  # past due and grace, the ladder not started yet
    escalating: int  # escalations in progress (an acknowledgement ends one)
    unacknowledged_alerts: int  # steps sent in those escalations that nobody has acknowledged
    cases: list[OverdueCase]

    @property
    def more(self) -> int:
        return self.overdue + self.escalating - len(self.cases)


def overdue_checkins(now: datetime) -> CheckinSummary:
    active = CheckInSchedule.objects.filter(active=True)
    late_in_grace = active.filter(missed_due_at__isnull=True, next_due_at__lte=now, sweep_at__gt=now).count()
    overdue_q = Q(missed_due_at__isnull=True, sweep_at__lte=now) | Q(missed_due_at__isnull=False)
    counts = active.aggregate(
        overdue=Count("id", filter=Q(missed_due_at__isnull=True, sweep_at__lte=now)),
        escalating=Count("id", filter=Q(missed_due_at__isnull=False)),
    )
    # Steps of the escalations now running (their due instance is the one being escalated).
    alerts = Alert.objects.filter(
        schedule__active=True, due_at=F("schedule__missed_due_at"), acknowledged_at=None, stopped_at=None
    ).count()
    rows = (
        active.filter(overdue_q)
        .annotate(since=Coalesce("missed_due_at", "next_due_at"))
        .order_by("since", "pk")
        .values_list("case__public_id", "since", "step")[:OVERDUE_LISTED]
    )
    steps = dict(Alert.Step.choices)
    cases = [
        OverdueCase(public_id, since, step, str(steps.get(step, _("nobody yet")))) for public_id, since, step in rows
    ]
    return CheckinSummary(late_in_grace, counts["overdue"], counts["escalating"], alerts, cases)


# --- safe houses, money, fates ---------------------------------------------------------------


@dataclass(frozen=True)
class Occupancy:
    code_name: str
    capacity: int
    taken: int


def occupancy() -> list[Occupancy]:
    return [
        Occupancy(house.code_name, house.capacity, house.occupied)  # type: ignore[attr-defined]  # annotated by houses_with_occupancy
        for house in houses_with_occupancy().only("code_name", "capacity").order_by("code_name")
    ]


def first_month_shown(today: date) -> date:
    month_index = today.year * 12 + today.month - 1 - (MONTHS_SHOWN - 1)
    return date(month_index // 12, month_index % 12 + 1, 1)


def money_by_month(*, today: date) -> list[ReportRow]:
    """The funds report's rows for the last MONTHS_SHOWN months, newest first."""
    since = first_month_shown(today)
    return [row for row in report_by_category_and_month() if row.month >= since]


def fate_counts() -> list[Count_]:
    """People by their current (newest) fate status; people with none are not counted."""
    newest = FateStatus.objects.filter(case=OuterRef("pk")).order_by("-set_at", "-pk").values("status")[:1]
    counts = dict(
        Case.objects.annotate(fate=Subquery(newest))
        .filter(fate__isnull=False)
        .values_list("fate")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [Count_(status, str(label), counts.get(status, 0)) for status, label in Fate.choices]
