"""The coordinator dashboard's server time over 10,000 cases (run on request, on either database):

    SP_BENCH_DASHBOARD=1 SP_DB_ENGINE=postgresql ... pytest bench/test_dashboard_scale.py -s

Rows are bulk-created (opaque bytes where ciphertext goes: the dashboard reads no ciphertext
column, and the test checks it shows the counts put in). It prints the median and the worst of
several page loads; nothing is asserted about time (the machine is shared), only about counts.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from random import Random

import pytest
from django.utils import timezone

from casework.models import Case, CaseKey, CaseStateChange
from evacuation.checkins.models import CheckInSchedule, FateStatus
from evacuation.funds.models import LedgerEntry
from evacuation.plans.models import EvacuationPlan
from evacuation.safehouses.models import Placement, SafeHouse
from tests.personas import Staff

pytestmark = pytest.mark.skipif(not os.environ.get("SP_BENCH_DASHBOARD"), reason="set SP_BENCH_DASHBOARD=1 to run")

CASES = int(os.environ.get("SP_BENCH_DASHBOARD_CASES", "10000"))
STATES = ("new", "triaged", "vetting", "verified", "closed")
OPAQUE = b"\x00" * 64


def _fill(member_id: int) -> dict[str, int]:
    random = Random(7)
    now = timezone.now()
    states = [STATES[index % len(STATES)] for index in range(CASES)]
    cases = Case.objects.bulk_create(
        [Case(urgency="in_hiding", status=state, details_ct=OPAQUE, created_at=now) for state in states],
        batch_size=2000,
    )
    keys = CaseKey.objects.bulk_create(
        [CaseKey(case=case, version=1, public_key=b"\x01" * 32) for case in cases], batch_size=2000
    )
    closed = [case for case in cases if case.status == "closed"]
    CaseStateChange.objects.bulk_create(
        [CaseStateChange(case=case, from_state="verified", to_state="closed", reason="safe") for case in closed],
        batch_size=2000,
    )
    verified = [case for case in cases if case.status == "verified"]
    EvacuationPlan.objects.bulk_create(
        [
            EvacuationPlan(case=case, status=random.choice(("planned", "under_way", "done")), created_by_id=member_id)
            for case in verified[: len(verified) // 2]
        ],
        batch_size=2000,
    )
    houses = SafeHouse.objects.bulk_create(
        [SafeHouse(code_name=f"House {n}", capacity=20, address_ct=OPAQUE, notes_ct=OPAQUE) for n in range(30)]
    )
    Placement.objects.bulk_create(
        [
            Placement(case=case, safe_house=houses[index % len(houses)], starts_on=now.date())
            for index, case in enumerate(verified[:500])
        ]
    )
    schedules = []
    for index, case in enumerate(cases[:5000]):
        overdue = index % 50 == 0
        due = now - timedelta(hours=3) if overdue else now + timedelta(hours=random.randint(1, 72))
        schedules.append(
            CheckInSchedule(
                case=case, interval_hours=24, grace_minutes=60, next_due_at=due, sweep_at=due + timedelta(hours=1)
            )
        )
    CheckInSchedule.objects.bulk_create(schedules, batch_size=2000)
    by_case = {key.case_id: key for key in keys}
    FateStatus.objects.bulk_create(
        [
            FateStatus(
                case=case, status="in_hiding", set_by_id=member_id, case_key=by_case[case.pk], information_ct=OPAQUE
            )
            for case in cases[:3000]
        ],
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                case=case,
                category=random.choice(("travel", "housing", "food", "medical")),
                amount=Decimal("100.00"),
                currency="RUB",
                paid_on=now.date() - timedelta(days=random.randint(0, 330)),
                status="approved",
                entered_by_id=member_id,
                updated_by_id=member_id,
                case_key=by_case[case.pk],
                payee_ct=OPAQUE,
            )
            for case in cases
            for _ in range(2)
        ],
        batch_size=2000,
    )
    return {"closed": len(closed), "overdue": len(schedules[::50]), "placed": 500}


def test_dashboard_time_over_ten_thousand_cases(coordinator: Staff) -> None:
    began = time.monotonic()
    expected = _fill(coordinator.member.pk)
    filled = time.monotonic() - began
    client = coordinator.console(language="en")
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        response = client.get("/dashboard/")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    assert f"Closed {expected['closed']:,}" in words
    assert re.search(rf"Missed: past due and the grace period, no one told yet {expected['overdue']}\b", words)
    print(
        f"\ndashboard over {CASES:,} cases: median {statistics.median(timings):.0f} ms, "
        f"worst {max(timings):.0f} ms (7 loads; filled in {filled:.0f} s)"
    )
