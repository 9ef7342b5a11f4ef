"""Request bodies that arrived whole, or are refused.

A body can end early: the connection broke, a proxy gave up, or the server cut off a client
that stopped sending (core/serving.py). The server then hands Django fewer bytes than the
Content-Length, and Django parses them as if they were all: a 1,911-character message cut off
inside its text field was stored as 1,697 characters and answered "Sent". The same goes for a
multipart body that ends without its closing delimiter: Django takes the last part as complete.

BodyReceiptMiddleware counts the bytes Django reads and watches for the closing delimiter. A
form whose body did not arrive whole is refused before its view runs, with nothing stored; the
views a person types long text into (the intake's first request and reply, the console's
reply) check `body_incomplete()` themselves and give the form back with what arrived in it.
A refusal never ends a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

NOT_WHOLE = _("Your message did not arrive whole. Please check it and send again.")

View = Callable[..., HttpResponseBase]


class BodyReceipt:
    """Wraps the stream Django reads a request body from: how many bytes came, and whether a
    multipart body reached its closing delimiter ("--boundary--")."""

    def __init__(self, stream: Any, declared: int, boundary: bytes | None) -> None:
        self._stream = stream
        self.declared = declared
        self.received = 0
        self._closing = b"--" + boundary + b"--" if boundary else b""
        self.closed = not boundary
        self._tail = b""

    def _seen(self, data: bytes) -> bytes:
        self.received += len(data)
        if not self.closed and data:
            window = self._tail + data
            self.closed = self._closing in window
            self._tail = window[-(len(self._closing) - 1) :]
        return data

    def read(self, size: int = -1, /) -> bytes:
        return self._seen(self._stream.read(size))

    def readline(self, size: int = -1, /) -> bytes:
        return self._seen(self._stream.readline(size))

    def __getattr__(self, name: str) -> Any:  # close(), seekable() and the like
        return getattr(self._stream, name)

    @property
    def incomplete(self) -> bool:
        """Once the body has been read: shorter than its Content-Length, or a multipart body
        without its closing delimiter."""
        return self.received < self.declared or (self.declared > 0 and not self.closed)


def _boundary(request: HttpRequest) -> bytes | None:
    if request.content_type != "multipart/form-data":
        return None
    boundary = (request.content_params or {}).get("boundary", "")
    return boundary.encode("ascii", "replace") if boundary else None


def _declared(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # Django then reads no body at all


_FORMS = {"multipart/form-data", "application/x-www-form-urlencoded"}


def body_incomplete(request: HttpRequest) -> bool:
    """Whether this request's form body did not arrive whole. Reads the body if nothing has
    yet (as request.POST would); a view that installs upload handlers calls it afterwards.
    Other kinds of body are not read by request.POST, and no view here reads them."""
    receipt: BodyReceipt | None = getattr(request, "body_receipt", None)
    if receipt is None or request.content_type not in _FORMS:
        return False
    request.POST  # noqa: B018 (parsing reads the whole body through the receipt)
    return receipt.incomplete


def handles_incomplete_body(view: View) -> View:
    """For a view that checks body_incomplete() itself and gives its form back with what
    arrived; BodyReceiptMiddleware then lets its requests through."""
    view.handles_incomplete_body = True  # type: ignore[attr-defined]  # a mark read by BodyReceiptMiddleware
    return view


class BodyReceiptMiddleware:
    """After CsrfViewMiddleware: a request whose CSRF token was accepted and whose body did not
    arrive whole never reaches its view, unless the view handles that itself. Views exempt
    from the CSRF middleware read their bodies through upload handlers of their own, which
    must be in place before the body is read: they check body_incomplete() themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = _declared(request)
        if declared:
            # Django reads the body through request._stream (a LimitedStream over wsgi.input);
            # nothing has read from it yet at this point of the middleware chain.
            receipt = BodyReceipt(request._stream, declared, _boundary(request))
            request._stream = receipt  # type: ignore[assignment]  # reads through the stream, delegates the rest
            request.body_receipt = receipt  # type: ignore[attr-defined]  # read by body_incomplete()
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: View, args: Any, kwargs: Any) -> HttpResponse | None:
        if getattr(request, "body_receipt", None) is None or request.method != "POST":
            return None
        if getattr(view, "csrf_exempt", False) or getattr(view, "handles_incomplete_body", False):
            return None
        if body_incomplete(request):
            # The face's own 400 page ("did not arrive whole ... nothing was kept"); what
            # arrived is not shown, as the form it came from is not known here.
            raise BadRequest("the request body did not arrive whole")
        return None
