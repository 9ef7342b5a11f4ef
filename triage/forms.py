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
