"""The missed check-in ladder on the jobs worker, with a controllable clock (see helpers.Clock):
steps in order with their own delays, repeats until acknowledged, stopped by a check-in,
and never a false or lost alarm when the clock jumps, a worker dies or a check-in races the
sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import OnCallShift
from audit.models import Action, AuditEntry
from evacuation.checkins import ladder
from evacuation.checkins.models import Alert, CheckIn
from evacuation.checkins.tests.helpers import Clock, fresh, schedule
from jobs.models import Job
from jobs.worker import Worker, claim_next
from notifications.models import Channel, NotificationSent
from notifications.services import preference_set
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.personas import PersonAtRisk, Staff

PARTNER = "partner-desk@example.org"


@pytest.fixture
def addresses(caseworker: Staff, coordinator: Staff, outsider: Staff) -> None:
    """Everyone is told by e-mail; the outsider is on call (not on the case)."""
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="cw@example.org", language="en")
    preference_set(member=coordinator.member, channel=Channel.EMAIL, address="coord@example.org", language="en")
    preference_set(member=outsider.member, channel=Channel.EMAIL, address="oncall@example.org", language="en")


def _quiet_other_jobs() -> None:
    """New-case notices and first-response deadlines belong to other tests."""
    Job.objects.filter(done_at=None).update(done_at=timezone.now())


def _run_worker() -> int:
    return Worker(idle_seconds=0).run(once=True)


def _missed(clock: Clock, row: Any, *, minutes_late: int = 1) -> None:
    clock.set(fresh(row).next_due_at + timedelta(minutes=row.grace_minutes + minutes_late))


def test_nothing_is_due_before_the_grace_period_ends(person: PersonAtRisk, caseworker: Staff, clock: Clock) -> None:
    row = schedule(person, caseworker, hours=24, grace=60)
    clock.move(hours=24, minutes=59)
    assert ladder.sweep() == 0
    clock.move(minutes=2)
    assert ladder.sweep() == 1
    alert = Alert.objects.get()
    assert (alert.step, alert.due_at, alert.repeat) == (Alert.Step.CASEWORKERS, fresh(row).next_due_at, 0)


def test_the_ladder_climbs_with_each_steps_own_delay_and_repeats_the_last(
    person: PersonAtRisk,
    caseworker: Staff,
    outsider: Staff,
    coordinator: Staff,
    clock: Clock,
    addresses: None,
    settings: Any,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    settings.SP_CHECKIN_ON_CALL_AFTER_MINUTES = 10
    settings.SP_CHECKIN_COORDINATORS_AFTER_MINUTES = 20
    settings.SP_CHECKIN_PARTNER_AFTER_MINUTES = 40
    settings.SP_CHECKIN_REPEAT_MINUTES = 90
    row = schedule(person, caseworker, hours=72, grace=30, partner=PARTNER)
    OnCallShift.objects.create(member=outsider.member, starts_at=clock.now, ends_at=clock.now + timedelta(days=30))
    _quiet_other_jobs()
    _missed(clock, row)
    expected = [
        (0, ["cw@example.org"]),
        (10, ["oncall@example.org"]),
        (20, ["coord@example.org"]),
        (40, ["coord@example.org", PARTNER]),
        (90, ["coord@example.org", PARTNER]),
        (90, ["coord@example.org", PARTNER]),
    ]
    for delay, recipients in expected:
        clock.move(minutes=delay - 1)
        if delay:
            assert ladder.sweep() == 0, "a step must wait for its own delay"
        clock.move(minutes=1)
        assert ladder.sweep() == 1
        before = len(smtp.messages)
        _run_worker()
        assert sorted(rcpt for rcpts, _ in smtp.messages[before:] for rcpt in rcpts) == sorted(recipients)
    steps = list(Alert.objects.order_by("created_at").values_list("step", "repeat"))
    assert steps == [(1, 0), (2, 0), (3, 0), (4, 0), (4, 1), (4, 2)]
    text = smtp.texts()[0]
    assert f"A check-in was missed on case {person.case.public_id}" in text
    assert f"/cases/{person.case.public_id}/" in text
    assert "First message" not in text and "chechnya" not in text.lower()


def test_a_step_with_nobody_to_tell_goes_to_the_coordinators(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker)
    _missed(clock, row)
    alert = ladder.escalate_one(row.pk, clock.now)
    assert alert is not None
    assert ladder.step_recipients(alert, person.case, clock.now) == [caseworker.member]
    clock.move(minutes=30)
    on_call_step = ladder.escalate_one(row.pk, clock.now)
    assert on_call_step is not None and on_call_step.step == Alert.Step.ON_CALL
    assert ladder.step_recipients(on_call_step, person.case, clock.now) == [coordinator.member]  # nobody on call


def test_a_check_in_during_an_escalation_stops_it(person: PersonAtRisk, caseworker: Staff, clock: Clock) -> None:
    row = schedule(person, caseworker, hours=24, grace=60)
    _missed(clock, row)
    assert ladder.sweep() == 1
    assert person.intake().post("/checkin/").status_code == 200
    after = fresh(row)
    assert after.missed_due_at is None and after.step == 0
    assert after.next_due_at == clock.now + timedelta(hours=24)
    clock.move(hours=2)
    assert ladder.sweep() == 0
    clock.move(hours=23)
    assert ladder.sweep() == 1  # the next silence escalates again, from step one
    assert Alert.objects.order_by("-pk").first().step == Alert.Step.CASEWORKERS  # type: ignore[union-attr]


def test_a_check_in_after_the_step_was_decided_stops_its_sending(
    person: PersonAtRisk,
    caseworker: Staff,
    clock: Clock,
    addresses: None,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    row = schedule(person, caseworker)
    _quiet_other_jobs()
    _missed(clock, row)
    assert ladder.sweep() == 1
    person.intake().post("/checkin/")
    _run_worker()
    assert smtp.messages == []
    alert = Alert.objects.get()
    assert alert.stopped_at is not None and alert.sent_at is None


def test_a_check_in_racing_the_sweep_wins_over_the_range_query(
    person: PersonAtRisk, caseworker: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker)
    _missed(clock, row)
    found = ladder.due_schedule_ids(clock.now)
    assert found == [row.pk]
    person.intake().post("/checkin/")  # arrives between the sweep's query and its lock
    assert ladder.escalate_one(row.pk, clock.now) is None
    assert not Alert.objects.exists()


def test_each_step_is_made_once_however_often_the_sweep_runs(
    person: PersonAtRisk, caseworker: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker)
    _missed(clock, row)
    assert ladder.sweep() == 1
    assert ladder.sweep() == 0
    assert ladder.escalate_one(row.pk, clock.now) is None
    alert = Alert.objects.get()
    assert Job.objects.filter(kind=ladder.STEP_JOB, payload={"alert": alert.pk}).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(schedule=alert.schedule, due_at=alert.due_at, step=alert.step, repeat=alert.repeat)


def test_a_clock_that_jumps_back_fires_nothing_and_loses_nothing(
    person: PersonAtRisk, caseworker: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker, hours=24, grace=60)
    start = clock.now
    clock.move(days=-3)  # before the schedule was even made
    assert ladder.sweep() == 0
    _missed(clock, row)
    assert ladder.sweep() == 1
    fired_at = clock.now
    clock.set(start - timedelta(days=1))
    assert ladder.sweep() == 0, "no step fires while the clock is behind"
    clock.set(fired_at + timedelta(minutes=30))
    assert ladder.sweep() == 1, "the next step is still there once time catches up"
    assert list(Alert.objects.order_by("pk").values_list("step", flat=True)) == [1, 2]


def test_a_clock_that_jumps_forward_fires_one_step_not_the_whole_ladder(
    person: PersonAtRisk, caseworker: Staff, clock: Clock
) -> None:
    schedule(person, caseworker, hours=24, grace=60)
    clock.move(days=30)
    assert ladder.sweep() == 1
    assert ladder.sweep() == 0
    assert list(Alert.objects.values_list("step", flat=True)) == [Alert.Step.CASEWORKERS]


def test_a_worker_killed_between_claiming_and_sending_sends_each_step_once(
    person: PersonAtRisk,
    caseworker: Staff,
    clock: Clock,
    addresses: None,
    settings: Any,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    row = schedule(person, caseworker)
    _quiet_other_jobs()
    _missed(clock, row)
    assert ladder.sweep() == 1
    claimed = claim_next("doomed-worker", lease=timedelta(seconds=settings.SP_JOB_LEASE_SECONDS))
    assert claimed is not None and claimed.kind == ladder.STEP_JOB
    # The worker dies here, before sending. Its lease is still running: nobody else takes the job.
    assert _run_worker() == 0
    assert smtp.messages == []
    clock.move(seconds=settings.SP_JOB_LEASE_SECONDS + 1)
    assert _run_worker() == 1
    assert [rcpts for rcpts, _ in smtp.messages] == [["cw@example.org"]]
    # A worker that sent and died before marking the job done: the retry skips who was told.
    job = Job.objects.get(kind=ladder.STEP_JOB)
    Job.objects.filter(pk=job.pk).update(done_at=None, claimed_until=None)
    assert _run_worker() == 1
    assert len(smtp.messages) == 1
    assert NotificationSent.objects.filter(job=job).count() == 1


def test_the_partner_is_written_to_once_per_step_even_when_the_job_runs_again(
    person: PersonAtRisk,
    caseworker: Staff,
    clock: Clock,
    addresses: None,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    row = schedule(person, caseworker, partner=PARTNER)
    _quiet_other_jobs()
    _missed(clock, row)
    for _ in range(4):
        assert ladder.sweep() == 1
        clock.move(hours=3)
    partner_job = Alert.objects.get(step=Alert.Step.PARTNER).job
    assert partner_job is not None
    assert ladder.send_step(partner_job) and ladder.send_step(partner_job)
    assert sum(PARTNER in rcpts for rcpts, _ in smtp.messages) == 1


def test_acknowledging_stops_the_ladder_and_is_audited(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker, hours=24, grace=60)
    _missed(clock, row)
    ladder.sweep()
    page = coordinator.console(language="en").get(f"/cases/{person.case.public_id}/?section=checkins").content.decode()
    assert "MISSED CHECK-IN" in page and "/checkins/acknowledge/" in page
    response = coordinator.console().post(f"/cases/{person.case.public_id}/checkins/acknowledge/")
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action=Action.CHECKIN_ACKNOWLEDGE).get()
    assert entry.actor_id == coordinator.member.pk and entry.details["step"] == 1
    assert Alert.objects.get().acknowledged_by_id == coordinator.member.pk
    for _ in range(5):
        clock.move(hours=3)
        assert ladder.sweep() == 0
    clock.move(hours=10)
    assert ladder.sweep() == 1, "a day of silence after the acknowledgement escalates again"
    again = coordinator.console().post(f"/cases/{person.case.public_id}/checkins/acknowledge/")
    assert again.status_code == 302
    refused = coordinator.console(language="en").post(f"/cases/{person.case.public_id}/checkins/acknowledge/")
    assert refused.status_code == 400
    assert "No missed check-in is waiting to be acknowledged." in refused.content.decode()


def test_a_paused_schedule_never_escalates(person: PersonAtRisk, caseworker: Staff, clock: Clock) -> None:
    row = schedule(person, caseworker)
    _missed(clock, row)
    ladder.sweep()
    schedule(person, caseworker, active=False)
    assert fresh(row).sweep_at is None and fresh(row).missed_due_at is None
    clock.move(days=10)
    assert ladder.sweep() == 0
    schedule(person, caseworker, active=True)  # resumed: counts from now
    assert fresh(row).next_due_at == clock.now + timedelta(hours=24)


def test_the_sweep_finds_due_schedules_in_one_query(
    person: PersonAtRisk, other_person: PersonAtRisk, caseworker: Staff, clock: Clock, django_assert_num_queries: Any
) -> None:
    due = schedule(person, caseworker)
    schedule(other_person, caseworker, hours=72)
    clock.move(hours=26)
    with django_assert_num_queries(1):
        assert ladder.due_schedule_ids(clock.now) == [due.pk]


def test_the_sweep_job_keeps_one_successor_per_slot_even_when_it_fails(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SP_CHECKIN_SWEEP_SECONDS = 60
    _quiet_other_jobs()
    schedule(person, caseworker)  # schedules the first sweep after commit
    ladder.sweep_ensure_scheduled()
    ladder.sweep_ensure_scheduled()
    assert Job.objects.filter(kind=ladder.SWEEP_JOB, done_at=None).count() == 1

    def broken(now: Any = None) -> int:
        raise RuntimeError

    monkeypatch.setattr(ladder, "sweep", broken)
    clock.move(seconds=61)
    call_command("worker", "--once")
    pending = Job.objects.filter(kind=ladder.SWEEP_JOB, done_at=None, failed_at=None)
    slots = sorted(job.payload["slot"] for job in pending)
    assert slots[-1] == ladder.sweep_slot(clock.now) + 1, "the successor exists though the sweep failed"


def test_a_duress_check_in_does_not_stop_an_escalation(person: PersonAtRisk, caseworker: Staff, clock: Clock) -> None:
    row = schedule(person, caseworker)
    _missed(clock, row)
    ladder.sweep()
    assert person.intake(duress=True).post("/checkin/").status_code == 200
    assert fresh(row).missed_due_at is not None
    assert CheckIn.objects.get().trusted is False
    clock.move(minutes=30)
    assert ladder.sweep() == 1


def test_a_clock_set_back_does_not_stop_the_sweeps(
    person: PersonAtRisk, caseworker: Staff, clock: Clock, settings: Any
) -> None:
    settings.SP_CHECKIN_SWEEP_SECONDS = 60
    _quiet_other_jobs()
    ladder.sweep_ensure_scheduled()
    clock.move(hours=-2)
    ladder.sweep_ensure_scheduled()  # the waiting sweep is two hours ahead now
    soon = Job.objects.filter(kind=ladder.SWEEP_JOB, done_at=None, run_at__lte=clock.now + timedelta(seconds=60))
    assert soon.count() == 1


def test_the_sweep_command_sweeps_now_and_queues_the_next(
    person: PersonAtRisk, caseworker: Staff, clock: Clock
) -> None:
    row = schedule(person, caseworker)
    _quiet_other_jobs()
    _missed(clock, row)
    call_command("checkins_sweep")
    assert Alert.objects.count() == 1
    assert Job.objects.filter(kind=ladder.SWEEP_JOB, done_at=None).exists()
