"""A small browser stand-in and a bounded load runner, standard library only.

Each ``Browser`` owns one http.client connection and a cookie jar. The connection is kept
open between requests; when the server answers ``Connection: close`` http.client reopens
transparently.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import secrets
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HOST = "127.0.0.1"  # loopback only: nothing here may reach another address
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def csrf_token(self) -> str:
        found = _CSRF.search(self.body)
        if found is None:
            raise RuntimeError(f"no CSRF token in a {self.status} response")
        return found.group(1).decode()


class Browser:
    def __init__(self, port: int, *, language: str | None = None, timeout: float = 120.0) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        if language:
            self.cookies["sp_lang"] = language
        self.csrf = ""

    def close(self) -> None:
        self.conn.close()

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"User-Agent": "safe-passage-bench", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _remember(self, headers: http.client.HTTPMessage) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if body is not None and not isinstance(body, bytes):
            # A streamed body cannot be sent twice: start it on a fresh connection, since the
            # server may already have closed an idle keep-alive one.
            self.conn.close()
        try:
            self.conn.request(method, path, body=body, headers=self._headers(headers))
            raw = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            if body is not None and not isinstance(body, bytes):
                raise
            # The server closed an idle keep-alive connection before reading the request.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=self._headers(headers))
            raw = self.conn.getresponse()
        data = raw.read()
        self._remember(raw.headers)
        return Response(raw.status, raw.headers, data)

    def get(self, path: str) -> Response:
        response = self.request("GET", path)
        if b"csrfmiddlewaretoken" in response.body:
            self.csrf = response.csrf_token()
        return response

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        body = urlencode({"csrfmiddlewaretoken": self.csrf, **fields}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{HOST}:{self.port}"}
        response = self.request("POST", path, body, headers)
        if b"csrfmiddlewaretoken" in response.body:
            self.csrf = response.csrf_token()
        return response

    def post_multipart(self, path: str, form: Multipart) -> Response:
        headers = {
            "Content-Type": form.content_type,
            "Content-Length": str(form.length),
            "Origin": f"http://{HOST}:{self.port}",
        }
        return self.request("POST", path, form.chunks(), headers)

    def login(self, codename: str) -> Response:
        """The real codename login: the form page for a CSRF token, then the POST."""
        self.get("/login/")
        return self.post_form("/login/", {"codename": codename})


@dataclass
class FilePart:
    name: str
    filename: str
    content_type: str
    size: int
    chunks: Callable[[], Iterator[bytes]]  # called once per send: a generator, never one big buffer


class Multipart:
    """A multipart/form-data body with a length known in advance, streamed part by part."""

    def __init__(self, fields: Sequence[tuple[str, str]], files: Sequence[FilePart]) -> None:
        self.boundary = "----bench" + secrets.token_hex(12)
        self.fields = list(fields)
        self.files = list(files)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self.length = (
            sum(len(p) for p in self._field_bytes())
            + sum(len(self._file_head(f)) + f.size + 2 for f in self.files)
            + len(self._tail())
        )

    def _field_bytes(self) -> list[bytes]:
        return [
            (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
            for name, value in self.fields
        ]

    def _file_head(self, part: FilePart) -> bytes:
        return (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{part.name}"; filename="{part.filename}"\r\n'
            f"Content-Type: {part.content_type}\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def chunks(self) -> Iterator[bytes]:
        yield b"".join(self._field_bytes())
        for part in self.files:
            yield self._file_head(part)
            sent = 0
            for chunk in part.chunks():
                sent += len(chunk)
                yield chunk
            if sent != part.size:
                raise RuntimeError(f"file part produced {sent} bytes, announced {part.size}")
            yield b"\r\n"
        yield self._tail()

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())


def empty_file_part(name: str) -> FilePart:
    """What a browser sends for a file input left empty."""
    return FilePart(name, "", "application/octet-stream", 0, lambda: iter(()))


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies over all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


@dataclass
class CpuUsage:
    """Where the machine's CPU went during one measurement window, in cores (1.0 = one core busy)."""

    wall: float
    server_seconds: float  # CPU seconds of the server processes we watched
    bench_seconds: float  # CPU seconds of this process (the load generator)
    machine_cores: float  # all processes, from /proc/stat
    steal_cores: float  # taken by the hypervisor

    @property
    def server_cores(self) -> float:
        return self.server_seconds / self.wall if self.wall else 0.0

    @property
    def bench_cores(self) -> float:
        return self.bench_seconds / self.wall if self.wall else 0.0

    @property
    def others_cores(self) -> float:
        """Other tenants of this shared machine (other engineers' test runs, browsers)."""
        return max(0.0, self.machine_cores - self.server_cores - self.bench_cores)


class CpuWindow:
    """Measures CpuUsage between ``start`` and ``stop`` for the given server pids."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.usage: CpuUsage | None = None

    def start(self) -> None:
        self._wall = time.perf_counter()
        self._server = sum(process_cpu_seconds(pid) for pid in self.pids)
        self._bench = time.process_time()
        self._machine = _machine_ticks()

    def stop(self) -> CpuUsage:
        wall = time.perf_counter() - self._wall
        busy, steal, _ = _machine_ticks()
        self.usage = CpuUsage(
            wall=wall,
            server_seconds=sum(process_cpu_seconds(pid) for pid in self.pids) - self._server,
            bench_seconds=time.process_time() - self._bench,
            machine_cores=(busy - self._machine[0]) / _TICK / wall,
            steal_cores=(steal - self._machine[1]) / _TICK / wall,
        )
        return self.usage


QUIET_CORES = 0.25
QUIET_MAX_WAIT = 10.0


def wait_for_quiet(
    server_pids: Sequence[int], *, threshold: float = QUIET_CORES, max_wait: float = QUIET_MAX_WAIT
) -> float:
    """Before a measured window, wait (bounded) for a one-second stretch in which other tenants
    of the machine use at most ``threshold`` cores. Returns the seconds waited. It only makes a
    quiet window likelier; the window's own CpuUsage records what really happened."""
    began = time.monotonic()
    while True:
        window = CpuWindow(server_pids)
        window.start()
        time.sleep(1.0)
        if window.stop().others_cores <= threshold or time.monotonic() - began >= max_wait:
            return time.monotonic() - began


DISTURBED_CORES = 0.3


def disturbed(cpu: CpuUsage | None) -> bool:
    """True when other tenants used more than DISTURBED_CORES on average during a window: such a
    window is measured once more, and the report says so (see bench/README.md)."""
    return cpu is not None and cpu.others_cores > DISTURBED_CORES


@dataclass
class LoadResult:
    label: str
    concurrency: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)  # successful requests only
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    cpu: CpuUsage | None = None

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU per successful request: unlike requests/s, other tenants barely move it."""
        if self.cpu is None or not self.ok:
            return float("nan")
        return self.cpu.server_seconds / self.ok * 1000

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
        return ordered[rank - 1] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(99)


def run_load(
    label: str,
    browsers: Sequence[Browser],
    one_request: Callable[[Browser], bool],
    *,
    seconds: float,
    max_requests: int,
    server_pids: Sequence[int] = (),
) -> LoadResult:
    """Every browser in its own thread sends requests back to back until the time or the
    request budget is spent. ``one_request`` returns True for success; exceptions count as
    errors. The figure is successes over the wall time from start to the last thread's end."""
    wait_for_quiet(server_pids)
    result = LoadResult(label, len(browsers), 0.0)
    lock = threading.Lock()
    issued = 0
    start_gate = threading.Barrier(len(browsers) + 1)
    deadline = 0.0

    def take_ticket() -> bool:
        nonlocal issued
        with lock:
            if issued >= max_requests or time.perf_counter() >= deadline:
                return False
            issued += 1
            return True

    def worker(browser: Browser) -> None:
        start_gate.wait()
        while take_ticket():
            began = time.perf_counter()
            try:
                good = one_request(browser)
                problem = "" if good else "unexpected response"
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                good, problem = False, f"{type(exc).__name__}: {exc}"
                browser.conn.close()
            took = time.perf_counter() - began
            with lock:
                if good:
                    result.latencies.append(took)
                else:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(problem)

    threads = [threading.Thread(target=worker, args=(b,), daemon=True) for b in browsers]
    for thread in threads:
        thread.start()
    window = CpuWindow(server_pids)
    window.start()
    began = time.perf_counter()
    deadline = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join(seconds + 180)  # a stuck server cannot keep the run going for ever
    result.elapsed = time.perf_counter() - began
    result.cpu = window.stop()
    return result


def in_parallel(jobs: Sequence[Callable[[], object]], threads: int) -> list[object]:
    """Run small set-up jobs (logins) a few at a time; the first failure is raised."""
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(cursor, None)
            if index is None or errors:
                return
            try:
                results[index] = jobs[index]()
            except BaseException as exc:
                errors.append(exc)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(600)
    if errors:
        raise errors[0]
    return results
