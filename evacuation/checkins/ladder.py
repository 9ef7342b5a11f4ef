"""The missed check-in ladder, driven by a periodic sweep on the jobs worker.

Everything is decided from stored state compared with the clock, never from a timer set
earlier: each schedule carries ``sweep_at``, the next moment something must happen
(next_due_at + grace while waiting for a check-in, step_due_at while escalating; NULL when
paused). The sweep is one indexed range query (``sweep_at <= now``), and for each row found:

- it locks the row and decides again from what it reads under the lock (a check-in that
  arrived after the range query has moved ``sweep_at`` on, and nothing fires);
- it moves the ladder one step (caseworkers, on call, coordinators, partner; then the last
  step again) and sets ``sweep_at`` to when the next step is due, counted from now: a clock
  that jumps forward fires one step, not the whole ladder at once; a clock that jumps back
  only delays the next step, it never loses it (the state stays in the row);
- in the same transaction it creates the step's Alert, unique per (schedule, due instance,
  step, repeat), and the job that sends it. Both commit with the state change or not at
  all: a worker killed before the commit leaves nothing half done, and one killed after it
  leaves a job that is retried.

The step job looks at the schedule again before sending: a check-in or an acknowledgement
since the step was decided stops it. Deliveries are recorded per job and member
(notifications.delivery.deliver), and the partner e-mail on the Alert, so a retried job does
not send twice. The partner is written to first, and a failed staff channel does not keep
the partner from being told: everyone is tried before a failure is raised for the retry.

The sweep job schedules its successor first, so one that keeps failing does not stop the
sweeps; successors are keyed by time slot, so two sweeps running at once do not fork the
chain. Saving a schedule and every check-in also make sure a sweep is waiting (a clock set
back leaves the waiting sweep in the future; a new one is then queued for now), and the
``checkins_sweep`` command sweeps at once and re-seeds the chain, for cron as a second line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Role, StaffMember
from accounts.teams import coordinators, on_call_members
from casework.alerts import case_key_holders
from casework.models import Case
from evacuation.checkins import crypto, partner
from evacuation.checkins.models import Alert, CheckInSchedule
from jobs.models import Job
from jobs.services import job_enqueue, job_handler
from notifications.delivery import Notice, console_link, deliver, send_email
from notifications.models import Event

SWEEP_JOB = "checkins.sweep"
STEP_JOB = "checkins.step"
LAST_STEP = Alert.Step.PARTNER


def delay_before(step: int) -> timedelta:
    """How long after the previous step ``step`` is sent (LAST_STEP + 1: a repeat)."""
    minutes: dict[int, int] = {
        Alert.Step.ON_CALL: settings.SP_CHECKIN_ON_CALL_AFTER_MINUTES,
        Alert.Step.COORDINATORS: settings.SP_CHECKIN_COORDINATORS_AFTER_MINUTES,
        Alert.Step.PARTNER: settings.SP_CHECKIN_PARTNER_AFTER_MINUTES,
    }
    return timedelta(minutes=minutes.get(step, settings.SP_CHECKIN_REPEAT_MINUTES))


def waiting_sweep_at(schedule: CheckInSchedule) -> datetime:
    return schedule.next_due_at + timedelta(minutes=schedule.grace_minutes)


def schedule_wait_from(schedule: CheckInSchedule, now: datetime) -> None:
    """Start a new due instance ``interval`` from now, with no escalation (not saved)."""
    schedule.next_due_at = now + timedelta(hours=schedule.interval_hours)
    schedule.missed_due_at, schedule.step, schedule.repeats, schedule.step_due_at = None, 0, 0, None
    schedule.sweep_at = waiting_sweep_at(schedule) if schedule.active else None


# --- the sweep ------------------------------------------------------------------------------


def due_schedule_ids(now: datetime, limit: int | None = None) -> list[int]:
    """One range query on the partial index over sweep_at."""
    query = CheckInSchedule.objects.filter(sweep_at__lte=now).order_by("sweep_at").values_list("pk", flat=True)
    return list(query[:limit] if limit else query)


def sweep(now: datetime | None = None) -> int:
    """Move every due schedule one step; returns how many alerts were made."""
    now = now or timezone.now()
    return sum(1 for pk in due_schedule_ids(now) if escalate_one(pk, now) is not None)


def escalate_one(schedule_id: int, now: datetime) -> Alert | None:
    """Move one schedule's ladder one step if, read under its lock, it is due at ``now``."""
    with transaction.atomic():
        schedule = CheckInSchedule.objects.select_for_update().filter(pk=schedule_id).first()
        if schedule is None or not schedule.active or schedule.sweep_at is None or schedule.sweep_at > now:
            return None  # checked in, paused or acknowledged since the range query: nothing is due
        if schedule.missed_due_at is None:
            due, step, repeat = schedule.next_due_at, int(Alert.Step.CASEWORKERS), 0
        elif schedule.step < LAST_STEP:
            due, step, repeat = schedule.missed_due_at, schedule.step + 1, 0
        else:
            due, step, repeat = schedule.missed_due_at, int(LAST_STEP), schedule.repeats + 1
        schedule.missed_due_at, schedule.step, schedule.repeats = due, step, repeat
        schedule.step_due_at = now + delay_before(step + 1)
        schedule.sweep_at = schedule.step_due_at
        schedule.save(update_fields=["missed_due_at", "step", "repeats", "step_due_at", "sweep_at"])
        alert = Alert.objects.create(schedule=schedule, due_at=due, step=step, repeat=repeat, created_at=now)
        alert.job = job_enqueue(STEP_JOB, {"alert": alert.pk}, run_at=now)
        alert.save(update_fields=["job"])
    return alert


def sweep_slot(at: datetime) -> int:
    return int(at.timestamp()) // settings.SP_CHECKIN_SWEEP_SECONDS


def sweep_ensure_scheduled(now: datetime | None = None, *, running: int | None = None) -> None:
    """Make sure a sweep is waiting for the next time slot (at most one per slot). A waiting
    sweep far in the future only means the clock went back: it does not count, or the
    sweeps would stop until the clock caught up again."""
    now = now or timezone.now()
    interval = settings.SP_CHECKIN_SWEEP_SECONDS
    slot = sweep_slot(now) + 1
    waiting = Job.objects.filter(kind=SWEEP_JOB, done_at=None, failed_at=None)
    if running is not None:
        waiting = waiting.exclude(pk=running)
    if waiting.filter(run_at__lte=now + timedelta(seconds=2 * interval)).exists():
        return
    if Job.objects.filter(kind=SWEEP_JOB, payload__slot=slot).exists():
        return
    job_enqueue(SWEEP_JOB, {"slot": slot}, run_at=datetime.fromtimestamp(slot * interval, tz=UTC))


@job_handler(SWEEP_JOB)
def sweep_job(job: Job) -> None:
    sweep_ensure_scheduled(running=job.pk)
    sweep()


# --- sending one step -------------------------------------------------------------------------


def _caseworkers(case: Case) -> list[StaffMember]:
    return [member for member in case_key_holders(case) if member.role == Role.CASEWORKER]


def step_recipients(alert: Alert, case: Case, now: datetime) -> list[StaffMember]:
    """Whom a step tells; a step with nobody to tell goes to the coordinators instead."""
    if alert.step == Alert.Step.CASEWORKERS:
        members = _caseworkers(case)
    elif alert.step == Alert.Step.ON_CALL:
        members = on_call_members(now)
    else:
        members = []  # coordinators; the last step also tells the partner (see send_step)
    return members or coordinators()


@job_handler(STEP_JOB)
def step_job(job: Job) -> None:
    send_step(job)


def send_step(job: Job, now: datetime | None = None) -> bool:
    """Send one step unless the escalation is over; True when it was (or had been) sent."""
    now = now or timezone.now()
    alert = Alert.objects.select_related("schedule__case").filter(pk=job.payload["alert"]).first()
    if alert is None:
        return False
    schedule = CheckInSchedule.objects.get(pk=alert.schedule_id)
    if not schedule.active or schedule.missed_due_at != alert.due_at:
        Alert.objects.filter(pk=alert.pk, stopped_at=None).update(stopped_at=now)
        return False  # a check-in or an acknowledgement came first
    case = alert.schedule.case
    failures: list[Exception] = []
    if alert.step == LAST_STEP and alert.partner_sent_at is None:
        # The last resort goes first, and a failure on a staff channel below cannot keep it
        # back: every recipient is tried before anything failed is raised for a retry.
        try:
            send_partner(alert, schedule, case, now)
        except Exception as exc:
            failures.append(exc)
    notice = Notice(event=str(Event.MISSED_CHECKIN), public_id=case.public_id, link=console_link(case))
    try:
        deliver(job, step_recipients(alert, case, now), notice)  # skips the members already told
    except Exception as exc:
        failures.append(exc)
    if failures:
        raise failures[0]
    Alert.objects.filter(pk=alert.pk, sent_at=None).update(sent_at=now)
    return True


def send_partner(alert: Alert, schedule: CheckInSchedule, case: Case, now: datetime) -> None:
    """Write to the partner contact, if one is set: no case id and no console link, only the
    reference agreed with the partner, in the partner's language. Recorded on the Alert, so
    a retried job does not write again."""
    address = crypto.partner_address_open(schedule.pk, case, bytes(schedule.partner_address_ct))
    if not address:
        return
    reference = crypto.partner_reference_open(schedule.pk, case, bytes(schedule.partner_reference_ct))
    with translation.override(partner.partner_language(schedule.partner_language)):
        send_email(address, partner.PartnerNotice(reference=reference))
    Alert.objects.filter(pk=alert.pk).update(partner_sent_at=now)
