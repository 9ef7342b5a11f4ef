"""Real Chromium against both faces, served on loopback by this test process.

Each face gets its own HTTP server thread bound to its own URLconf, as the two production
processes would be; the server threads reach the same test database as the test itself
(hence transactional tests: the threads see only committed rows). Nothing leaves 127.0.0.1:
even the quick-exit destination is a tiny local server.

Playwright's sync API marks its asyncio loop as running in this thread between calls, which
trips Django's async-safety guard on every ORM call the test makes itself (fixtures, asserts
on the database). The guard is lifted only while a browser test runs, through monkeypatch, and
the connections opened meanwhile are closed before Playwright stops (see `browser`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseServer
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections
from django.http import HttpResponse
from django.test.testcases import QuietWSGIRequestHandler
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.personas import CONSOLE, INTAKE, Staff, totp_now

CHROMIUM = Path("/usr/bin/chromium")
# No network chatter of Chromium's own (updates, sync, QUIC probes): the tests stay on loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000
EXIT_PATH = "/pogoda/"


class FaceHandler(WSGIHandler):
    """Django's WSGI handler serving one face's URLconf, whatever settings.ROOT_URLCONF says."""

    def __init__(self, urlconf: str) -> None:
        super().__init__()
        self.urlconf = urlconf

    def get_response(self, request: WSGIRequest) -> HttpResponse:
        # BaseHandler.resolve_request() routes by request.urlconf and installs it for reverse(),
        # so redirects and error handlers stay within this face.
        request.urlconf = self.urlconf
        return super().get_response(request)


class FaceServer(ThreadedWSGIServer):
    # Non-daemon request threads are joined by server_close(): each closes its database
    # connection on its way out, so the flush after the test (and PostgreSQL's DROP DATABASE
    # at the end of the run) never meets a connection left open by a server thread.
    daemon_threads = False


def _serve(server: BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name=f"browser-test-{server.server_address}", daemon=True)
    thread.start()
    return thread


def _stop(server: BaseServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@dataclass(frozen=True)
class Faces:
    intake: str
    console: str


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    reason = f"Debian's Chromium is not installed at {CHROMIUM}: run `make browser-deps` (scripts/install-chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. CI must run the browser tests, not skip them.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def faces(transactional_db: None) -> Iterator[Faces]:
    """Both faces on 127.0.0.1, each on a port of its own."""
    started = []
    urls = []
    for urlconf in (INTAKE, CONSOLE):
        server = FaceServer(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
        server.set_app(FaceHandler(urlconf))
        started.append((server, _serve(server)))
        urls.append(f"http://127.0.0.1:{server.server_address[1]}")
    yield Faces(intake=urls[0], console=urls[1])
    for server, thread in started:
        _stop(server, thread)


class _WeatherServer(ThreadingHTTPServer):
    referers: list[str | None]


class _WeatherPage(BaseHTTPRequestHandler):
    server: _WeatherServer

    def do_GET(self) -> None:
        if self.path == EXIT_PATH:  # not the favicon the browser may ask for on its own
            self.server.referers.append(self.headers.get("Referer"))
        body = b"<!doctype html><title>Weather</title><p>weather</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test output is for failures
        pass


@dataclass(frozen=True)
class ExitSite:
    url: str
    referers: list[str | None]  # the Referer header of each visit: the portal must send none


@pytest.fixture
def exit_site(settings: Any) -> Iterator[ExitSite]:
    """An ordinary-looking website on loopback, set as the quick-exit destination."""
    server = _WeatherServer(("127.0.0.1", 0), _WeatherPage)
    server.referers = []
    thread = _serve(server)
    site = ExitSite(url=f"http://127.0.0.1:{server.server_address[1]}{EXIT_PATH}", referers=server.referers)
    settings.SP_QUICK_EXIT_URL = site.url
    yield site
    _stop(server, thread)


@pytest.fixture
def browser(chromium_path: str, faces: Faces, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """One Chromium per test. It depends on `faces` so that it closes first: its connections
    end, the server threads finish, then the servers stop and the database is flushed."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop counts as running, asgiref gives this thread a second,
            # context-bound set of database connections. Close them before the loop stops, or
            # they outlive the test and PostgreSQL refuses to drop the test database.
            connections.close_all()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """A fresh browser profile (cookies, history) per call; JavaScript off unless asked for,
    as in Tor Browser's "Safest" setting. Every person and every staff member gets their own:
    both faces run on 127.0.0.1, and cookies do not tell ports apart."""
    opened: list[BrowserContext] = []

    def make(*, javascript: bool = False, **options: Any) -> BrowserContext:
        context = browser.new_context(java_script_enabled=javascript, accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def console_log_in(page: Page, console_url: str, staff: Staff) -> None:
    """A staff member logs in as they would: handle, password and the phone's current code."""
    page.goto(f"{console_url}/login/")
    page.locator("#id_username").fill(staff.member.username)
    page.locator("#id_password").fill(staff.password)
    page.locator("#id_code").fill(staff.code())
    page.locator("form[action='/login/'] button").click()
    expect(page).to_have_url(f"{console_url}/inbox/")


def screenshot(page: Page, name: str) -> None:
    """The whole page as a PNG under var/test/browser/, to look at."""
    shots = Path(settings.VAR_DIR) / "browser"
    (shots / name).parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=shots / f"{name}.png", full_page=True)


def current_code(username: str) -> str:
    """The code the member's authenticator app shows now."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return totp_now(TOTPDevice.objects.get(user__username=username))


def sign_up(page: Page, url: str, username: str, password: str, email_address: str, *, shots: str = "") -> None:
    """From a one-time link: handle and password, a channel for alerts, then the phone's code,
    then past the recovery codes (shown once). ``shots``: a folder for screenshots, or none."""
    page.goto(url)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    if page.locator("#id_password_again").count():
        page.locator("#id_password_again").fill(password)
    page.locator("input[name=channel][value=email]").check()
    page.locator("input[name=address]").fill(email_address)
    if shots:
        screenshot(page, f"{shots}/signup-{username}")
    page.locator("main form button").first.click()
    page.locator("#id_code").fill(current_code(username))
    page.locator("main form button").first.click()
    expect(page.locator("main ol code").first).to_be_visible()  # recovery codes, shown once
    page.locator("main a", has_text=re.compile("Continue|Продолжить")).click()


def make_recovery_key(page: Page, *, shots: str = "") -> None:
    """The first coordinator's recovery key at /enrol/recovery/: the default plan (2 of 3), then
    a page per trustee: write the words down, type two of them back."""
    if shots:
        screenshot(page, f"{shots}/coordinator-recovery-plan")
    page.locator("form:has(input[name=action][value=plan]) input[type=checkbox]").first.check()
    page.locator("form:has(input[name=action][value=plan]) button").click()
    for number in (1, 2, 3):
        expect(page.locator("h1")).to_contain_text(str(number))
        if number == 1 and shots:
            screenshot(page, f"{shots}/coordinator-recovery-share")
        words = page.locator("ol.share-words code").all_inner_texts()
        assert len(words) == 33
        page.locator("#id_written").check()
        for field in page.locator("input[name^=word_]").all():
            field.fill(words[int(str(field.get_attribute("name")).removeprefix("word_"))])
        page.locator("form:has(input[name=action][value=confirm]) button").click()
    expect(page.locator("main")).to_contain_text("SP_RECOVERY_PUBLIC_KEY=")
    if shots:
        screenshot(page, f"{shots}/coordinator-recovery-done")


def person_asks_for_help(page: Page, intake: str, message: str, *, shots: str = "") -> str:
    """From the landing page: a secret phrase, a first request "in danger now", then log out.
    Gives the phrase, as the person would have written it down."""
    page.goto(f"{intake}/")
    page.locator("a[href='/start/']").click()
    words = page.locator(".codename span").all_inner_texts()
    assert words
    page.locator("a[href='/request/']").click()
    page.locator("input[name=urgency][value=danger_now]").check()
    page.locator("#id_region").select_option("chechnya")
    page.locator("#id_message").fill(message)
    page.locator("form[action='/request/'] button[type=submit]").click()
    expect(page).to_have_url(f"{intake}/conversation/")
    expect(page.locator("main")).to_contain_text(message)
    if shots:
        screenshot(page, f"{shots}/person-sent")
    page.locator("a[href='/logout/'], form[action='/logout/'] button").first.click()
    expect(page).to_have_url(f"{intake}/")
    return " ".join(words)
