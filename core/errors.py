"""The console's error pages, in the staff member's language and the console's look.

The intake has its own (intake.views): its pages keep the quick exit and say nothing about
staff. 400, 403 and 404 are framed by the console's layout. The 500 page is a template of its
own, rendered without the request: whatever failed (the database, a context processor) must not
also break the page that says so. The language is already active (core.middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "console/error.html", {"kind": "bad_request"}, status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "console/error.html", {"kind": "forbidden"}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "console/error.html", {"kind": "not_found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(loader.get_template("console/500.html").render())
