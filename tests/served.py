"""A face served as `make run` serves it: gunicorn, started with serve.py's own command line,
on a free loopback port, against the test database (so a test sees what the served face stored,
and a transactional test's rows are what the face reads).

What the process writes to stdout and stderr (its logs: gunicorn's and Django's) is kept in a
file the test can read. Nothing here talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from django.conf import settings
from django.db import connection

from core.management.commands.serve import gunicorn_argv

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _database_env() -> dict[str, str]:
    """The test database, as the served process must name it."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        return {"SP_DB_ENGINE": "sqlite", "SP_SQLITE_PATH": name}
    return {"SP_DB_ENGINE": "postgresql", "SP_DB_NAME": name}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Browser:
    """One visitor of the served face: a cookie jar and plain HTTP/1.1 requests."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, timeout: float = 20
    ) -> Response:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        sent = {"Host": f"{HOST}:{self.port}", "Origin": f"http://{HOST}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            conn.request(method, path, body=body or None, headers=sent)
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(answer.status, dict(answer.headers.items()), text)

    def get(self, path: str, **kwargs: float) -> Response:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        found = _CSRF.search(page.body)
        assert found, f"no CSRF token on {path} ({page.status})"
        return found.group(1)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


@dataclass
class ServedFace:
    face: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def browser(self) -> Browser:
        return Browser(self.port)

    def connect(self) -> socket.socket:
        return socket.create_connection((HOST, self.port), timeout=10)


@contextmanager
def served_face(
    face: str, directory: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[ServedFace]:
    """Serve `face` with the command line `make run` uses; stop it (SIGTERM to the master we
    started, which stops its workers) on the way out."""
    port = free_port()
    log_path = directory / f"{face}-{port}.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "SP_FACE": face,
        "SP_LOG_FILE": "",  # logs to stderr only, which lands in log_path
        "SP_FILE_STORE": str(settings.SP_FILE_STORE),
        **_database_env(),
        **(env or {}),
    }
    argv = gunicorn_argv(face, f"http://{HOST}:{port}", workers)
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=log, stderr=log)
    served = ServedFace(face, port, process, log_path)
    try:
        _wait_until_answering(served)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_answering(served: ServedFace) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"the {served.face} face exited with {served.process.returncode}:\n{served.log()}")
        try:
            if served.browser().get("/", timeout=5).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the {served.face} face did not answer within 60 s:\n{served.log()}")


__all__ = ["Browser", "Response", "ServedFace", "free_port", "served_face"]
