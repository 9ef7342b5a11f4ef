"""`make run` stays up when one of its processes dies, and stops cleanly on Ctrl+C.

Each test runs the real ``manage.py serve`` (both gunicorn faces and the worker) on free
loopback ports against the test database, kills its children with SIGKILL, and sends SIGINT
to its process group as a terminal's Ctrl+C does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(condition: Callable[[], object], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def answers(url: str) -> bool:
    """Whether a server answers HTTP at all (any status will do)."""
    try:
        with urllib.request.urlopen(f"{url}/", timeout=5):  # noqa: S310 (a loopback URL of this test)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _children_of(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _process_groups_alive(groups: set[int]) -> set[int]:
    alive = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[3]) in groups:
            alive.add(int(entry.name))
    return alive


class Served:
    """``manage.py serve`` in a session of its own, its output in a file."""

    PARTS = {"intake": "wsgi_intake", "console": "wsgi_console", "worker": "manage.py worker"}

    def __init__(self, directory: Path, *arguments: str) -> None:
        self.intake = f"http://127.0.0.1:{_free_port()}"
        self.console = f"http://127.0.0.1:{_free_port()}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "SP_VAR_DIR": str(settings.VAR_DIR),
            "SP_INTAKE_URL": self.intake,
            "SP_CONSOLE_URL": self.console,
            "SP_DB_NAME" if connection.vendor == "postgresql" else "SP_SQLITE_PATH": str(
                connection.settings_dict["NAME"]
            ),
        }
        self.output_path = directory / "serve.out"
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--workers", "1", *arguments],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, as a terminal gives `make run`
            )

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def child(self, part: str) -> int | None:
        marker = self.PARTS[part]
        return next((pid for pid, cmdline in _children_of(self.process.pid).items() if marker in cmdline), None)

    def children(self) -> dict[str, int | None]:
        return {part: self.child(part) for part in self.PARTS}

    def wait_until_up(self) -> None:
        def up() -> bool:
            assert self.process.poll() is None, self.output()
            return answers(self.intake) and answers(self.console) and self.child("worker") is not None

        _until(up, seconds=120, what="both faces and the worker")

    def interrupt(self) -> tuple[int, float]:
        """Ctrl+C: SIGINT to the process group. Returns the exit status and how long it took."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        returncode = self.process.wait(timeout=60)
        return returncode, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*arguments: str) -> Served:
        started.append(Served(tmp_path, *arguments))
        return started[-1]

    yield start
    for served in started:  # whatever a failed test left running
        groups = {pid for pid in served.children().values() if pid}
        served.kill()
        for pid in _process_groups_alive(groups):
            os.kill(pid, signal.SIGKILL)


def _replaced(served: Served, part: str, old: int, *, keep_answering: str) -> None:
    """Wait until ``part`` runs again under a new process, checking the other face meanwhile."""

    def back() -> bool:
        assert answers(keep_answering), f"{keep_answering} stopped answering:\n{served.output()}"
        return served.child(part) not in (None, old)

    _until(back, seconds=120, what=f"the {part} to be started again")


def test_a_killed_child_is_started_again_while_the_others_keep_serving(serve: Callable[..., Served]) -> None:
    served = serve()
    served.wait_until_up()

    worker = served.child("worker")
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    _replaced(served, "worker", worker, keep_answering=served.intake)
    assert answers(served.console)

    intake = served.child("intake")
    assert intake is not None
    os.kill(intake, signal.SIGKILL)
    _replaced(served, "intake", intake, keep_answering=served.console)
    _until(lambda: answers(served.intake), seconds=120, what="the intake to answer again")

    output = served.output()
    assert "The background worker stopped unexpectedly (killed by SIGKILL); starting it again in 1 s." in output
    assert "The intake portal stopped unexpectedly (killed by SIGKILL); starting it again in 1 s." in output

    groups = {pid for pid in served.children().values() if pid}
    returncode, took = served.interrupt()
    output = served.output()
    assert returncode == 0, output
    assert took < 10, f"Ctrl+C took {took:.1f} s"
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    _until(lambda: not _process_groups_alive(groups), seconds=5, what="every child and its workers to end")
    assert not answers(served.intake) and not answers(served.console)


def test_a_child_that_keeps_dying_is_left_stopped_and_the_others_keep_serving(
    serve: Callable[..., Served],
) -> None:
    served = serve("--max-restarts", "2")
    served.wait_until_up()
    for kill in range(1, 4):
        worker = served.child("worker")
        assert worker is not None
        os.kill(worker, signal.SIGKILL)
        if kill < 3:
            _replaced(served, "worker", worker, keep_answering=served.intake)
    _until(lambda: "not started again" in served.output(), seconds=30, what="the supervisor to give up")
    assert (
        "The background worker stopped 3 times within 60 s and is not started again; "
        "the intake portal and the staff console keep running." in served.output()
    )
    time.sleep(3)
    assert served.child("worker") is None
    assert answers(served.intake) and answers(served.console)
    assert served.process.poll() is None

    # Even a supervisor killed outright leaves no face holding its port.
    groups = {pid for pid in served.children().values() if pid}
    served.kill()
    _until(lambda: not _process_groups_alive(groups), seconds=30, what="the faces to end with their supervisor")


def test_ctrl_c_while_starting_stops_everything_within_seconds_without_tracebacks(
    serve: Callable[..., Served],
) -> None:
    """The children are still loading Django when Ctrl+C arrives: the moment a traceback showed."""
    served = serve()
    _until(lambda: "Press Ctrl+C to stop." in served.output(), seconds=120, what="serve to start its children")
    groups = {pid for pid in served.children().values() if pid}
    returncode, took = served.interrupt()
    output = served.output()
    assert returncode == 0, output
    assert took < 10, f"Ctrl+C took {took:.1f} s"
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    _until(lambda: not _process_groups_alive(groups), seconds=5, what="every child to end")
