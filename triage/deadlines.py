"""The escalation ladder of first-response deadlines (the deadlines themselves, and which
cases are overdue, are casework.deadlines).

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

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import StaffMember
from accounts.teams import coordinators, on_call_members
from casework import hooks
from casework.deadlines import is_answered, response_deadline
from casework.lifecycle import State
from casework.models import Case
from jobs.models import Job
from jobs.services import job_enqueue, job_handler
from notifications.delivery import Notice, console_link, deliver
from notifications.models import Event

DEADLINE_JOB = "triage.deadline"
STEP_ON_CALL = "on_call"
STEP_COORDINATORS = "coordinators"


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
