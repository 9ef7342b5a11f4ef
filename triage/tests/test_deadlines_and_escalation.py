"""First-response deadlines, the overdue mark in the inbox, and the escalation ladder.

The clock is controlled by passing ``now`` into the code under test, or by moving a job's
run_at into the past before running the real worker command; nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import OnCallShift, Role
from casework import services as casework_services
from casework.deadlines import is_overdue, response_deadline
from casework.lifecycle import ClosingReason, State, case_transition
from casework.models import Case, Urgency
from jobs.models import Job
from notifications.models import Channel, NotificationSent
from notifications.services import preference_set
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from tests.personas import PersonAtRisk, Staff, make_staff, open_case
from triage.deadlines import DEADLINE_JOB, STEP_COORDINATORS, STEP_ON_CALL, deadline_check


@pytest.fixture
def committed_case(
    caseworker: Staff, outsider: Staff, django_capture_on_commit_callbacks: Any
) -> Iterator[PersonAtRisk]:
    with django_capture_on_commit_callbacks(execute=True):
        person = open_case(body="Help me, please.", urgency=Urgency.DANGER_NOW)
    yield person


def _deadline_job(case: Case, step: str = STEP_ON_CALL) -> Job:
    return Job.objects.get(kind=DEADLINE_JOB, payload__case=case.pk, payload__step=step)


def _on_call(member: Any, now: Any) -> OnCallShift:
    return OnCallShift.objects.create(
        member=member, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=7)
    )


def test_the_deadline_depends_on_urgency_and_follows_the_settings(
    caseworker: Staff, outsider: Staff, settings: Any
) -> None:
    settings.SP_RESPONSE_MINUTES_IN_HIDING = 90
    danger = open_case(urgency=Urgency.DANGER_NOW).case
    hiding = open_case(urgency=Urgency.IN_HIDING).case
    safe = open_case(urgency=Urgency.SAFE_FOR_NOW).case
    assert response_deadline(danger) - danger.created_at == timedelta(minutes=60)
    assert response_deadline(hiding) - hiding.created_at == timedelta(minutes=90)
    assert response_deadline(safe) - safe.created_at == timedelta(minutes=1440)


def test_a_new_case_schedules_its_deadline_job_after_commit_with_only_ids(committed_case: PersonAtRisk) -> None:
    job = _deadline_job(committed_case.case)
    assert job.payload == {"case": committed_case.case.pk, "step": STEP_ON_CALL}
    assert job.run_at == response_deadline(committed_case.case)


def test_a_case_is_overdue_only_when_unanswered_past_its_deadline(
    committed_case: PersonAtRisk, caseworker: Staff
) -> None:
    case = committed_case.case
    before, after = case.created_at + timedelta(minutes=59), case.created_at + timedelta(minutes=61)
    assert not is_overdue(case, before)
    assert is_overdue(case, after)
    casework_services.message_post_from_staff(
        case=case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body="We are here.",
    )
    assert not is_overdue(case, after)


def test_a_closed_case_is_never_overdue(committed_case: PersonAtRisk, caseworker: Staff) -> None:
    case = committed_case.case
    case_transition(case=case, member=caseworker.member, to_state=State.CLOSED, reason=ClosingReason.DUPLICATE)
    assert not is_overdue(case, case.created_at + timedelta(days=3))


def test_the_inbox_puts_overdue_cases_right_after_duress_and_marks_them(caseworker: Staff, outsider: Staff) -> None:
    calm = open_case(urgency=Urgency.DANGER_NOW, duress_word="").case  # fresh, not overdue
    late = open_case(urgency=Urgency.SAFE_FOR_NOW, duress_word="").case
    Case.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=2))
    duress = open_case(urgency=Urgency.SAFE_FOR_NOW).case
    casework_services.case_mark_duress(duress)
    page = caseworker.console(language="en").get("/inbox/").content.decode()
    order = sorted((page.index(c.public_id), c.public_id) for c in (calm, late, duress))
    assert [public_id for _, public_id in order] == [duress.public_id, late.public_id, calm.public_id]
    assert page.count("OVERDUE") == 1
    assert page.index("OVERDUE") > page.index(late.public_id)


def test_an_unanswered_case_notifies_on_call_then_coordinators_and_each_step_once(
    committed_case: PersonAtRisk, caseworker: Staff, coordinator: Staff, settings: Any
) -> None:
    case = committed_case.case
    now = response_deadline(case) + timedelta(minutes=1)
    _on_call(caseworker.member, now)
    first = _deadline_job(case)
    assert deadline_check(first, now=now) == [caseworker.member]
    second = _deadline_job(case, STEP_COORDINATORS)
    assert second.run_at == now + timedelta(minutes=settings.SP_ESCALATE_AFTER_MINUTES)
    deadline_check(first, now=now)  # run again, as after a crash: no second escalation step
    assert Job.objects.filter(kind=DEADLINE_JOB, payload__step=STEP_COORDINATORS).count() == 1
    assert deadline_check(second, now=second.run_at) == [coordinator.member]


def test_a_reply_before_the_deadline_stops_the_ladder(committed_case: PersonAtRisk, caseworker: Staff) -> None:
    case = committed_case.case
    now = response_deadline(case) + timedelta(minutes=1)
    _on_call(caseworker.member, now)
    casework_services.message_post_from_staff(
        case=case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body="We read you.",
    )
    assert deadline_check(_deadline_job(case), now=now) == []
    assert not Job.objects.filter(kind=DEADLINE_JOB, payload__step=STEP_COORDINATORS).exists()


def test_with_nobody_on_call_the_coordinators_are_told_at_once(
    committed_case: PersonAtRisk, coordinator: Staff
) -> None:
    case = committed_case.case
    assert deadline_check(_deadline_job(case), now=response_deadline(case)) == [coordinator.member]


def test_the_worker_emails_the_on_call_member_only_the_case_id_and_link(
    committed_case: PersonAtRisk,
    caseworker: Staff,
    coordinator: Staff,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    case = committed_case.case
    preference_set(member=caseworker.member, channel=Channel.EMAIL, address="oncall@example.org", language="en")
    preference_set(member=coordinator.member, channel=Channel.EMAIL, address="coord@example.org", language="ru")
    _on_call(caseworker.member, timezone.now())
    Job.objects.filter(kind="notify_case").update(done_at=timezone.now())  # the new-case notice is another test's
    Job.objects.filter(pk=_deadline_job(case).pk).update(run_at=timezone.now() - timedelta(seconds=1))
    call_command("worker", "--once")
    assert [rcpt for rcpt, _ in smtp.messages] == [["oncall@example.org"]]
    text = smtp.texts()[0]
    assert case.public_id in text and f"/cases/{case.public_id}/" in text
    assert "Help me" not in text and "chechnya" not in text.lower()
    # The coordinators' step is due later; once it is due, the worker runs it too.
    Job.objects.filter(kind=DEADLINE_JOB, payload__step=STEP_COORDINATORS).update(run_at=timezone.now())
    call_command("worker", "--once")
    assert [rcpt for rcpt, _ in smtp.messages][1:] == [["coord@example.org"]]
    assert "Просрочен" in smtp.texts()[1]
    call_command("worker", "--once")  # nothing is sent twice
    assert len(smtp.messages) == 2
    assert NotificationSent.objects.count() == 2


def test_an_analyst_on_call_gets_no_overdue_case_notice(
    committed_case: PersonAtRisk,
    coordinator: Staff,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    """Attacker: an analyst (who must not see the case list) on the rota, e.g. by a shift made
    before the rule or written into the database, waiting for overdue cases' references."""
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    preference_set(member=analyst.member, channel=Channel.EMAIL, address="analyst@example.org", language="en")
    preference_set(member=coordinator.member, channel=Channel.EMAIL, address="coord@example.org", language="en")
    _on_call(analyst.member, timezone.now())
    Job.objects.filter(kind="notify_case").update(done_at=timezone.now())  # the new-case notice is another test's
    Job.objects.filter(pk=_deadline_job(committed_case.case).pk).update(run_at=timezone.now() - timedelta(seconds=1))
    call_command("worker", "--once")
    assert [rcpt for rcpt, _ in smtp.messages] == [["coord@example.org"]]  # nobody on call: the coordinators
    assert not NotificationSent.objects.filter(member=analyst.member).exists()
