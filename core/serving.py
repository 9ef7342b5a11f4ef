"""The gunicorn worker both faces run: gunicorn's threaded worker with read deadlines.

gunicorn's gthread worker gives a connection a thread as soon as its first bytes arrive, and
the thread then blocks on the socket until the request is whole, with no time limit (its
`timeout` restarts only a stuck sync worker). Sixteen clients that sent a POST head with a
Content-Length and then nothing, or half a head, held every thread of both intake workers for
as long as they liked: nobody else got an answer for minutes.

Here a slow or stalled client costs one connection for seconds, and a thread hardly ever:

1. Until a request's head and the start of its body have arrived, the connection waits in the
   worker's poller (no thread): the first EARLY_BODY_BYTES of a body, which is all of a
   text-only form. A client that sends a head and then nothing never holds a thread.
2. The head must be whole within HEAD_SECONDS (from the connection's opening, or from the
   first byte of a later request on a kept-alive connection).
3. A declared Content-Length above the largest body the faces accept (settings.
   SP_REQUEST_BODY_MAX_BYTES: every file at its maximum, and the form) is refused at once from
   the poller, with a 413 and one log line, before a thread reads any of it.
4. The body must keep coming, by a minimum-rate rule (a 5 MB photo over a poor mobile link at
   20 kB/s takes four minutes and must still arrive): it is cut when nothing arrived for
   BODY_IDLE_SECONDS, or when it averages less than settings.SP_REQUEST_BODY_MIN_BYTES_PER_SECOND
   once BODY_GRACE_SECONDS have passed since it began. So a client that sends a head and then
   nothing is cut after BODY_GRACE_SECONDS, and one that sent part of a file and stopped,
   within BODY_IDLE_SECONDS. And whatever it sends, a body is cut once
   settings.SP_REQUEST_BODY_SECONDS have passed since it began: the largest body at the slowest
   rate, and a minute more. A client trickling just above the rate holds a thread no longer
   than a legitimate upload can take (and the sweep of files left by killed requests waits
   longer than that: settings.SP_LONGEST_REQUEST_SECONDS).
5. A cut body reaches the application as a body shorter than its Content-Length, which it
   refuses without storing anything (core/body.py), giving back what arrived; the connection
   is closed after that answer. A head cut short is simply closed.
6. Closing a connection after its last answer lingers in the poller, not in the worker's main
   loop: gunicorn's own graceful close waits there for up to two seconds per connection whose
   client does not close its side, and the worker accepts nobody meanwhile.

The limits are read from Django's settings on first use in a worker (the application is loaded
by then), so an environment override (SP_REQUEST_BODY_SECONDS, ...) reaches both.

A reverse proxy in front adds a second line of these limits; the faces do not depend on one.

Why gunicorn still, and not a server with such settings of its own: waitress, and Django under
an ASGI server (uvicorn, hypercorn), buffer a request body into a temporary file before the
application sees it, so an upload's plaintext would reach the disk; gunicorn streams the body
to the application, where the intake's upload handler encrypts it on the way in.

This worker reads the first bytes of a request itself, so it serves plain HTTP/1.1 only: TLS
ends at the proxy, and HTTP/2 and the uwsgi protocol are refused at start-up.
"""

from __future__ import annotations

import logging
import re
import selectors
import socket
import time
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from gunicorn.errors import ConfigError
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

HEAD_SECONDS = 10.0
BODY_GRACE_SECONDS = 10.0
BODY_IDLE_SECONDS = 20.0
EARLY_BODY_BYTES = 64 * 1024
# More than this, gathered in the poller, goes to a thread whatever it is: an oversized head
# is the parser's to refuse, under the head deadline.
EARLY_LIMIT = EARLY_BODY_BYTES + 64 * 1024
_RECV_BYTES = 64 * 1024
# After the last answer on a connection: how long, and how much, to read what the client still
# sends before closing, so the kernel does not reset the connection under the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
# A chunked body has no length to wait for, and a client that asks for "100 Continue" waits
# for the answer before its body: both go to a thread once the head is in.
_NO_EARLY_BODY = re.compile(rb"^(?:transfer-encoding|expect)[ \t]*:", re.IGNORECASE | re.MULTILINE)

logger = logging.getLogger("core.serving")


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    min_bytes_per_second: int
    seconds: int


@cache
def body_limits() -> BodyLimits:
    """The request-body limits of config/settings.py, the one place they are defined."""
    return BodyLimits(
        max_bytes=settings.SP_REQUEST_BODY_MAX_BYTES,
        min_bytes_per_second=settings.SP_REQUEST_BODY_MIN_BYTES_PER_SECOND,
        seconds=settings.SP_REQUEST_BODY_SECONDS,
    )


class BodyClock:
    """By when a request body's next bytes must have arrived."""

    def __init__(self, started: float, received: int = 0) -> None:
        limits = body_limits()
        self.min_rate = limits.min_bytes_per_second
        self.ends = started + limits.seconds
        self.started = started
        self.received = received
        self.last = started

    def arrived(self, count: int, now: float) -> None:
        if count:
            self.received += count
            self.last = now

    def deadline(self) -> float:
        by_rate = self.started + BODY_GRACE_SECONDS + self.received / self.min_rate
        return min(by_rate, self.last + BODY_IDLE_SECONDS, self.ends)


def _too_large(head: bytes) -> int | None:
    """The declared Content-Length, when one is above the largest body the faces accept."""
    limit = body_limits().max_bytes
    for digits in _CONTENT_LENGTH.findall(head):
        # A length of more than 15 digits is far above any limit (and int() of thousands of
        # digits is slow): it is refused without being read as a number.
        declared = int(digits) if len(digits) <= 15 else 10**15
        if declared > limit:
            return declared
    return None


@cache
def _too_large_answer() -> bytes:
    """A small page in both languages: the poller does not know which one the person reads."""
    mb = body_limits().max_bytes // (1024 * 1024)
    message = "What you sent is too large: everything together can be at most %(mb)d MB. Please go back and choose fewer or smaller files."
    texts = []
    for language in ("ru", "en"):
        with translation.override(language):
            texts.append(f'<p lang="{language}">{gettext(message) % {"mb": mb}}</p>')
    page = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>413</title></head>'
        f"<body>{''.join(texts)}</body></html>"
    ).encode()
    head = (
        "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(page)}\r\nConnection: close\r\nCache-Control: no-store\r\n"
        "Content-Security-Policy: default-src 'none'\r\nX-Frame-Options: DENY\r\n"
        "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\r\n"
    )
    return head.encode() + page


def _early_body_bytes(head: bytes) -> int:
    """How much of the body to gather before a thread takes the request: the start of a body
    of one known length; nothing for a chunked body, an Expect header, or a head whose
    lengths are missing or repeated (the parser decides about those)."""
    if _NO_EARLY_BODY.search(head):
        return 0
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or len(lengths[0]) > 15:
        return 0
    return min(int(lengths[0]), EARLY_BODY_BYTES)


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader, with every read bounded by the request's head deadline or its
    body's clock. Past the deadline it reports the end of the data (and keeps doing so), so the
    parser sees a cut head and the application a body shorter than its Content-Length."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
        self.head_deadline = 0.0
        self.clock: BodyClock | None = None
        self.cut = False

    def begin(self, head_deadline: float, clock: BodyClock | None, early: bytes) -> None:
        self.head_deadline = head_deadline
        self.clock = clock
        self.cut = False
        if early:
            self.unread(early)

    def body_begins(self) -> None:
        if self.clock is None:  # the head was read here, not gathered by the poller
            self.clock = BodyClock(time.monotonic())

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.cut:
            return b""
        deadline = self.clock.deadline() if self.clock else self.head_deadline
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return self._cut()
        prior = self.sock.gettimeout()  # finish_body() bounds its drain with a timeout of its own
        self.sock.settimeout(remaining if prior is None else min(prior, remaining))
        try:
            data: bytes = super().chunk(size_hint)
        except TimeoutError:
            if prior is not None and prior < remaining:
                raise  # the caller's own timeout, which it handles
            return self._cut()
        finally:
            self.sock.settimeout(prior)
        if self.clock is not None:
            self.clock.arrived(len(data), time.monotonic())
        return data

    def _cut(self) -> bytes:
        self.cut = True
        if self.clock is None:
            logger.info("request cut off: its head was not complete within %d s", HEAD_SECONDS)
        elif time.monotonic() >= self.clock.ends:
            logger.info("request cut off: its body was not whole within %d s", self.clock.ends - self.clock.started)
        else:
            logger.info("request cut off: its body stalled after %d bytes", self.clock.received)
        return b""


class DeadlineThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, with the read deadlines described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections gathering a head and the start of a body in the poller, oldest first.
        self.gathering: dict[TConn, None] = {}
        # Connections answered for the last time, reading what the client still sends.
        self.lingering: dict[TConn, None] = {}

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl or cfg.protocol != "http" or cfg.http2_cleartext != "off" or cfg.http_protocols != ["h1"]:
            raise ConfigError("core.serving.DeadlineThreadWorker serves plain HTTP/1.1 only (TLS ends at the proxy)")

    # -- the poller's side (the worker's main thread) ------------------------------------------

    def enqueue_req(self, conn: TConn) -> None:
        """Every path that hands a connection to a thread comes here: a new connection, a kept-
        alive one that became readable, a request pipelined behind the one just answered."""
        now = time.monotonic()
        conn.head_deadline = now + HEAD_SECONDS
        conn.clock = None
        conn.early = bytearray()
        conn.early_wanted = 0
        conn.too_large = None
        if conn.initialized and conn.parser.unreader.buf.getvalue():
            super().enqueue_req(conn)  # its next request is already read: under the deadlines in the thread
            return
        self._gather(conn)

    def _gather(self, conn: TConn) -> None:
        """Take what has arrived, without waiting; hand the connection to a thread once its
        request can be served without waiting for the client."""
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            data = None
        except OSError:  # reset by the client
            self._close(conn)
            return
        if data == b"":  # the client closed its side (or shut down its sending half)
            if conn.early:
                self._dispatch(conn)  # a cut head is closed; a cut body is refused by the application
            else:
                self._close(conn)
            return
        if data:
            conn.early += data
            self._arrived(conn, len(data), time.monotonic())
        if conn.too_large is not None:
            self._refuse_too_large(conn)
        elif self._ready(conn):
            self._dispatch(conn)
        elif conn not in self.gathering:
            self.gathering[conn] = None
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _arrived(self, conn: TConn, count: int, now: float) -> None:
        if conn.clock is not None:
            conn.clock.arrived(count, now)
            return
        end = conn.early.find(_HEAD_END)
        if end >= 0:
            conn.clock = BodyClock(now, received=len(conn.early) - end - len(_HEAD_END))
            head = bytes(conn.early[:end])
            conn.early_wanted = _early_body_bytes(head)
            conn.too_large = _too_large(head)

    def _refuse_too_large(self, conn: TConn) -> None:
        """A body larger than any the faces accept: answered from here, no thread reads it."""
        self._stop_gathering(conn)
        logger.info(
            "request refused: body too large (%d bytes > limit %d bytes)", conn.too_large, body_limits().max_bytes
        )
        try:
            conn.sock.send(_too_large_answer())
        except OSError:
            pass  # the client is gone, or its window is full: it gets no answer
        self._linger(conn)

    def _ready(self, conn: TConn) -> bool:
        if len(conn.early) >= EARLY_LIMIT:
            return True
        return conn.clock is not None and conn.clock.received >= conn.early_wanted

    def _on_readable(self, conn: TConn, _sock: Any) -> None:
        self._gather(conn)

    def _stop_gathering(self, conn: TConn) -> None:
        if conn in self.gathering:
            del self.gathering[conn]
            self.poller.unregister(conn.sock)

    def _dispatch(self, conn: TConn) -> None:
        self._stop_gathering(conn)
        conn.data_ready = True  # gunicorn's own wait for a first byte is over
        super().enqueue_req(conn)

    def _close(self, conn: TConn) -> None:
        self._stop_gathering(conn)
        self.nr_conns -= 1
        conn.close()

    def finish_request(self, conn: TConn, fs: Any) -> None:
        """Back from a thread: a connection to close lingers in the poller (see 5. above)."""
        if fs.cancelled() or fs.exception() is not None or fs.result():
            super().finish_request(conn, fs)  # kept alive, or failed (closed at once)
            return
        self._linger(conn)

    def _linger(self, conn: TConn) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return
        conn.linger_until = time.monotonic() + LINGER_SECONDS
        conn.lingered = 0
        self.lingering[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_linger_readable, conn))

    def _on_linger_readable(self, conn: TConn, _sock: Any) -> None:
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.lingered += len(data)
        if not data or conn.lingered >= LINGER_BYTES:
            self._end_linger(conn)

    def _end_linger(self, conn: TConn) -> None:
        del self.lingering[conn]
        self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Called by the worker's loop about once a second: also ends the lingering and the
        gathering whose time is up. A stalled head is closed; a stalled body goes to a thread,
        past its deadline, so the application answers that it did not arrive whole."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn in self.lingering if conn.linger_until <= now]:
            self._end_linger(conn)
        for conn in list(self.gathering):
            if not self.alive:
                self._close(conn)  # stopping: nothing of its request was read yet
            elif conn.clock is None and conn.head_deadline <= now:
                if conn.early:
                    logger.info("request cut off: its head was not complete within %d s", HEAD_SECONDS)
                self._close(conn)
            elif conn.clock is not None and conn.clock.deadline() <= now:
                self._dispatch(conn)

    # -- a thread's side ---------------------------------------------------------------------------

    def handle(self, conn: TConn) -> Any:
        early, conn.early = bytes(conn.early), bytearray()
        conn.sock.setblocking(True)
        conn.init()
        unreader = conn.parser.unreader
        if not isinstance(unreader, DeadlineUnreader):
            unreader = conn.parser.unreader = DeadlineUnreader(conn.sock)
        unreader.begin(conn.head_deadline, conn.clock, early)
        keep_alive = super().handle(conn)
        if unreader.cut:
            return False  # the rest of a cut body may still come: never read it as a request
        return keep_alive

    def handle_request(self, req: Any, conn: TConn) -> Any:
        conn.parser.unreader.body_begins()
        return super().handle_request(req, conn)
