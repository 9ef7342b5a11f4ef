"""First-response deadlines and the escalation ladder.

A case is *answered* once a staff reply exists. Each new case gets a ``triage.deadline`` job
due at its deadline (scheduled after the case's transaction commits; deadline_schedule, a
casework.hooks.case_opened hook). When it runs and the
case is still unanswered and open, the members on call are notified (event ``overdue``: only
the case id and a console link), and a second step is scheduled SP_ESCALATE_AFTER_MINUTES
later that notifies the coordinators. Both steps do nothing once a reply exists. The job is
idempotent: deliveries are recorded per job (notifications.delivery.deliver) and the second
step is scheduled only once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import StaffMember
from accounts.teams import coordinators, on_call_members
from casework import hooks
from casework.lifecycle import State
from casework.models import Case, Message, Urgency
from jobs.models import Job
from jobs.services import job_enqueue, job_handler
from notifications.delivery import Notice, console_link, deliver
from notifications.models import Event

DEADLINE_JOB = "triage.deadline"
STEP_ON_CALL = "on_call"
STEP_COORDINATORS = "coordinators"


def response_minutes(urgency: str) -> int:
    return {
        Urgency.DANGER_NOW: settings.SP_RESPONSE_MINUTES_DANGER_NOW,
        Urgency.IN_HIDING: settings.SP_RESPONSE_MINUTES_IN_HIDING,
        Urgency.SAFE_FOR_NOW: settings.SP_RESPONSE_MINUTES_SAFE_FOR_NOW,
    }.get(urgency, settings.SP_RESPONSE_MINUTES_DANGER_NOW)  # unknown urgency: the strictest


def response_deadline(case: Case) -> datetime:
    return case.created_at + timedelta(minutes=response_minutes(case.urgency))


def _staff_replies() -> Any:
    return Message.objects.filter(case=OuterRef("pk"), sender=Message.Sender.STAFF, is_decoy=False)


def is_answered(case: Case) -> bool:
    return Message.objects.filter(case=case, sender=Message.Sender.STAFF, is_decoy=False).exists()


def overdue_q(now: datetime) -> Q:
    """Cases past their first-response deadline without a staff reply, as one filter the
    inbox can annotate and sort on (no decryption, no per-row query)."""
    past = Q()
    for urgency in Urgency.values:
        past |= Q(urgency=urgency, created_at__lt=now - timedelta(minutes=response_minutes(urgency)))
    return past & ~Q(status=State.CLOSED) & ~Exists(_staff_replies())


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return Case.objects.filter(overdue_q(now or timezone.now()), pk=case.pk).exists()


def deadline_schedule(opened: hooks.CaseOpened) -> None:
    """Registered with casework.hooks.case_opened: every new case gets its deadline job."""
    case_id, run_at = opened.case.pk, response_deadline(opened.case)
    # After commit, like the new-case notification: a rolled back case schedules nothing.
    transaction.on_commit(lambda: job_enqueue(DEADLINE_JOB, {"case": case_id, "step": STEP_ON_CALL}, run_at=run_at))


def deadline_check(job: Job, *, now: datetime | None = None) -> list[StaffMember]:
    """Run one step of the ladder; returns whom it addressed (empty when nothing was due)."""
    now = now or timezone.now()
    case = Case.objects.filter(pk=job.payload["case"]).first()
    if case is None or case.status == State.CLOSED or is_answered(case):
        return []
    if job.payload["step"] == STEP_ON_CALL:
        members = on_call_members(now)
        if members:
            _schedule_coordinators_once(case, now)
        else:
            members = coordinators()  # nobody on call: go straight to the top of the ladder
    else:
        members = coordinators()
    deliver(job, members, Notice(event=str(Event.OVERDUE), public_id=case.public_id, link=console_link(case)))
    return members


def _schedule_coordinators_once(case: Case, now: datetime) -> None:
    payload = {"case": case.pk, "step": STEP_COORDINATORS}
    if Job.objects.filter(kind=DEADLINE_JOB, payload__case=case.pk, payload__step=STEP_COORDINATORS).exists():
        return  # this step already ran once and scheduled it (the job is being retried)
    job_enqueue(DEADLINE_JOB, payload, run_at=now + timedelta(minutes=settings.SP_ESCALATE_AFTER_MINUTES))


@job_handler(DEADLINE_JOB)
def deadline_job(job: Job) -> None:
    deadline_check(job)
