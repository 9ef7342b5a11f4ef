"""``manage.py worker``: run background jobs (notifications, escalations, the session purge).

Run one or more per host under a supervisor (systemd, Docker). SIGTERM or SIGINT lets the job
in hand finish, claims nothing more and exits with status 0. ``--once`` runs whatever is due
now and exits, for cron and for tests. Every worker also queues the periodic jobs (see
jobs/worker.py), so nothing else needs to be scheduled. A database error never ends it: it waits
and tries again (jobs/worker.py).
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jobs.worker import Worker


class Command(BaseCommand):
    help = "Claim and run due background jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
        parser.add_argument("--idle-seconds", type=float, default=2.0, help="pause when nothing is due")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker(idle_seconds=options["idle_seconds"], periodic=True)

        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            ran = worker.run(once=options["once"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if options["verbosity"] > 1:
            self.stdout.write(f"ran {ran} job(s)")
