"""Serve both faces on localhost with gunicorn, as `make run` does.

Each face is its own gunicorn process with its own URLconf: the intake portal never has the
console's routes loaded. Access logs are off: gunicorn's default format records addresses.
The two faces and the background worker are children of this command, which starts again any
that stops (core/supervisor.py): the intake never depends on the worker being alive.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from blobstore import LocalBlobStore
from core.supervisor import Child, Supervisor

# gunicorn kills a worker whose request runs longer than this: no upload takes longer.
WORKER_TIMEOUT_SECONDS = 300
# On a graceful stop (SIGTERM: a restart in production), requests in hand get this long to
# finish; systemd's TimeoutStopSec in deploy/systemd/ is a little longer.
GRACEFUL_STOP_SECONDS = 55


# Threads per worker: a slow upload holds one thread, not a whole worker, and Argon2id (which
# releases the GIL) still runs on every core.
THREADS_PER_WORKER = 4
# gunicorn's threaded worker with read deadlines: a stalled or slow client holds no thread
# while its head and the start of its body arrive, and is cut off after seconds, not minutes
# (the rules and the reasons are in core/serving.py).
WORKER_CLASS = "core.serving.DeadlineThreadWorker"


def gunicorn_argv(face: str, url: str, workers: int) -> list[str]:
    """No access log (its default format records the client address and user agent), and
    the error log through core.logging's scrubbing logger: gunicorn's own warnings about
    malformed requests name the client address. No control socket: both faces would share
    one path in the home directory, and stopping it delays every shutdown by seconds."""
    return [
        sys.executable, "-m", "gunicorn", f"config.wsgi_{face}:application",
        "--bind", urlsplit(url).netloc, "--workers", str(workers), "--timeout", str(WORKER_TIMEOUT_SECONDS),
        "--graceful-timeout", str(GRACEFUL_STOP_SECONDS),
        "--worker-class", WORKER_CLASS, "--threads", str(THREADS_PER_WORKER),
        "--error-logfile", "-", "--log-level", "warning",
        "--logger-class", "core.logging.ScrubbingGunicornLogger",
        "--no-control-socket",
    ]  # fmt: skip


def worker_argv() -> list[str]:
    return [sys.executable, "manage.py", "worker"]


def face_child(name: str, face: str, url: str, workers: int) -> Child:
    # SIGINT is gunicorn's quick shutdown: Ctrl+C should not wait for stalled clients.
    env = {**os.environ, "SP_FACE": face}
    return Child(name, gunicorn_argv(face, url, workers), env=env, stop_signal=signal.SIGINT)


def children(workers: int) -> list[Child]:
    """What `make run` runs: both faces and the background worker (in production the worker
    runs as its own service). SIGTERM lets the worker finish the job in hand."""
    return [
        face_child("intake portal", "intake", settings.SP_INTAKE_URL, workers),
        face_child("staff console", "console", settings.SP_CONSOLE_URL, workers),
        Child("background worker", worker_argv(), stop_signal=signal.SIGTERM),
    ]


class Command(BaseCommand):
    help = "Serve the intake portal and the staff console on two localhost ports, with a background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--max-restarts",
            type=int,
            default=5,
            help="times a part may stop within the window before it is left stopped",
        )
        parser.add_argument("--restart-window", type=float, default=60.0, help="seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        supervisor = Supervisor(
            children(options["workers"]),
            cwd=settings.BASE_DIR,
            say=self.stderr.write,
            max_restarts=options["max_restarts"],
            window_seconds=options["restart_window"],
        )
        supervisor.catch_stop_signals()
        # A partial file older than any request can last was left by a killed process: an
        # upload nobody recorded, whose key is gone. Removing it keeps the disk from filling.
        store = LocalBlobStore(Path(settings.SP_FILE_STORE))
        removed = store.remove_stale_partials(older_than_seconds=WORKER_TIMEOUT_SECONDS)
        if removed:
            self.stdout.write(f"Removed {removed} unfinished file(s) left by an earlier run.")
        supervisor.start()
        self.stdout.write(f"Intake portal (for people asking for help): {settings.SP_INTAKE_URL}/")
        self.stdout.write(f"Staff console:                               {settings.SP_CONSOLE_URL}/")
        self.print_intake_readiness()
        self.stdout.write("Press Ctrl+C to stop.")
        if not supervisor.run():
            raise CommandError("Every part stopped too often; nothing is left running.")
        self.stdout.write("Stopped.")

    def print_intake_readiness(self) -> None:
        """Whether the intake accepts requests, or what must still be done first (so nobody
        finds out by a person's request being refused), then the setup link while there is
        no coordinator."""
        call_command("intake_status", stdout=self.stdout)
        call_command("setup_link", stdout=self.stdout)
