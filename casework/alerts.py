"""The job that tells the holders of a case's key that it needs attention (a new case, a
danger-word login, a red flag): queued by notifications.services.case_event_notify_on_commit,
delivered through notifications.delivery (what goes out is deliberately poor, see there)."""

from __future__ import annotations

from accounts.models import StaffMember
from casework.models import Case
from jobs.models import Job
from jobs.services import job_handler
from notifications.delivery import Notice, console_link, deliver
from notifications.models import Event
from notifications.services import NOTIFY_JOB


def case_key_holders(case: Case) -> list[StaffMember]:
    """Active members holding a wrap of the case's current key: the people who can act on it."""
    holders = StaffMember.objects.filter(
        is_active=True, wraps__case_key__case=case, wraps__case_key__version=case.key_version
    )
    return list(holders.distinct().order_by("pk"))


@job_handler(NOTIFY_JOB)
def notify_case(job: Job) -> None:
    case = Case.objects.filter(pk=job.payload["case"]).first()
    if case is None:
        return  # the case is gone; there is nothing to attend to
    notice = Notice(event=str(Event(job.payload["event"])), public_id=case.public_id, link=console_link(case))
    deliver(job, case_key_holders(case), notice)
