"""Claiming and running jobs, safely with several workers on several hosts.

A claim is a lease: the worker writes its id and a deadline (claimed_until) on the row. On
PostgreSQL the row is picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a transaction,
so two workers never pick the same row and never wait on each other. SQLite has no row locks:
each candidate is claimed with a conditional ``UPDATE ... WHERE claimed_until IS NULL OR
claimed_until < now`` and the worker keeps it only if the update changed one row. A worker
that dies leaves a lease that runs out; the job is then claimed again, and its handler must
be idempotent (see notifications.delivery, which records what it sent).

Periodic jobs (jobs.services.periodic_job, e.g. the session purge) are queued by the workers
themselves: the ``manage.py worker`` command makes sure, at most every 30 seconds, that each
has one job for the current time slot. Slots are counted from the epoch, so every worker
agrees on them, and only one worker at a time may check and queue (see periodic_jobs_ensure).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from jobs.models import Job
from jobs.services import check_payload, handler_for, periodic_kinds

logger = logging.getLogger(__name__)
_SQLITE_CANDIDATES = 20
# The PostgreSQL advisory lock that lets one worker at a time queue periodic jobs.
_PERIODIC_LOCK = int.from_bytes(hashlib.blake2b(b"jobs.periodic", digest_size=8).digest(), "big", signed=True)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: object) -> QuerySet[Job]:
    return Job.objects.filter(done_at=None, failed_at=None, run_at__lte=now).filter(
        Q(claimed_until=None) | Q(claimed_until__lt=now)
    )


def claim_next(worker_id: str, *, lease: timedelta) -> Job | None:
    """Claim the job that is due longest, or return None when nothing is due."""
    now = timezone.now()
    claim = {"claimed_by": worker_id, "claimed_until": now + lease, "attempts": F("attempts") + 1}
    if connection.vendor == "postgresql":
        with transaction.atomic():
            job = _claimable(now).select_for_update(skip_locked=True).order_by("run_at", "pk").first()
            if job is None:
                return None
            Job.objects.filter(pk=job.pk).update(**claim)
            job_pk = job.pk
    else:
        candidates = list(_claimable(now).order_by("run_at", "pk").values_list("pk", flat=True)[:_SQLITE_CANDIDATES])
        # Another worker may take a candidate between the read and the update; the update's
        # own WHERE decides, and a row count of 0 means someone else has it.
        job_pk = next((pk for pk in candidates if _claimable(now).filter(pk=pk).update(**claim) == 1), None)
        if job_pk is None:
            return None
    return Job.objects.get(pk=job_pk)


def periodic_jobs_ensure(now: datetime | None = None) -> int:
    """Queue each periodic job for the current time slot unless a job of its kind was already
    queued in that slot; returns how many were queued. The check and the insert run in a
    transaction only one worker at a time can be in: SQLite takes its write lock at BEGIN
    (transaction_mode IMMEDIATE), PostgreSQL waits for an advisory lock held to the commit.
    The lookup is by creation time, which a retry does not move (it moves run_at)."""
    now = now or timezone.now()
    queued = 0
    for kind, every_seconds in periodic_kinds().items():
        interval = max(int(every_seconds()), 1)
        slot = int(now.timestamp()) // interval
        slot_start = datetime.fromtimestamp(slot * interval, tz=UTC)
        payload = {"slot": slot}
        check_payload(payload)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PERIODIC_LOCK])
            if Job.objects.filter(kind=kind, created_at__gte=slot_start).exists():
                continue
            Job.objects.create(kind=kind, payload=payload, created_at=now, run_at=slot_start)
            queued += 1
    return queued


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour (the base is SP_JOB_RETRY_SECONDS)."""
    base = settings.SP_JOB_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def error_label(exc: BaseException) -> str:
    """The exception's class and any numeric status, never its message (it can quote an
    address or a server's reply)."""
    code = getattr(exc, "smtp_code", None) or getattr(exc, "code", None) or getattr(exc, "errno", None)
    label = type(exc).__name__ + (f" {code}" if isinstance(code, int) else "")
    return label[:100]


def run_job(job: Job) -> bool:
    """Run one claimed job; True when it is done. A failure schedules a retry or gives up."""
    try:
        handler_for(job.kind)(job)
    except Exception as exc:
        _record_failure(job, exc)
        return False
    Job.objects.filter(pk=job.pk).update(done_at=timezone.now(), claimed_until=None, last_error="")
    return True


def _record_failure(job: Job, exc: Exception) -> None:
    now = timezone.now()
    label = error_label(exc)
    release = {"claimed_by": "", "claimed_until": None, "last_error": label}
    if job.attempts >= settings.SP_JOB_MAX_ATTEMPTS:
        Job.objects.filter(pk=job.pk).update(failed_at=now, **release)
        logger.error("job %s (%s) gave up after %d attempts: %s", job.pk, job.kind, job.attempts, label)
    else:
        Job.objects.filter(pk=job.pk).update(run_at=now + backoff(job.attempts), **release)
        logger.warning("job %s (%s) failed on attempt %d, will retry: %s", job.pk, job.kind, job.attempts, label)


@dataclass
class Worker:
    worker_id: str = field(default_factory=new_worker_id)
    lease: timedelta = field(default_factory=lambda: timedelta(seconds=settings.SP_JOB_LEASE_SECONDS))
    idle_seconds: float = 2.0
    # Set by SIGTERM: the job in hand is finished, no other is claimed.
    stop: threading.Event = field(default_factory=threading.Event)
    # Queue the periodic jobs too (the worker command does; a Worker made in code only runs
    # what is queued, so a test counts exactly its own jobs).
    periodic: bool = False
    periodic_check_seconds: float = 30.0
    _next_periodic_check: float = field(default=0.0, init=False, repr=False)

    def run(self, *, once: bool = False) -> int:
        """Claim and run jobs until stopped (or, with ``once``, until nothing is due)."""
        ran = 0
        while not self.stop.is_set():
            if not connection.in_atomic_block:
                close_old_connections()  # drop connections past CONN_MAX_AGE or broken
            self._queue_periodic()
            job = claim_next(self.worker_id, lease=self.lease)
            if job is None:
                if once:
                    break
                self.stop.wait(self.idle_seconds)
                continue
            run_job(job)
            ran += 1
        return ran

    def _queue_periodic(self) -> None:
        if self.periodic and time.monotonic() >= self._next_periodic_check:
            periodic_jobs_ensure()
            self._next_periodic_check = time.monotonic() + self.periodic_check_seconds
