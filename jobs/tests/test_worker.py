from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from jobs.models import Job
from jobs.services import UnsafePayload, job_enqueue, job_handler, periodic_job, unregister
from jobs.worker import Worker, claim_next

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """Test handlers: one records every run, one always fails."""

    def __init__(self) -> None:
        self.runs: list[int] = []
        self.lock = threading.Lock()

    def record(self, job: Job) -> None:
        with self.lock:
            self.runs.append(job.pk)
        time.sleep(0.005)  # widen the window in which a second worker could grab the job

    def fail(self, job: Job) -> None:
        raise RuntimeError("the handler's message, which may quote an address@example.org")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    job_handler("test.record")(recorder.record)
    job_handler("test.fail")(recorder.fail)
    yield recorder
    unregister("test.record")
    unregister("test.fail")


@pytest.mark.django_db
def test_once_runs_due_jobs_and_leaves_future_ones(recorder: Recorder) -> None:
    due = job_enqueue("test.record", {"case": 1})
    later = job_enqueue("test.record", {"case": 2}, run_at=timezone.now() + timedelta(hours=1))
    call_command("worker", "--once")
    due.refresh_from_db()
    later.refresh_from_db()
    assert recorder.runs == [due.pk]
    assert due.done_at is not None and due.attempts == 1 and due.claimed_until is None
    assert later.done_at is None and later.attempts == 0 and later.claimed_by == ""


@pytest.mark.django_db
def test_a_failing_job_is_retried_later_and_given_up_after_the_limit(recorder: Recorder, settings: object) -> None:
    settings.SP_JOB_MAX_ATTEMPTS = 2  # type: ignore[attr-defined]
    job = job_enqueue("test.fail", {"case": 1})
    before = timezone.now()
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.done_at is None and job.failed_at is None and job.attempts == 1
    assert job.run_at >= before + timedelta(seconds=settings.SP_JOB_RETRY_SECONDS)  # type: ignore[attr-defined]
    assert job.last_error == "RuntimeError", "the error's message must not be stored"
    assert job.claimed_until is None

    call_command("worker", "--once")  # not due yet: nothing happens
    job.refresh_from_db()
    assert job.attempts == 1

    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.attempts == 2 and job.failed_at is not None and job.done_at is None
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.attempts == 2, "a job that gave up is not claimed again"


@pytest.mark.django_db
def test_an_expired_lease_is_claimed_again_and_a_live_one_is_not(recorder: Recorder) -> None:
    now = timezone.now()
    crashed = job_enqueue("test.record", {"case": 1})
    busy = job_enqueue("test.record", {"case": 2})
    Job.objects.filter(pk=crashed.pk).update(claimed_by="dead", claimed_until=now - timedelta(seconds=1), attempts=1)
    Job.objects.filter(pk=busy.pk).update(claimed_by="alive", claimed_until=now + timedelta(minutes=5), attempts=1)
    call_command("worker", "--once")
    crashed.refresh_from_db()
    busy.refresh_from_db()
    assert recorder.runs == [crashed.pk]
    assert crashed.done_at is not None and crashed.attempts == 2
    assert busy.done_at is None and busy.claimed_by == "alive"


@pytest.mark.django_db
def test_a_claimed_job_is_not_claimed_by_another_worker() -> None:
    job = Job.objects.create(kind="test.record", payload={})
    assert claim_next("one", lease=timedelta(minutes=1)) is not None
    assert claim_next("two", lease=timedelta(minutes=1)) is None
    job.refresh_from_db()
    assert job.claimed_by == "one"


@pytest.mark.parametrize(
    "payload",
    [
        {"message": "Please help, they are looking for me"},
        {"contact": "someone@example.org"},
        {"region": ["chechnya"]},
        {"note": "Иван"},
        {"flag": True},
    ],
)
def test_a_payload_carries_only_ids_and_kinds(payload: dict[str, object]) -> None:
    with pytest.raises(UnsafePayload):
        job_enqueue("test.record", payload)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_the_same_job_twice(recorder: Recorder) -> None:
    jobs = [Job.objects.create(kind="test.record", payload={"case": n}) for n in range(40)]
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            Worker(worker_id=name).run(once=True)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    counts = Counter(recorder.runs)
    assert sorted(counts) == sorted(job.pk for job in jobs)
    assert set(counts.values()) == {1}, "a job ran more than once"
    assert not Job.objects.filter(done_at=None).exists()
    assert Job.objects.filter(attempts=1).count() == len(jobs)
    claimed_by = set(Job.objects.values_list("claimed_by", flat=True))
    assert claimed_by <= {"worker-0", "worker-1"}


@pytest.mark.django_db
def test_a_periodic_job_is_queued_once_per_slot_even_while_it_is_retried(recorder: Recorder) -> None:
    """A failed run moves the job's run_at for the retry; the next pass in the same slot must
    not take that for a missing job and queue a second one."""
    periodic_job("test.periodic", every_seconds=lambda: 10**9)(recorder.fail)  # one slot for decades
    try:
        worker = Worker(periodic=True, periodic_check_seconds=0)
        worker.run(once=True)
        worker.run(once=True)
        queued = Job.objects.get(kind="test.periodic")
        assert queued.attempts == 1 and queued.payload == {"slot": 1} and queued.failed_at is None
    finally:
        unregister("test.periodic")


@pytest.mark.django_db
def test_a_worker_made_in_code_queues_no_periodic_job() -> None:
    """Only the worker command queues periodic jobs, so code and tests that drive a Worker
    run exactly the jobs they queued."""
    assert Worker().run(once=True) == 0
    assert not Job.objects.exists()


def _subprocess_env() -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "SP_VAR_DIR": str(settings.VAR_DIR)}
    name = str(connection.settings_dict["NAME"])
    env["SP_DB_NAME" if connection.vendor == "postgresql" else "SP_SQLITE_PATH"] = name
    return env


@pytest.mark.django_db(transaction=True)
def test_sigterm_finishes_the_current_job_claims_no_more_and_exits_cleanly(tmp_path: Path) -> None:
    first = Job.objects.create(kind="test.slow", payload={})
    second = Job.objects.create(kind="test.slow", payload={}, run_at=timezone.now() + timedelta(milliseconds=1))
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.tests.slow_worker", str(tmp_path)],
        cwd=ROOT,
        env=_subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / f"started-{first.pk}").exists():
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr.decode(errors="replace")
    assert (tmp_path / f"finished-{first.pk}").exists(), "the job in hand was cut short"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.done_at is not None
    assert second.attempts == 0 and second.claimed_by == "" and second.done_at is None
