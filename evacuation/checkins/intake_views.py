"""The person's one-tap check-in on the intake portal (no JavaScript, no identifier in the URL).

A danger-word login gets exactly the page a real login gets: the alarm is raised silently
by the service."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from evacuation.checkins import services
from evacuation.checkins.selectors import checkin_offered
from intake.entries import ConversationShown
from intake.session import person_session
from intake.views import _allow


def checkin_entry(shown: ConversationShown) -> str | None:
    """Registered with intake.entries.conversation_entries: the check-in button, when offered."""
    return "checkins/checkin_button.html" if checkin_offered(shown.case, decoy=shown.decoy) else None


@_allow("POST")
def checkin(request: HttpRequest) -> HttpResponse:
    session = person_session(request)
    if session is None:
        return redirect("login")
    services.checkin_record(session=session)
    return render(request, "checkins/checked_in.html")
