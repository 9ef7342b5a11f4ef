"""Run ``manage.py worker`` with a slow test job kind, for the SIGTERM test (a subprocess)."""

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


call_command("worker", "--idle-seconds", "0.2")
