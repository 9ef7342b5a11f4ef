"""Keeping the processes of `make run` up: start each, start again one that stopped, stop all
on request. Plain Python (no Django), so `serve` stays a list of what to run.

A child that stops on its own is started again after a pause that doubles (1 s, 2 s, 4 s ...);
one that stops more than ``max_restarts`` times within ``window_seconds`` is left stopped, with
a message saying so, while the others keep running: a dead worker must not take the intake
down, and a broken console must not take the worker down.

Each child runs in a process group of its own, so the supervisor alone decides how it stops:
Ctrl+C, SIGTERM or a closed terminal reach the supervisor, which asks each child with its own
signal, follows up with SIGTERM after a second, and kills whatever is left of the group (a
gunicorn master's workers included) after ``stop_grace_seconds``. Children start with SIGINT
ignored, so a SIGINT that reaches one while it is still loading (before gunicorn or the worker
install their own handlers) prints no KeyboardInterrupt traceback, and on Linux they are sent
SIGTERM if the supervisor itself dies, so a killed `make run` leaves no server holding a port.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType


@dataclass
class Child:
    name: str  # as the messages call it: "intake portal"
    argv: list[str]
    env: dict[str, str] | None = None
    # How to ask it to stop: gunicorn's quick shutdown is SIGINT; the worker finishes its job on SIGTERM.
    stop_signal: signal.Signals = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=deque)  # when it stopped on its own, recently
    restart_at: float | None = None
    given_up: bool = False


_PR_SET_PDEATHSIG = 1
# The C library this process already has loaded (for prctl).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _prepare_child() -> None:
    """Runs in the child between fork and exec (the supervisor has no other thread)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:  # nothing left in it
        pass


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class Supervisor:
    STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(
        self,
        children: Sequence[Child],
        *,
        cwd: Path,
        say: Callable[[str], None],
        max_restarts: int = 5,
        window_seconds: float = 60.0,
        first_delay_seconds: float = 1.0,
        stop_grace_seconds: float = 5.0,
    ) -> None:
        self.children = list(children)
        self.cwd = cwd
        self.say = say
        self.max_restarts = max_restarts
        self.window_seconds = window_seconds
        self.first_delay_seconds = first_delay_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.stop_requested: int | None = None

    def catch_stop_signals(self) -> None:
        """From now on Ctrl+C, SIGTERM and SIGHUP only ask for a stop (see run)."""

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stop_requested = signum

        for sig in self.STOP_SIGNALS:
            signal.signal(sig, request_stop)

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def _start(self, child: Child) -> None:
        child.restart_at = None
        child.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            child.argv, cwd=self.cwd, env=child.env, process_group=0, preexec_fn=_prepare_child
        )

    def run(self) -> bool:
        """Watch the children until a stop is requested (True) or every child was given up (False);
        then stop them all."""
        try:
            while self.stop_requested is None and not all(child.given_up for child in self.children):
                for child in self.children:
                    self._look_after(child)
                time.sleep(0.2)
        finally:
            self.stop_all()
        return self.stop_requested is not None

    def _look_after(self, child: Child) -> None:
        now = time.monotonic()
        if child.given_up:
            return
        if child.process is None:
            if child.restart_at is not None and now >= child.restart_at:
                self._start(child)
            return
        returncode = child.process.poll()
        if returncode is None:
            return
        _kill_group(child.process.pid)  # a gunicorn master's orphaned workers still hold its port
        child.process = None
        while child.exits and now - child.exits[0] > self.window_seconds:
            child.exits.popleft()
        child.exits.append(now)
        if len(child.exits) > self.max_restarts:
            child.given_up = True
            self.say(self._given_up_message(child))
            return
        delay = self.first_delay_seconds * 2 ** (len(child.exits) - 1)
        child.restart_at = now + delay
        self.say(
            f"The {child.name} stopped unexpectedly ({describe_exit(returncode)}); starting it again in {delay:g} s."
        )

    def _given_up_message(self, child: Child) -> str:
        others = [other.name for other in self.children if not other.given_up]
        still = (
            f"the {' and the '.join(others)} keep{'s' if len(others) == 1 else ''} running"
            if others
            else "nothing else is running"
        )
        return (
            f"The {child.name} stopped {len(child.exits)} times within {self.window_seconds:g} s and is not started again; "
            f"{still}. Fix the cause (see the messages above) and start again."
        )

    def stop_all(self) -> None:
        running = [(child, child.process) for child in self.children if child.process and child.process.poll() is None]
        for child, process in running:
            process.send_signal(child.stop_signal)
        # A child still loading ignores SIGINT; SIGTERM ends it (or asks a loaded gunicorn to stop).
        self._wait_for(running, seconds=1.0)
        for child, process in running:
            if process.poll() is None and child.stop_signal != signal.SIGTERM:
                process.send_signal(signal.SIGTERM)
        self._wait_for(running, seconds=self.stop_grace_seconds - 1.0)
        for child, process in running:
            if process.poll() is None:
                self.say(f"The {child.name} did not stop within {self.stop_grace_seconds:g} s; ending it.")
            _kill_group(process.pid)
            process.wait()

    @staticmethod
    def _wait_for(running: list[tuple[Child, subprocess.Popen[bytes]]], *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(process.poll() is None for _, process in running):
            time.sleep(0.05)
