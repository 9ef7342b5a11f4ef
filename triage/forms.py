from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember
from casework.forms import CaseRevisionField
from triage.lifecycle import ClosingReason, State


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(label=_("New state"), choices=State.choices)
    reason = forms.ChoiceField(label=_("Closing reason"), choices=[("", "—"), *ClosingReason.choices], required=False)
    revision = CaseRevisionField()
    # Closing is the one move on the case page that ends the work: it is confirmed with a tick,
    # server-side, because the console works without JavaScript.
    confirm_close = forms.BooleanField(label=_("Yes, close the case"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to_state") == State.CLOSED and not data.get("confirm_close"):
            self.add_error("confirm_close", _("Tick the box to confirm that the case should be closed."))
        return data


class ShiftForm(forms.Form):
    """Times are entered and shown in the organisation's time zone (settings.TIME_ZONE)."""

    member = forms.ModelChoiceField(label=_("Staff member"), queryset=StaffMember.objects.none())
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = StaffMember.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts: datetime | None = data.get("starts_at")
        ends: datetime | None = data.get("ends_at")
        if starts and ends and ends <= starts:
            raise forms.ValidationError(_("A shift must end after it starts."))
        return data
