"""Console page where a staff member chooses how to be notified."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from accounts.access import staff_member, staff_required
from notifications import services
from notifications.forms import PreferenceForm
from notifications.models import Channel, NotificationPreference
from notifications.outbound import WebhookRefused
from notifications.reach import WORKING_STATES, ChannelState, channel_state


@staff_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    current = NotificationPreference.objects.filter(member=member).first()
    initial = {"channel": current.channel, "address": services.preference_address(current)} if current else {}
    form = PreferenceForm(request.POST or None, initial=initial or {"channel": Channel.NONE})
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_set(
                member=member,
                channel=form.cleaned_data["channel"],
                address=form.cleaned_data["address"],
                language=get_language() or "ru",
            )
        except WebhookRefused as refused:
            form.add_error("address", refused.message)
        else:
            return redirect("notifications:preferences")
    status = 400 if form.errors else 200
    state, since = channel_state(current)  # as the inbox and the staff page judge it
    context = {"form": form, "state": ChannelState(state), "working": state in WORKING_STATES, "since": since}
    return render(request, "notifications/preferences.html", context, status=status)
