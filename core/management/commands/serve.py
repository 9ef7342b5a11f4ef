"""Serve both faces on localhost with gunicorn, as `make run` does.

Each face is its own gunicorn process with its own URLconf: the intake portal never has the
console's routes loaded. Access logs are off: gunicorn's default format records addresses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from blobstore import LocalBlobStore

# gunicorn kills a worker whose request runs longer than this: no upload takes longer.
WORKER_TIMEOUT_SECONDS = 300


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
    malformed requests name the client address."""
    return [
        sys.executable, "-m", "gunicorn", f"config.wsgi_{face}:application",
        "--bind", urlsplit(url).netloc, "--workers", str(workers), "--timeout", str(WORKER_TIMEOUT_SECONDS),
        "--worker-class", WORKER_CLASS, "--threads", str(THREADS_PER_WORKER),
        "--error-logfile", "-", "--log-level", "warning",
        "--logger-class", "core.logging.ScrubbingGunicornLogger",
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Serve the intake portal and the staff console on two localhost ports, with a background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        # A partial file older than any request can last was left by a killed process: an
        # upload nobody recorded, whose key is gone. Removing it keeps the disk from filling.
        store = LocalBlobStore(Path(settings.SP_FILE_STORE))
        removed = store.remove_stale_partials(older_than_seconds=WORKER_TIMEOUT_SECONDS)
        if removed:
            self.stdout.write(f"Removed {removed} unfinished file(s) left by an earlier run.")
        faces = {"intake": settings.SP_INTAKE_URL, "console": settings.SP_CONSOLE_URL}
        processes = [self._start(face, url, options["workers"]) for face, url in faces.items()]
        # The background worker (notifications); in production it runs as its own service.
        worker = [sys.executable, "manage.py", "worker"]
        processes.append(subprocess.Popen(worker, cwd=settings.BASE_DIR))  # noqa: S603 (fixed argv, no shell)
        self.stdout.write(f"Intake portal (for people asking for help): {settings.SP_INTAKE_URL}/")
        self.stdout.write(f"Staff console:                               {settings.SP_CONSOLE_URL}/")
        call_command("setup_link", stdout=self.stdout)
        self.stdout.write("Press Ctrl+C to stop.")
        self._wait(processes)

    def _start(self, face: str, url: str, workers: int) -> subprocess.Popen[bytes]:
        env = {**os.environ, "SP_FACE": face}
        return subprocess.Popen(gunicorn_argv(face, url, workers), env=env)  # noqa: S603 (fixed argv, no shell)

    def _wait(self, processes: list[subprocess.Popen[bytes]]) -> None:
        try:
            while all(p.poll() is None for p in processes):
                try:
                    processes[0].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    continue
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)
