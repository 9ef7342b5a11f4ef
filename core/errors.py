"""The console's error pages, in the staff member's language and the console's look.

The intake has its own (intake.views): its pages keep the quick exit and say nothing about
staff. The console's are one plain template rendered without the request: whatever failed (the
database, a context processor) must not also break the page that says so, and the page does
not echo the address asked for (it may name a case the member may not know of). The language
is already active (core.middleware.LanguageMiddleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _error_page(kind: str, status: int) -> HttpResponse:
    return HttpResponse(loader.get_template("console/error.html").render({"kind": kind}), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("bad_request", 400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("forbidden", 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page("not_found", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page("server_error", 500)
