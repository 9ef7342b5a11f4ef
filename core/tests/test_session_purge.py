"""The worker deletes session rows that can no longer be used (core/sessions.py).

Each console session row holds the staff member's private and signing keys sealed under the
browser's vault key, and each intake session the person's credential key. A row that lingers
after its session ended is one more sealed key for whoever copies the database later (a
database reader who also got the cookie from a seized laptop or phone). The purge runs on the
real worker path, ``manage.py worker``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from accounts import services as account_services
from accounts.keyring import SESSION_GENERATION
from accounts.models import StaffMember
from core import sessions
from core.sessions import PURGE_JOB
from jobs.models import Job
from jobs.worker import periodic_jobs_ensure
from tests.personas import PersonAtRisk, Staff


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """What ``timezone.now`` returns: the worker, the sessions and the purge all read it."""
    fake = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", fake)
    yield fake


def _session_key(client: Any) -> str:
    return str(client.cookies[django_settings.SESSION_COOKIE_NAME].value)


def _expire(client: Any) -> str:
    key = _session_key(client)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    return key


def _stored(*keys: str) -> set[str]:
    return set(Session.objects.filter(session_key__in=keys).values_list("session_key", flat=True))


def _run_worker() -> None:
    call_command("worker", "--once")


@pytest.mark.django_db
def test_the_worker_deletes_expired_sessions_of_both_faces_and_keeps_live_ones(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """Attacker: a database reader who copies the session table after people went idle. The
    expired rows, with the sealed keys in them, are gone after a worker pass."""
    expired_person, live_person = person.intake(), person.intake()
    expired_staff, live_staff = caseworker.console(), caseworker.console()
    gone = {_expire(expired_person), _expire(expired_staff)}
    kept = {_session_key(live_person), _session_key(live_staff)}

    _run_worker()

    assert _stored(*gone) == set()
    assert _stored(*kept) == kept
    assert live_staff.get("/inbox/").status_code == 200
    assert live_person.get("/conversation/").status_code == 200


@pytest.mark.django_db
def test_the_worker_deletes_the_sessions_of_a_member_who_signed_out_everywhere(
    caseworker: Staff, coordinator: Staff
) -> None:
    """Attacker: a database reader after a staff member used "sign out everywhere" (say, after
    losing a laptop): the ended sessions are not merely refused, their rows and sealed keys go."""
    laptop, phone = caseworker.console(), caseworker.console()
    colleague = coordinator.console()
    ended = {_session_key(laptop), _session_key(phone)}

    account_services.sessions_end_all(caseworker.member)
    _run_worker()

    assert _stored(*ended) == set()
    assert _stored(_session_key(colleague)) == {_session_key(colleague)}
    assert colleague.get("/inbox/").status_code == 200
    assert caseworker.console().get("/inbox/").status_code == 200, "a new login still works"


@pytest.mark.django_db
def test_the_worker_deletes_the_sessions_of_a_disabled_member(caseworker: Staff, coordinator: Staff) -> None:
    """Attacker: a database reader after an account was disabled (a turned staff member, T12)."""
    disabled = _session_key(caseworker.console())
    colleague = _session_key(coordinator.console())
    StaffMember.objects.filter(pk=caseworker.member.pk).update(is_active=False)

    _run_worker()

    assert _stored(disabled, colleague) == {colleague}


@pytest.mark.django_db
def test_the_worker_deletes_a_session_whose_member_no_longer_exists(coordinator: Staff) -> None:
    orphan = SessionStore()
    orphan[SESSION_KEY] = str(StaffMember.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000)
    orphan[SESSION_GENERATION] = 0
    orphan.create()

    _run_worker()

    assert _stored(str(orphan.session_key)) == set()


@pytest.mark.django_db
def test_a_session_ended_and_then_renewed_by_its_own_request_is_not_deleted(caseworker: Staff) -> None:
    """The purge deletes a row only as it read it: a session whose data changed since (a
    password change stores the new generation in its own session) is left alone."""
    client = caseworker.console()
    key = _session_key(client)
    account_services.sessions_end_all(caseworker.member)
    snapshot = dict(Session.objects.filter(session_key=key).values_list("session_key", "session_data"))
    Session.objects.filter(session_key=key).update(session_data=snapshot[key] + " ")  # written in between
    assert sessions.sessions_delete_unchanged(snapshot) == 0
    assert _stored(key) == {key}


@pytest.mark.django_db
def test_the_purge_is_queued_once_per_interval_and_carries_no_content(clock: Clock, settings: Any) -> None:
    settings.SP_SESSION_PURGE_SECONDS = 900
    _run_worker()
    _run_worker()
    purges = list(Job.objects.filter(kind=PURGE_JOB))
    assert len(purges) == 1 and purges[0].done_at is not None
    assert set(purges[0].payload) == {"slot"}
    clock.now += timedelta(seconds=900)
    _run_worker()
    assert Job.objects.filter(kind=PURGE_JOB, done_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_workers_passing_at_the_same_moment_queue_one_purge(settings: Any) -> None:
    """Several workers on one database: each pass makes sure the purge is queued, and only one
    job per interval exists however they interleave."""
    settings.SP_SESSION_PURGE_SECONDS = 900
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def pass_(_: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(5):
                periodic_jobs_ensure()
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pass_, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert Job.objects.filter(kind=PURGE_JOB).count() == 1
