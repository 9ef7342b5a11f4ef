"""The four benchmarks. Each returns plain data; bench/report.py turns it into markdown."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import sealbox
from bench import inprocess
from bench.client import (
    Browser,
    CpuUsage,
    CpuWindow,
    FilePart,
    LoadResult,
    Multipart,
    disturbed,
    empty_file_part,
    in_parallel,
    process_cpu_seconds,
    run_load,
    wait_for_quiet,
)
from bench.stage import Stage

MIB = 1024 * 1024
CORES = len(os.sched_getaffinity(0))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# ~500 characters, Cyrillic like most of what the hotline receives (two bytes each in UTF-8).
MESSAGE = (
    "Здравствуйте. Мне нужна помощь, за мной следят, и я боюсь выходить из дома. "
    "Вчера приходили люди из полиции и спрашивали обо мне у соседей. Мой телефон, "
    "возможно, проверяют родственники. Я могу писать только отсюда и только вечером. "
)
MESSAGE = (MESSAGE * 4)[:500]


# --- 1. Message submission -------------------------------------------------------------------


@dataclass
class SubmissionResult:
    landing: LoadResult
    levels: list[LoadResult]
    crypto: inprocess.Timing
    message_chars: int
    message_bytes: int
    unreported_posts: int  # the warm-up's and those of windows measured again
    retried: list[LoadResult]

    @property
    def posted(self) -> int:
        return self.unreported_posts + sum(level.ok for level in self.levels)


def _ready_to_post(browser: Browser, codename: str) -> None:
    response = browser.login(codename)
    if response.status != 302:
        raise RuntimeError(f"codename login answered {response.status}")
    page = browser.get("/conversation/")
    if page.status != 200:
        raise RuntimeError(f"conversation page answered {page.status}")


def _submission_form(browser: Browser) -> tuple[bytes, str]:
    """The body and content type a browser sends from the conversation form: multipart, with the
    empty file input; built once per client (its CSRF token does not change within the session)."""
    form = Multipart([("csrfmiddlewaretoken", browser.csrf), ("message", MESSAGE)], [empty_file_part("attachments")])
    return form.to_bytes(), form.content_type


def submission(
    stage: Stage, *, seconds: float, max_requests: int, levels: tuple[int, ...] = (1, 8, 32)
) -> SubmissionResult:
    crypto = inprocess.message_crypto(MESSAGE)
    posters = [Browser(stage.port) for _ in range(max(levels))]
    # One real codename login per connection, 2 × cores at a time (each costs one Argon2id).
    in_parallel([partial(_ready_to_post, b, stage.codename) for b in posters], threads=2 * CORES)
    forms = {id(b): _submission_form(b) for b in posters}

    def post(browser: Browser) -> bool:
        body, content_type = forms[id(browser)]
        headers = {"Content-Type": content_type, "Origin": f"http://127.0.0.1:{browser.port}"}
        response = browser.request("POST", "/conversation/", body, headers)
        return response.status == 302 and response.location == "/conversation/"

    visitors = [Browser(stage.port) for _ in range(8)]
    for visitor in visitors:
        visitor.get("/")  # a session cookie, as a returning visitor's browser would hold
    pids = stage.server_pids()
    landing = run_load(
        "GET / (landing)", visitors, lambda b: b.request("GET", "/").status == 200,
        seconds=seconds, max_requests=max_requests, server_pids=pids,
    )  # fmt: skip
    retried: list[LoadResult] = []
    if disturbed(landing.cpu):
        retried.append(landing)
        landing = run_load(
            "GET / (landing)", visitors, lambda b: b.request("GET", "/").status == 200,
            seconds=seconds, max_requests=max_requests, server_pids=pids,
        )  # fmt: skip
    warm_up = run_load("warm-up", posters[:8], post, seconds=2, max_requests=40)  # not reported
    results = []
    for n in levels:
        label = f"POST /conversation/ c={n}"
        level = run_load(label, posters[:n], post, seconds=seconds, max_requests=max_requests, server_pids=pids)
        if disturbed(level.cpu):
            retried.append(level)
            level = run_load(label, posters[:n], post, seconds=seconds, max_requests=max_requests, server_pids=pids)
        results.append(level)
    for browser in posters + visitors:
        browser.close()
    posted = warm_up.ok + sum(r.ok for r in retried if r.label.startswith("POST"))
    return SubmissionResult(landing, results, crypto, len(MESSAGE), len(MESSAGE.encode()), posted, retried)


@dataclass
class ConversationAfter:
    messages: int
    html_bytes: int
    seconds: float
    status: int


def conversation_after_load(stage: Stage, messages: int) -> ConversationAfter:
    """The person's conversation page once the submission benchmark has filled the case."""
    browser = Browser(stage.port, timeout=300)
    browser.login(stage.codename)
    began = time.perf_counter()
    page = browser.get("/conversation/")
    took = time.perf_counter() - began
    browser.close()
    return ConversationAfter(messages, len(page.body), took, page.status)


# --- 2. Codename logins ----------------------------------------------------------------------


@dataclass
class LoginRun:
    """One login load with the Argon2id baseline measured just before it."""

    label: str
    argon2: inprocess.Timing
    load: LoadResult

    @property
    def bound(self) -> float:
        """Logins/s the cores could do if they did nothing but derive: cores ÷ one derivation.
        The fastest sample is the hardware's speed; slower ones measured a neighbour's load."""
        return CORES / min(self.argon2.samples)

    @property
    def ratio(self) -> float:
        """The goal's figure: achieved logins/s ÷ bound."""
        return self.load.rps / self.bound

    @property
    def cpu_ratio(self) -> float:
        """The same, with the CPU the server actually got in place of all cores: the share of
        the server's CPU time that went into Argon2id. Other tenants of the machine barely move it."""
        cpu = self.load.cpu
        if cpu is None or not cpu.server_seconds:
            return float("nan")
        return self.load.ok * self.argon2.cpu_median / cpu.server_seconds


@dataclass
class LoginResult:
    clients: int
    runs: list[LoginRun]
    retried: list[LoginRun]  # disturbed windows, measured again


def logins(stage: Stage, *, seconds: float, max_requests: int) -> LoginResult:
    clients = 2 * CORES

    def valid(browser: Browser) -> bool:
        return browser.login(stage.codename).status == 302

    def wrong(browser: Browser) -> bool:
        # A fresh, well-formed six-word phrase that matches nobody: the same Argon2id cost.
        response = browser.login(sealbox.generate_codename("ru"))
        return response.status == 400  # 429 would mean the global login budget paused logins

    browsers = [Browser(stage.port) for _ in range(clients)]
    pids = stage.server_pids()
    runs: list[LoginRun] = []
    retried: list[LoginRun] = []
    for label, attempt in (("valid (302)", valid), ("wrong (400)", wrong)):
        for _ in range(2):  # once more if other tenants disturbed the window
            wait_for_quiet(pids)
            argon2 = inprocess.argon2_derivation(samples=7)  # the baseline, under the same neighbours
            load = run_load(label, browsers, attempt, seconds=seconds, max_requests=max_requests, server_pids=pids)
            run = LoginRun(label, argon2, load)
            if not disturbed(load.cpu) or len([r for r in retried if r.label == label]):
                break
            retried.append(run)
        runs.append(run)
    for browser in browsers:
        browser.close()
    return LoginResult(clients, runs, retried)


# --- 3. A large attachment -------------------------------------------------------------------


@dataclass
class MemorySample:
    rss_before: int  # bytes
    rss_peak: int
    hwm_before: int
    hwm_after: int
    samples: int

    @property
    def growth(self) -> int:
        return self.rss_peak - self.rss_before


class MemorySampler:
    """Reads VmRSS/VmHWM of the gunicorn workers every 50 ms in a thread."""

    def __init__(self, pids: list[int], interval: float = 0.05) -> None:
        self.pids = pids
        self.interval = interval
        self.before = {pid: _status(pid) for pid in pids}
        self.peak = {pid: self.before[pid]["VmRSS"] for pid in pids}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids:
                rss = _status(pid)["VmRSS"]
                self.peak[pid] = max(self.peak[pid], rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def result(self, pid: int) -> MemorySample:
        after = _status(pid)
        before = self.before[pid]
        return MemorySample(before["VmRSS"], self.peak[pid], before["VmHWM"], after["VmHWM"], self.samples)


def _status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) * 1024
    return values


@dataclass
class UploadResult:
    size: int
    raw_seconds: float
    raw_cpu_seconds: float
    raw_disk_seconds: float
    upload_seconds: float
    cpu: CpuUsage
    status: int
    memory: MemorySample
    other_workers_growth: int
    blob_bytes: int
    blob_expected_bytes: int
    blob_has_png_header: bool
    partial_files_left: int
    blob_found: bool
    retried_others_cores: float | None = None  # set when a disturbed first attempt was measured again

    @property
    def messages(self) -> int:
        """Messages this benchmark added to the case (the warm-up, the upload, a repeat)."""
        return 2 if self.retried_others_cores is None else 3

    @property
    def raw_mib_s(self) -> float:
        return self.size / MIB / self.raw_seconds

    @property
    def raw_disk_mib_s(self) -> float:
        return self.size / MIB / self.raw_disk_seconds

    @property
    def upload_mib_s(self) -> float:
        return self.size / MIB / self.upload_seconds

    @property
    def ratio(self) -> float:
        return self.upload_mib_s / self.raw_mib_s

    @property
    def serving_cpu_seconds(self) -> float:
        return self.cpu.server_seconds

    @property
    def cpu_ratio(self) -> float:
        """Raw secretstream CPU time ÷ the server's CPU time for the upload: wall-clock-free."""
        return self.raw_cpu_seconds / self.cpu.server_seconds if self.cpu.server_seconds else float("nan")


def _png_like(size: int, piece: int = MIB) -> FilePart:
    def chunks() -> Iterator[bytes]:
        block = os.urandom(piece)
        first = PNG_SIGNATURE + block[len(PNG_SIGNATURE) :]
        sent = 0
        while sent < size:
            take = min(piece, size - sent)
            data = first if sent == 0 else block
            yield data[:take] if take < piece else data
            sent += take

    return FilePart("attachments", "photo.png", "image/png", size, chunks)


def _upload(browser: Browser, size: int) -> tuple[int, float]:
    form = Multipart([("csrfmiddlewaretoken", browser.csrf), ("message", "")], [_png_like(size)])
    began = time.perf_counter()
    response = browser.post_multipart("/conversation/", form)
    return response.status, time.perf_counter() - began


def upload(stage: Stage, *, size: int) -> UploadResult:
    browser = Browser(stage.port, timeout=300)
    browser.login(stage.codename)
    browser.get("/conversation/")
    status, _ = _upload(browser, MIB)  # warm-up: imports and first-use paths, not measured
    if status != 302:
        raise RuntimeError(f"warm-up upload answered {status}")
    result = _upload_measured(stage, browser, size)
    if disturbed(result.cpu):  # other tenants took the machine: measure once more, and say so
        first = result
        result = _upload_measured(stage, browser, size)
        result.retried_others_cores = first.cpu.others_cores
    browser.close()
    return result


def _upload_measured(stage: Stage, browser: Browser, size: int) -> UploadResult:
    piece = 256 * 1024  # what intake/uploads.py's handler is fed per call
    wait_for_quiet(stage.server_pids())
    raw = inprocess.secretstream(size, piece=piece)
    raw_disk = inprocess.secretstream(size, piece=piece, sink_path=stage.var_dir / "raw-secretstream.bin")

    pids = stage.worker_pids()
    cpu_before = {pid: process_cpu_seconds(pid) for pid in pids}
    wait_for_quiet(stage.server_pids())
    with MemorySampler(pids) as sampler:
        time.sleep(0.3)
        window = CpuWindow(stage.server_pids())
        window.start()
        status, took = _upload(browser, size)
        cpu = window.stop()
        time.sleep(0.3)
    served_by = max(pids, key=lambda pid: process_cpu_seconds(pid) - cpu_before[pid])
    memory = sampler.result(served_by)
    others = [sampler.result(pid).growth for pid in pids if pid != served_by]

    blob_found, blob_bytes, has_png, partials = _inspect_newest_blob(stage.var_dir / "files")
    expected = sealbox.stream_size(size)  # padded to its bucket (docs/crypto.md "Length padding")
    return UploadResult(
        size=size,
        raw_seconds=raw.median,
        raw_cpu_seconds=raw.cpu_median,
        raw_disk_seconds=raw_disk.median,
        upload_seconds=took,
        cpu=cpu,
        status=status,
        memory=memory,
        other_workers_growth=max(others, default=0),
        blob_bytes=blob_bytes,
        blob_expected_bytes=expected,
        blob_has_png_header=has_png,
        partial_files_left=partials,
        blob_found=blob_found,
    )


def _inspect_newest_blob(store: Path) -> tuple[bool, int, bool, int]:
    blobs = [p for p in store.glob("*/*") if not p.suffix]
    partials = len([p for p in store.glob("*/*") if p.suffix == ".partial"])
    if not blobs:
        return False, 0, False, partials
    newest = max(blobs, key=lambda p: p.stat().st_mtime_ns)
    found = False
    tail = b""
    with newest.open("rb") as handle:
        while chunk := handle.read(4 * MIB):
            if PNG_SIGNATURE in tail + chunk:
                found = True
                break
            tail = chunk[-(len(PNG_SIGNATURE) - 1) :]
    return True, newest.stat().st_size, found, partials


# --- 4. Page weight --------------------------------------------------------------------------

BUDGET_BYTES = 20_000  # "20 KB": decimal kilobytes, the stricter reading
_ASSET = re.compile(rb'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"|<script[^>]*src="([^"]+)"|<img[^>]*src="([^"]+)"')


@dataclass
class PageWeight:
    page: str
    request: str
    state: str
    language: str
    status: int
    html: int = 0
    css: int = 0
    js: int = 0
    other: int = 0
    redirect: str = ""
    assets: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.html + self.css + self.js + self.other


def _weigh(
    browser: Browser, page: str, method: str, path: str, state: str, language: str, fields: dict[str, str] | None = None
) -> PageWeight:
    if method == "GET":
        response = browser.get(path)
    else:
        response = browser.post_form(path, fields or {})
    row = PageWeight(page, f"{method} {path}", state, language, response.status)
    if 300 <= response.status < 400:
        row.redirect = response.location
        return row
    row.html = len(response.body)
    for match in _ASSET.finditer(response.body):
        href = next(g for g in match.groups() if g).decode()
        asset = browser.request("GET", href)
        row.assets.append(href)
        if href.endswith(".css"):
            row.css += len(asset.body)
        elif href.endswith(".js"):
            row.js += len(asset.body)
        else:
            row.other += len(asset.body)
    return row


def page_weights(stage: Stage) -> list[PageWeight]:
    rows: list[PageWeight] = []
    for language in ("ru", "en"):
        out = Browser(stage.port, language=language)
        rows += [
            _weigh(out, "Landing", "GET", "/", "logged out", language),
            _weigh(out, "Secret phrase (start)", "GET", "/start/", "logged out", language),
            _weigh(out, "First request form", "GET", "/request/", "logged out", language),
            _weigh(
                out, "First request form, with errors", "POST", "/request/", "logged out", language, {"message": ""}
            ),
            _weigh(out, "Login", "GET", "/login/", "logged out", language),
            _weigh(
                out,
                "Login, phrase not found",
                "POST",
                "/login/",
                "logged out",
                language,
                {"codename": sealbox.generate_codename("ru")},
            ),
            _weigh(out, "Conversation", "GET", "/conversation/", "logged out", language),
            _weigh(out, "Not found (404)", "GET", "/no-such-page/", "logged out", language),
        ]
        expired = Browser(stage.port, language=language)
        expired.csrf = "x" * 64  # a form from a session that no longer exists
        rows.append(
            _weigh(
                expired,
                "Form expired (CSRF, 403)",
                "POST",
                "/login/",
                "logged out",
                language,
                {"codename": "a b c d e f"},
            )
        )
        expired.close()
        out.close()

        inside = Browser(stage.port, language=language)
        if inside.login(stage.codename).status != 302:
            raise RuntimeError("codename login failed")
        rows += [
            _weigh(inside, "Landing", "GET", "/", "logged in", language),
            _weigh(inside, "Conversation (seed: 2 messages)", "GET", "/conversation/", "logged in", language),
            _weigh(
                inside,
                "Conversation, empty message refused",
                "POST",
                "/conversation/",
                "logged in",
                language,
                {"message": ""},
            ),
            _weigh(inside, "Login", "GET", "/login/", "logged in", language),
            _weigh(inside, "Not found (404)", "GET", "/no-such-page/", "logged in", language),
        ]
        inside.close()
    return rows
