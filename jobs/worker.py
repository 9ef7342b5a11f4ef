"""Claiming and running jobs, safely with several workers on several hosts.

A claim is a lease: the worker writes its id and a deadline (claimed_until) on the row. On
PostgreSQL the row is picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a transaction,
so two workers never pick the same row and never wait on each other. SQLite has no row locks:
each candidate is claimed with a conditional ``UPDATE ... WHERE claimed_until IS NULL OR
claimed_until < now`` and the worker keeps it only if the update changed one row. A worker
that dies leaves a lease that runs out; the job is then claimed again, and its handler must
be idempotent (see notifications.delivery, which records what it sent).

The lease is short (SP_JOB_LEASE_SECONDS, a minute by default) and a heartbeat thread renews it
every third of that while the handler runs, so a crashed worker's job waits a minute, not the
length of the longest job. Delivery is at least once: a worker paused past its lease (SIGSTOP,
a stalled host) may find the job taken and finished by another, and a finished job whose
completion could not be recorded runs again. What is never lost is a job's completion: "done"
is written whenever the work finished, while a failure (a retry or giving up) is written only
by the worker that still holds the claim and only while the job is neither done nor failed,
so a late worker can never turn finished work into a failure.

The database may be away for a while (a SQLite write lock held past the busy timeout, a
PostgreSQL restart): every database step of the loop catches the error, closes the connection
and tries again after a pause that doubles up to half a minute, with jitter so that several
workers do not return at the same instant.

Periodic jobs (jobs.services.periodic_job, e.g. the session purge) are queued by the workers
themselves: the ``manage.py worker`` command makes sure, at most every 30 seconds, that each
has one job for the current time slot. Slots are counted from the epoch, so every worker
agrees on them, and only one worker at a time may check and queue (see periodic_jobs_ensure).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from jobs.models import Job
from jobs.services import check_payload, handler_for, periodic_kinds

logger = logging.getLogger(__name__)
_SQLITE_CANDIDATES = 20
# The PostgreSQL advisory lock that lets one worker at a time queue periodic jobs.
_PERIODIC_LOCK = int.from_bytes(hashlib.blake2b(b"jobs.periodic", digest_size=8).digest(), "big", signed=True)
# What "the database is away" looks like: locked, restarted, a dropped connection, a missing table
# before migrate. OperationalError and the rest are DatabaseErrors; InterfaceError is not.
DATABASE_ERRORS = (DatabaseError, InterfaceError)


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
    job_pk: int | None
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


def lease_renew(job: Job, worker_id: str, *, lease: timedelta) -> bool:
    """Push the claim's deadline on; False when the claim is no longer this worker's (it ran out
    and another worker took the job, or the job is finished)."""
    mine = Job.objects.filter(pk=job.pk, claimed_by=worker_id, done_at=None, failed_at=None)
    return mine.update(claimed_until=timezone.now() + lease) == 1


def job_record_done(job: Job, worker_id: str) -> None:
    """The work finished: say so, whoever holds the claim now. Finished is a fact, so it also
    overrides a failure another worker recorded meanwhile; a job already done stays as it was."""
    Job.objects.filter(pk=job.pk, done_at=None).update(
        done_at=timezone.now(), failed_at=None, claimed_by=worker_id, claimed_until=None, last_error=""
    )


def job_record_failure(job: Job, worker_id: str, exc: BaseException) -> None:
    """Schedule a retry, or give up after the last attempt; only while this worker still holds
    the claim and the job is neither done nor failed. A worker whose lease ran out records
    nothing: the job is another worker's now, or finished."""
    now = timezone.now()
    label = error_label(exc)
    mine = Job.objects.filter(pk=job.pk, claimed_by=worker_id, done_at=None, failed_at=None)
    release = {"claimed_by": "", "claimed_until": None, "last_error": label}
    if job.attempts >= settings.SP_JOB_MAX_ATTEMPTS:
        if mine.update(failed_at=now, **release):
            logger.error("job %s (%s) gave up after %d attempts: %s", job.pk, job.kind, job.attempts, label)
            return
    elif mine.update(run_at=now + backoff(job.attempts), **release):
        logger.warning("job %s (%s) failed on attempt %d, will retry: %s", job.pk, job.kind, job.attempts, label)
        return
    logger.warning("job %s (%s) failed after its claim ran out; nothing recorded: %s", job.pk, job.kind, label)


def _connection_reset_after(exc: BaseException) -> None:
    """A handler that hit a database error may leave a broken connection behind: close it, so
    recording the failure opens a fresh one (unless a caller's transaction owns it)."""
    if isinstance(exc, DATABASE_ERRORS) and not connection.in_atomic_block:
        connection.close()


class DatabaseBackoff:
    """Pauses after database errors: 0.5 s, 1 s, 2 s ... up to 30 s, each a random part of the
    way between half and all of that (jitter), and back to the start after a success."""

    def __init__(self, stop: threading.Event, *, first: float = 0.5, longest: float = 30.0) -> None:
        self.stop = stop
        self.first = first
        self.longest = longest
        self.failures = 0

    def delay(self) -> float:
        ceiling = min(self.first * 2**self.failures, self.longest)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)

    def wait_after(self, exc: BaseException, doing: str) -> None:
        """Log one line, drop the connection and pause (shorter if the worker is stopped)."""
        if connection.in_atomic_block:
            raise exc  # a caller's transaction owns the connection: nothing here can repair it
        pause = self.delay()
        self.failures += 1
        logger.warning("database error while %s (%s); trying again in %.1f s", doing, error_label(exc), pause)
        connection.close()
        self.stop.wait(pause)

    def reset(self) -> None:
        self.failures = 0


class LeaseKeeper:
    """Renews a claim every third of the lease while its job runs, on a thread of its own (with
    its own database connection), so only a worker that stopped renewing loses the job."""

    def __init__(self, job: Job, worker_id: str, lease: timedelta) -> None:
        self.job = job
        self.worker_id = worker_id
        self.lease = lease
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job.pk}", daemon=True)
        self._named = (job.pk, job.kind)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished.set()
        self._thread.join()

    def _beat(self) -> None:
        backoff = DatabaseBackoff(self._finished)
        try:
            while not self._finished.wait(self.lease.total_seconds() / 3):
                try:
                    renewed = lease_renew(self.job, self.worker_id, lease=self.lease)
                except DATABASE_ERRORS as exc:
                    backoff.wait_after(exc, f"renewing the claim on job {self.job.pk}")
                    continue
                backoff.reset()
                if not renewed:
                    if not self._finished.is_set():  # not just recorded by this worker
                        logger.warning("job %s (%s): its claim ran out and another worker has it", *self._named)
                    return
        finally:
            connection.close()  # this thread's own connection


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
        """Claim and run jobs until stopped (or, with ``once``, until nothing is due). A database
        error pauses the loop and it tries again; it never ends it."""
        ran = 0
        backoff = DatabaseBackoff(self.stop)
        while not self.stop.is_set():
            try:
                job = self._claim()
            except DATABASE_ERRORS as exc:
                backoff.wait_after(exc, "claiming a job")
                continue
            backoff.reset()
            if job is None:
                if once:
                    break
                self.stop.wait(self.idle_seconds)
                continue
            self._run_claimed(job)
            ran += 1
        return ran

    def _claim(self) -> Job | None:
        if not connection.in_atomic_block:
            close_old_connections()  # drop connections past CONN_MAX_AGE or broken
        self._queue_periodic()
        return claim_next(self.worker_id, lease=self.lease)

    def _run_claimed(self, job: Job) -> None:
        with LeaseKeeper(job, self.worker_id, self.lease):
            try:
                handler_for(job.kind)(job)
            except Exception as exc:
                _connection_reset_after(exc)
                self._until_recorded(partial(job_record_failure, job, self.worker_id, exc), job)
            else:
                self._until_recorded(partial(job_record_done, job, self.worker_id), job)

    def _until_recorded(self, record: Callable[[], None], job: Job) -> None:
        """Write a job's outcome, trying again while the database is away. A worker told to stop
        tries once more and leaves it: the claim runs out and the job runs again (at least once)."""
        backoff = DatabaseBackoff(self.stop)
        while True:
            try:
                record()
                return
            except DATABASE_ERRORS as exc:
                if self.stop.is_set():
                    logger.warning(
                        "job %s (%s): outcome not recorded before stopping; it will run again", job.pk, job.kind
                    )
                    return
                backoff.wait_after(exc, f"recording the outcome of job {job.pk}")

    def _queue_periodic(self) -> None:
        if self.periodic and time.monotonic() >= self._next_periodic_check:
            periodic_jobs_ensure()
            self._next_periodic_check = time.monotonic() + self.periodic_check_seconds
