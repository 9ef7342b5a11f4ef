"""Stalled clients cost a connection for seconds, never the intake (core/serving.py).

Attacker: anonymous, with a few dozen connections that send a POST head with a Content-Length
and then nothing, or half a head, so that nobody else is answered. The tests serve the intake
face exactly as `make run` does (one worker: its four threads are fewer than the stalled
clients) and time the landing page against them, without tight timings: "within a few seconds"
where it waited forever before.
"""

from __future__ import annotations

import select
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

from core import serving
from core.management.commands.serve import THREADS_PER_WORKER
from tests.served import ServedFace, served_face

STALLED = 16
# How long the server may take to close a stalled connection: its deadline and some slack for
# a loaded machine (the worker's loop looks at deadlines about once a second).
CLOSED_WITHIN = max(serving.HEAD_SECONDS, serving.BODY_GRACE_SECONDS) + 10


def _stalled_post_head(face: ServedFace, cookie: str) -> socket.socket:
    """A POST head that Django will read the body of (a session with a CSRF secret), a
    Content-Length, and then nothing."""
    sock = face.connect()
    sock.sendall(
        b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\nCookie: %s\r\n\r\n"
        % (face.port, face.port, cookie.encode())
    )
    return sock


def _half_a_head(face: ServedFace) -> socket.socket:
    sock = face.connect()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n")
    return sock


def _closed_by_server(sock: socket.socket, until: float) -> bool:
    """Whether the server ends the connection (an answer, then end of data) before `until`."""
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return False
        sock.settimeout(remaining)
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True


@pytest.mark.django_db(transaction=True)
def test_sixteen_stalled_clients_neither_starve_the_landing_page_nor_stay(tmp_path: Path) -> None:
    assert STALLED > THREADS_PER_WORKER
    with served_face("intake", tmp_path, workers=1) as face:
        visitor = face.browser()
        visitor.csrf_token("/login/")  # a session whose CSRF secret makes Django read a POST body
        stalled = [_stalled_post_head(face, visitor.cookie_header()) for _ in range(STALLED // 2)]
        stalled += [_half_a_head(face) for _ in range(STALLED - len(stalled))]
        opened = time.monotonic()
        try:
            time.sleep(1)  # every stalled request has reached the server
            for _ in range(3):
                started = time.monotonic()
                assert face.browser().get("/", timeout=5).status == 200
                assert time.monotonic() - started < 5
            until = opened + CLOSED_WITHIN
            still_open = [number for number, sock in enumerate(stalled) if not _closed_by_server(sock, until)]
            assert not still_open, f"still held after {CLOSED_WITHIN} s: {still_open}"
            assert face.browser().get("/", timeout=5).status == 200
        finally:
            for sock in stalled:
                sock.close()
    assert "Traceback" not in face.log()


def test_a_slow_but_steady_body_keeps_its_deadline_ahead() -> None:
    """A 5 MB photo over a poor mobile link: 20 kB/s, with a 15-second dead spot on the way."""
    clock = serving.BodyClock(started=0.0)
    second, sent = 0, 0
    while sent < 5 * 1024 * 1024:
        second += 1
        if 100 <= second < 115:
            continue  # nothing arrives
        assert second < clock.deadline(), f"cut at {second} s after {sent} bytes"
        clock.arrived(20_000, float(second))
        sent += 20_000


def _cut_at(clock: serving.BodyClock, bytes_per_second: int) -> int:
    second = 0
    while second < clock.deadline():
        second += 1
        clock.arrived(bytes_per_second, float(second))
    return second


def test_a_stalled_or_trickling_body_is_cut_within_seconds() -> None:
    assert _cut_at(serving.BodyClock(started=0.0), 0) == serving.BODY_GRACE_SECONDS
    assert _cut_at(serving.BodyClock(started=0.0), 100) <= serving.BODY_GRACE_SECONDS + 2  # 100 bytes/s
    fast_start = serving.BodyClock(started=0.0)
    fast_start.arrived(10 * 1024 * 1024, 1.0)  # a fast start buys no minutes of silence
    assert fast_start.deadline() == 1.0 + serving.BODY_IDLE_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_slow_but_steady_body_arrives_whole(tmp_path: Path) -> None:
    """100 kB at about 8 kB/s: longer than the grace, more than the poller gathers, in pieces."""
    with served_face("intake", tmp_path, workers=1) as face:
        visitor = face.browser()
        visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        token = visitor.csrf_token("/login/")
        body = f"csrfmiddlewaretoken={token}&codename={'a' * 100_000}".encode()
        pieces = [body[start : start + 5_000] for start in range(0, len(body), 5_000)]
        assert len(body) > serving.EARLY_BODY_BYTES
        with face.connect() as sock:
            sock.sendall(
                f"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1:{face.port}\r\nOrigin: http://127.0.0.1:{face.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"Cookie: {visitor.cookie_header()}\r\nConnection: close\r\n\r\n".encode()
            )
            started = time.monotonic()
            for piece in pieces:
                sock.sendall(piece)
                time.sleep(0.6)
            assert time.monotonic() - started > serving.BODY_GRACE_SECONDS
            sock.settimeout(20)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    page = answer.decode("utf-8", "replace")
    # The login form's own answer to a codename that is not one, not the page for a cut body.
    assert page.startswith("HTTP/1.1 400"), page[:300]
    assert 'name="codename"' in page and "This could not be read" not in page


def _answer_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server answers before it closes the connection, waiting at most `seconds`."""
    sock.settimeout(seconds)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return answer


@pytest.mark.django_db(transaction=True)
def test_a_body_declared_larger_than_any_the_faces_accept_is_refused_at_once(tmp_path: Path) -> None:
    """Attacker: anonymous, declaring a 100 GB upload on more connections than there are threads,
    sending its first 70 KB and then trickling. Each is refused from the poller (413), and the
    landing page is answered meanwhile."""
    declared = 100 * 1024**3
    assert declared > settings.SP_REQUEST_BODY_MAX_BYTES
    boundary = "sp-stall-boundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff" * 70_000
    with served_face("intake", tmp_path, workers=1) as face:
        uploads = []
        for _ in range(2 * THREADS_PER_WORKER):
            sock = face.connect()
            sock.sendall(
                f"POST /request/ HTTP/1.1\r\nHost: 127.0.0.1:{face.port}\r\nOrigin: http://127.0.0.1:{face.port}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n".encode()
                + start
            )
            uploads.append(sock)
        try:
            started = time.monotonic()
            answers = [_answer_within(sock, 5) for sock in uploads]
            assert time.monotonic() - started < 15
            started = time.monotonic()
            assert face.browser().get("/", timeout=5).status == 200
            assert time.monotonic() - started < 5
        finally:
            for sock in uploads:
                sock.close()
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        page = answer.decode("utf-8")
        assert "Отправленное слишком велико" in page and "What you sent is too large" in page
    log = face.log()
    lines = [line for line in log.splitlines() if "request refused: body too large" in line]
    assert len(lines) == len(uploads), log
    assert f"{declared} bytes" in lines[0] and str(settings.SP_REQUEST_BODY_MAX_BYTES) in lines[0]
    assert "Traceback" not in log and "127.0.0.1" not in log


TOTAL_SECONDS = 15


@pytest.mark.django_db(transaction=True)
def test_a_body_trickling_just_above_the_minimum_rate_is_cut_at_the_total_deadline(tmp_path: Path) -> None:
    """Attacker: anonymous, keeping a thread by sending a body slightly faster than the minimum
    rate. With the total deadline made TOTAL_SECONDS here, the body is cut then and refused,
    where it would otherwise hold its thread until the whole body had trickled in."""
    rate = settings.SP_REQUEST_BODY_MIN_BYTES_PER_SECOND * 3 // 2
    env = {"SP_REQUEST_BODY_SECONDS": str(TOTAL_SECONDS)}
    with served_face("intake", tmp_path, workers=1, env=env) as face:
        visitor = face.browser()
        visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        token = visitor.csrf_token("/login/")
        body = f"csrfmiddlewaretoken={token}&codename={'a' * 200_000}".encode()
        assert len(body) / rate > 3 * TOTAL_SECONDS  # it would take far longer than the deadline
        with face.connect() as sock:
            sock.sendall(
                f"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1:{face.port}\r\nOrigin: http://127.0.0.1:{face.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"Cookie: {visitor.cookie_header()}\r\nConnection: close\r\n\r\n".encode()
            )
            started = time.monotonic()
            sent = 0
            while time.monotonic() - started < 3 * TOTAL_SECONDS:
                readable, _, _ = select.select([sock], [], [], 0.5)
                if readable:
                    break
                piece = body[sent : sent + rate // 2]
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
            answered = time.monotonic() - started
            answer = _answer_within(sock, 10)
    page = answer.decode("utf-8", "replace")
    assert TOTAL_SECONDS - 1 <= answered <= TOTAL_SECONDS + 8, (answered, page[:300])
    assert page.startswith("HTTP/1.1 400"), page[:300]
    assert "This could not be read" in page
    log = face.log()
    assert f"request cut off: its body was not whole within {TOTAL_SECONDS} s" in log, log
    assert "Traceback" not in log


def test_the_file_sweep_waits_longer_than_the_slowest_largest_upload_can_take() -> None:
    """The largest body the faces accept, arriving at just the minimum rate, is never cut; and
    the orphan sweep (casework/files.py) leaves its finished files alone until it is whole."""
    limits = serving.body_limits()
    clock = serving.BodyClock(started=0.0)
    second = 0
    while clock.received < limits.max_bytes:
        second += 1
        assert second < clock.deadline(), f"cut at {second} s after {clock.received} bytes"
        clock.arrived(limits.min_bytes_per_second, float(second))
    assert second <= limits.seconds
    assert settings.SP_LONGEST_REQUEST_SECONDS >= limits.seconds + 300
