"""Turns a refusal for an uncertified row, or a sealed record that does not open, into a page
that says what happened.

keys.UntrustedRecord is raised wherever a row that decides who reads a case (the case row, a
key version, a wrap, a credential, an account's state) fails its certificate;
sealed.RecordDoesNotOpen wherever a record sealed to a key version the member holds does not
open (it was changed outside the console). The request's transaction has rolled back by then;
this answers 409 with a plain explanation in the reader's language, on the console the staff
page and on the intake the person's own error page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casework.keys import UntrustedRecord
from casework.sealed import RecordDoesNotOpen
from core.faces import is_intake


class UntrustedRecordMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (UntrustedRecord, RecordDoesNotOpen)):
            return None
        if is_intake(request):
            return render(request, "intake/error.html", {"kind": "unavailable"}, status=409)
        if isinstance(exception, RecordDoesNotOpen):
            return render(request, "casework/record_does_not_open.html", status=409)
        return render(request, "casework/untrusted_record.html", status=409)
