"""Run ``manage.py worker`` with test job kinds, for the tests that need a worker of its own
(a subprocess: to send it SIGTERM, pause it with SIGSTOP, kill it with SIGKILL).

Each kind leaves marker files in the directory given as the first argument, so a test can
tell where the worker is: ``started-<pk>`` when a job begins, ``finished-<pk>`` when it ends.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.core.management import call_command  # noqa: E402

from jobs.models import Job  # noqa: E402
from jobs.services import job_handler  # noqa: E402

MARKERS = Path(sys.argv[1])


@job_handler("test.slow")
def slow(job: Job) -> None:
    (MARKERS / f"started-{job.pk}").touch()
    time.sleep(1.5)  # long enough for SIGTERM to arrive mid-job
    (MARKERS / f"finished-{job.pk}").touch()


@job_handler("test.sleep")
def sleep(job: Job) -> None:
    """Runs for payload["tenths"] tenths of a second."""
    (MARKERS / f"started-{job.pk}").touch()
    time.sleep(int(job.payload["tenths"]) / 10)
    (MARKERS / f"finished-{job.pk}").touch()


@job_handler("test.fails_after_resume")
def fails_after_resume(job: Job) -> None:
    """Waits until the test writes ``resume-<pk>``, then fails: the work of a worker that was
    paused and whose connection to the outside world broke meanwhile."""
    (MARKERS / f"started-{job.pk}").touch()
    while not (MARKERS / f"resume-{job.pk}").exists():
        time.sleep(0.05)
    (MARKERS / f"finished-{job.pk}").touch()
    raise ConnectionResetError("the mail server hung up while the worker was paused")


call_command("worker", "--idle-seconds", "0.2")
