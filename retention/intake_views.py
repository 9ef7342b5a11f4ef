"""The person's "Delete what I wrote here" on the intake (retention.person): a confirmation
page and a form POST, no JavaScript, nothing about the person in the URL.

A danger-word login gets exactly the pages a real login gets, and the same "deleted" page
afterwards: the codename stops working in both cases, and what differs (nothing is deleted
under duress, and the case is flagged) happens on the server only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casework import keys
from core.vault import vault_clear
from intake.session import person_session
from intake.views import _allow
from retention import person


@_allow("GET", "POST")
def forget(request: HttpRequest) -> HttpResponse:
    session = person_session(request)
    if session is None:
        return redirect("login")
    if request.method == "GET":
        return render(request, "retention/forget.html")
    try:
        person.person_deletion(session)
    except keys.UntrustedRecord:
        # The case's records were changed outside the console: nothing is done (and nothing
        # half-done is kept); the person may try again, and staff see the warning on the case.
        return render(request, "intake/error.html", {"kind": "unavailable"}, status=503)
    vault_clear(request)
    return render(request, "retention/forgotten.html")
