"""Benchmark 7: stalled clients against the landing page (core/serving.py).

K connections (0, 4, 16, 64) send a POST head with a Content-Length and then nothing (with a
session whose CSRF secret makes Django read a POST body), or half a request head, and stay.
Meanwhile a new visitor loads the landing page, each time over a new connection; the median and
p95 of its latency are set against K = 0, measured in the same run. Then: how long the server
held each stalled connection before closing it. For comparison, the same attack at K = 16
against gunicorn's stock gthread worker (what the faces ran before core/serving.py).

    python -m bench.stalls      # this benchmark alone, on a stage of its own; prints its section

Everything talks to 127.0.0.1 only, every wait is bounded, and every server is stopped.
"""

from __future__ import annotations

import http.client
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import cast

from bench.client import HOST
from bench.stage import GUNICORN_WORKERS, ROOT, Database, Stage, _free_port
from core import serving
from core.management.commands.serve import THREADS_PER_WORKER, WORKER_CLASS, gunicorn_argv

KS = (0, 4, 16, 64)
KINDS = {
    "POST head": "a POST head with a Content-Length, then nothing",
    "half a head": "half a request head, then nothing",
}
SAMPLES = 40
GET_TIMEOUT = 30.0
# The server must close a stalled connection within its deadline (10 s) and a second or so.
HELD_LIMIT = 40.0
HELD_GOAL = max(serving.HEAD_SECONDS, serving.BODY_GRACE_SECONDS) + 5
LATENCY_GOAL = 1.0  # seconds, p95 of the landing page with 64 stalled clients
STOCK_STALLED = 16
STOCK_SAMPLES = 3
STOCK_TIMEOUT = 5.0


@dataclass
class Round:
    kind: str
    stalled: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0  # landing-page requests not answered within the timeout
    held: list[float] = field(default_factory=list)  # seconds until the server closed each stalled connection
    still_open: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def p95(self) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("inf")
        return statistics.quantiles(self.latencies, n=20, method="inclusive")[-1]


@dataclass
class StallResult:
    rounds: list[Round]
    stock: Round | None
    workers: int
    threads: int


def _session_cookie(port: int) -> str:
    conn = http.client.HTTPConnection(HOST, port, timeout=GET_TIMEOUT)
    try:
        conn.request("GET", "/login/", headers={"Host": f"{HOST}:{port}"})
        answer = conn.getresponse()
        answer.read()
    finally:
        conn.close()
    jar = SimpleCookie()
    for raw in answer.headers.get_all("Set-Cookie") or []:
        jar.load(raw)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def _stall(port: int, kind: str, cookie: str) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=10)
    if kind == "POST head":
        sock.sendall(
            f"POST /login/ HTTP/1.1\r\nHost: {HOST}:{port}\r\nOrigin: http://{HOST}:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\nCookie: {cookie}\r\n\r\n".encode()
        )
    else:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/html\r\n".encode())
    return sock


def _landing(port: int, timeout: float) -> float | None:
    """Seconds for a new visitor's landing page, over a new connection; None if not answered."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Host": f"{HOST}:{port}", "Accept": "text/html"})
        answer = conn.getresponse()
        answer.read()
        ok = answer.status == 200
    except OSError:
        ok = False
    finally:
        conn.close()
    return time.monotonic() - started if ok else None


def _held(socks: list[socket.socket], opened: float, limit: float) -> tuple[list[float], int]:
    """Read every stalled connection until the server closes it: the seconds each was held."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    held: list[float] = []
    deadline = opened + limit
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            sock = cast(socket.socket, key.fileobj)  # only sockets are registered above
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                held.append(time.monotonic() - opened)
                selector.unregister(sock)
    still_open = len(selector.get_map())
    selector.close()
    return held, still_open


def _round(port: int, kind: str, stalled: int, cookie: str, *, samples: int, timeout: float, wait_held: bool) -> Round:
    result = Round(kind, stalled)
    socks = [_stall(port, kind, cookie) for _ in range(stalled)]
    opened = time.monotonic()
    try:
        time.sleep(1.0)  # every stalled request has reached the server
        for _ in range(samples):
            latency = _landing(port, timeout)
            if latency is None:
                result.failures += 1
            else:
                result.latencies.append(latency)
        if wait_held and socks:
            result.held, result.still_open = _held(socks, opened, HELD_LIMIT)
    finally:
        for sock in socks:
            sock.close()
    return result


def _stock_gthread(stage: Stage, say: Callable[[str], None]) -> Round:
    """The same attack against the worker the faces ran before: gunicorn's stock gthread."""
    port = _free_port()
    argv = [("gthread" if arg == WORKER_CLASS else arg) for arg in gunicorn_argv("intake", f"http://{HOST}:{port}", 2)]
    log = (stage.var_dir / "gunicorn-stock.log").open("ab")
    server = subprocess.Popen(argv, cwd=ROOT, env=stage.env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while _landing(port, 5) is None:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the stock gthread server did not start")
            time.sleep(0.3)
        say(f"7. stock gthread worker: {STOCK_STALLED} stalled POST heads, {STOCK_SAMPLES} landing pages")
        cookie = _session_cookie(port)
        return _round(
            port, "POST head", STOCK_STALLED, cookie, samples=STOCK_SAMPLES, timeout=STOCK_TIMEOUT, wait_held=False
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def run(stage: Stage, say: Callable[[str], None], *, with_stock: bool = True) -> StallResult:
    port = stage.port
    cookie = _session_cookie(port)
    rounds = []
    for kind in KINDS:
        for stalled in KS:
            say(f"7. {stalled} stalled clients ({kind}): {SAMPLES} landing pages")
            rounds.append(
                _round(port, kind, stalled, cookie, samples=SAMPLES, timeout=GET_TIMEOUT, wait_held=stalled > 0)
            )
    stock = _stock_gthread(stage, say) if with_stock else None
    return StallResult(rounds, stock, GUNICORN_WORKERS, THREADS_PER_WORKER)


def _ms(seconds: float) -> str:
    return "—" if seconds == float("inf") else f"{seconds * 1000:.0f} ms"


def _worst_p95(result: StallResult) -> Round:
    return max((r for r in result.rounds if r.stalled == max(KS)), key=lambda r: r.p95)


def _longest_held(result: StallResult) -> float:
    return max((max(r.held) for r in result.rounds if r.held), default=0.0)


def goal_rows(result: StallResult) -> list[str]:
    worst = _worst_p95(result)
    baseline = next(r for r in result.rounds if r.kind == worst.kind and r.stalled == 0)
    latency_ok = worst.p95 < LATENCY_GOAL and not any(r.failures for r in result.rounds)
    longest = _longest_held(result)
    held_ok = longest <= HELD_GOAL and not any(r.still_open for r in result.rounds)
    return [
        f"| Landing page p95 with {worst.stalled} stalled clients ({worst.kind}) | {_ms(worst.p95)} "
        f"({worst.p95 / baseline.p95:.1f}× the {_ms(baseline.p95)} without) | < {LATENCY_GOAL:.0f} s, no request "
        f"unanswered | {'**PASS**' if latency_ok else '**MISS**'} | — |",
        f"| Longest a stalled connection was held | {longest:.1f} s | ≤ {HELD_GOAL:.0f} s | "
        f"{'**PASS**' if held_ok else '**MISS**'} | — |",
    ]


def section(result: StallResult) -> list[str]:
    lines = [
        "## 7. Stalled clients against the landing page",
        "",
        f"The intake face as above ({result.workers} workers × {result.threads} threads, `{WORKER_CLASS}`). K "
        "connections send a stall and stay; one second later a new visitor loads the landing page "
        f"{SAMPLES} times, each over a new connection (timeout {GET_TIMEOUT:.0f} s); then each stalled connection "
        "is read until the server closes it. The ratio is against K = 0 of the same kind, measured in the same run; "
        "at these few milliseconds, differences of tens of milliseconds are the shared machine's noise.",
        "",
        "| Stall | K | Landing median | Landing p95 | p95 ÷ K=0 | Unanswered | Held by the server (median / max) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result.rounds:
        baseline = next(b for b in result.rounds if b.kind == r.kind and b.stalled == 0)
        held = "—"
        if r.held:
            held = f"{statistics.median(r.held):.1f} / {max(r.held):.1f} s"
        if r.still_open:
            held += f", {r.still_open} still open after {HELD_LIMIT:.0f} s"
        lines.append(
            f"| {r.kind} | {r.stalled} | {_ms(r.median)} | {_ms(r.p95)} | {r.p95 / baseline.p95:.2f} | "
            f"{r.failures} of {SAMPLES} | {held} |"
        )
    lines.append("")
    if result.stock is not None:
        s = result.stock
        lines += [
            f"For comparison, gunicorn's stock gthread worker (the same command line with `--worker-class gthread`) "
            f"with {s.stalled} stalled POST heads: {s.failures} of {STOCK_SAMPLES} landing-page requests unanswered "
            f"after {STOCK_TIMEOUT:.0f} s each"
            + (f", the others in {', '.join(_ms(x) for x in s.latencies)}." if s.latencies else "."),
            "",
        ]
    lines += [
        f"What the rules are (core/serving.py): a request's head and the first {serving.EARLY_BODY_BYTES // 1024} KiB of "
        "its body are gathered in the worker's poller without a thread; the head must be whole within "
        f"{serving.HEAD_SECONDS:.0f} s; the body is cut when nothing arrived for {serving.BODY_IDLE_SECONDS:.0f} s, or "
        f"when it averages under the minimum rate (`SP_REQUEST_BODY_MIN_BYTES_PER_SECOND`, 2 KiB/s by default) once "
        f"{serving.BODY_GRACE_SECONDS:.0f} s have passed since it began (a 5 MB photo at 20 kB/s still arrives), and "
        "whatever it sends once `SP_REQUEST_BODY_SECONDS` have passed (the largest body at the minimum rate and a "
        "minute more: about 18 hours by default); a declared Content-Length above the largest body the faces accept "
        "is refused with a 413 before a thread reads any of it. So a stall costs a connection for about ten seconds "
        "and no thread; the landing page waits for none of them.",
        "",
    ]
    return lines


def main() -> int:
    began = time.monotonic()

    def say(text: str) -> None:
        print(f"[bench {time.monotonic() - began:6.1f}s] {text}", file=sys.stderr, flush=True)

    stage = Stage(Database("sqlite"))
    try:
        say(f"preparing {stage.var_dir}")
        stage.prepare()
        stage.start_server()
        result = run(stage, say)
    finally:
        stage.tear_down(keep=False)
    print("\n".join(["| Goal | Measured (wall clock) | Target | Result | CPU-normalised |", "|---|---|---|---|---|"]))
    print("\n".join(goal_rows(result)))
    print()
    print("\n".join(section(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
