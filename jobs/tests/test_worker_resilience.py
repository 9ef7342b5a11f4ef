"""The worker keeps going when the database goes away, keeps its claim while a job runs, and
never turns finished work into a failure. Each test runs a real ``manage.py worker`` process
(jobs/tests/slow_worker.py) against the test database, with a lease of a few seconds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from jobs.models import Job
from jobs.services import job_handler, periodic_kinds, unregister
from jobs.worker import Worker, claim_next

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "SP_VAR_DIR": str(settings.VAR_DIR)}
    name = str(connection.settings_dict["NAME"])
    env["SP_DB_NAME" if connection.vendor == "postgresql" else "SP_SQLITE_PATH"] = name
    return {**env, "SP_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "SP_SQLITE_BUSY_SECONDS": "1", **extra}


def _until(condition: Callable[[], object], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class WorkerProcess:
    """``manage.py worker`` in a process of its own, its log in a file."""

    def __init__(self, markers: Path, **env: str) -> None:
        self.markers = markers
        self.log_path = markers / "worker.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jobs.tests.slow_worker", str(markers)],
                cwd=ROOT,
                env=_subprocess_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_marker(self, name: str, *, seconds: float = 60) -> None:
        def there() -> bool:
            assert self.alive(), f"the worker exited with {self.process.returncode}:\n{self.log()}"
            return (self.markers / name).exists()

        _until(there, seconds=seconds, what=name)

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; returns the exit status."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait()


@pytest.fixture
def worker_process(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        started.append(WorkerProcess(tmp_path, **env))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def database_away(seconds: float) -> None:
    """Make the database unusable for everyone else for ``seconds``: on SQLite a write lock held
    longer than the workers' busy timeout (1 s here); on PostgreSQL every other connection to
    the test database is cut, again and again, as a restart of the server would."""
    end = time.monotonic() + seconds
    if connection.vendor == "sqlite":
        lock = sqlite3.connect(str(connection.settings_dict["NAME"]), isolation_level=None, timeout=10)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            time.sleep(max(end - time.monotonic(), 0))
            lock.execute("ROLLBACK")
        finally:
            lock.close()
        return
    with connection.cursor() as cursor:
        while time.monotonic() < end:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            time.sleep(0.1)


def _periodic_jobs_run() -> bool:
    periodic = Job.objects.filter(kind__in=list(periodic_kinds()))
    return periodic.count() == len(periodic_kinds()) and not periodic.filter(done_at=None, failed_at=None).exists()


def _done(job: Job) -> bool:
    job.refresh_from_db()
    return job.done_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_the_database_going_away_while_it_claims(
    worker_process: Callable[..., WorkerProcess],
) -> None:
    worker = worker_process()
    # The worker queues its periodic jobs first thing and runs them: once every one is done, it
    # is up and polling, so the database goes away while it claims, not while it runs a sweep.
    _until(_periodic_jobs_run, seconds=60, what="the worker to start and run its periodic jobs")
    job = Job.objects.create(kind="test.sleep", payload={"tenths": 1}, run_at=timezone.now() + timedelta(seconds=0.3))
    database_away(seconds=4)
    assert worker.alive(), worker.log()
    _until(lambda: _done(job), seconds=60, what="the job to be done")
    assert worker.alive(), worker.log()
    assert worker.stop() == 0, worker.log()
    log = worker.log()
    assert "database error while claiming a job" in log
    assert "Traceback" not in log
    job.refresh_from_db()
    assert job.failed_at is None and job.attempts >= 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_the_database_going_away_while_it_records_a_finished_job(
    worker_process: Callable[..., WorkerProcess],
) -> None:
    job = Job.objects.create(kind="test.sleep", payload={"tenths": 10})
    worker = worker_process()
    worker.wait_for_marker(f"started-{job.pk}")
    database_away(seconds=4)  # the job finishes after 1 s, while the database is away
    assert (worker.markers / f"finished-{job.pk}").exists()
    _until(lambda: _done(job), seconds=60, what="the job to be recorded as done")
    assert worker.alive(), worker.log()
    assert worker.stop() == 0, worker.log()
    log = worker.log()
    assert f"database error while recording the outcome of job {job.pk}" in log
    assert "Traceback" not in log
    job.refresh_from_db()
    assert job.failed_at is None and job.last_error == "" and job.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_running_longer_than_its_lease_keeps_its_claim(worker_process: Callable[..., WorkerProcess]) -> None:
    job = Job.objects.create(kind="test.sleep", payload={"tenths": 2 * LEASE_SECONDS * 10})
    worker = worker_process()
    worker.wait_for_marker(f"started-{job.pk}")
    lease = timedelta(seconds=LEASE_SECONDS)
    while not (worker.markers / f"finished-{job.pk}").exists():
        assert claim_next("intruder", lease=lease) is None, "another worker took a job that was still running"
        assert worker.alive(), worker.log()
        time.sleep(0.2)
    _until(lambda: _done(job), seconds=30, what="the job to be recorded as done")
    job.refresh_from_db()
    assert job.attempts == 1 and job.claimed_by != "intruder"
    assert worker.stop() == 0, worker.log()


@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_job_is_taken_up_after_one_short_lease(
    worker_process: Callable[..., WorkerProcess],
) -> None:
    assert settings.SP_JOB_LEASE_SECONDS <= 60, "the default lease is what a crashed worker's job waits"
    job = Job.objects.create(kind="test.sleep", payload={"tenths": 600})
    worker = worker_process()
    worker.wait_for_marker(f"started-{job.pk}")
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait()
    killed_at = time.monotonic()
    lease = timedelta(seconds=LEASE_SECONDS)
    _until(lambda: claim_next("rescuer", lease=lease), seconds=LEASE_SECONDS + 5, what="the job to be claimable")
    assert time.monotonic() - killed_at <= LEASE_SECONDS + 2
    job.refresh_from_db()
    assert job.claimed_by == "rescuer" and job.attempts == 2


@pytest.fixture
def rescuer_runs() -> Iterator[list[int]]:
    runs: list[int] = []
    job_handler("test.fails_after_resume")(lambda job: runs.append(job.pk))
    yield runs
    unregister("test.fails_after_resume")


@pytest.mark.django_db(transaction=True)
def test_a_worker_resumed_after_a_pause_never_marks_a_job_another_worker_finished_as_failed(
    worker_process: Callable[..., WorkerProcess], rescuer_runs: list[int]
) -> None:
    # One attempt only: a failure recorded by the late worker would be final.
    job = Job.objects.create(kind="test.fails_after_resume", payload={})
    late = worker_process(SP_JOB_MAX_ATTEMPTS="1")
    late.wait_for_marker(f"started-{job.pk}")
    late.process.send_signal(signal.SIGSTOP)  # heartbeat and all
    try:
        rescuer = Worker(worker_id="rescuer", lease=timedelta(seconds=LEASE_SECONDS), idle_seconds=0)
        _until(lambda: rescuer.run(once=True), seconds=LEASE_SECONDS + 10, what="the lease to run out")
        assert rescuer_runs == [job.pk]
        (late.markers / f"resume-{job.pk}").touch()
    finally:
        late.process.send_signal(signal.SIGCONT)
    late.wait_for_marker(f"finished-{job.pk}")  # the late worker's handler fails now
    assert late.stop() == 0, late.log()  # SIGTERM waits for the job in hand to be recorded
    job.refresh_from_db()
    assert job.done_at is not None
    assert job.failed_at is None and job.last_error == "", "finished work was marked as failed"
    assert "failed after its claim ran out; nothing recorded: ConnectionResetError" in late.log()
