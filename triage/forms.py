from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember
from casework.forms import CaseRevisionField
from casework.lifecycle import ClosingReason, State
from triage.services import on_call_refused_message


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
    """Times are entered and shown in the organisation's time zone (settings.TIME_ZONE). Only
    members who may be on call (accounts.permissions.can_be_on_call) are offered; another
    active member is accepted by the field so that choosing one gets the plain refusal."""

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
        field = cast("forms.ModelChoiceField[StaffMember]", self.fields["member"])  # declared above
        field.queryset = StaffMember.objects.filter(is_active=True).order_by("username")
        field.widget.choices = [
            ("", field.empty_label),
            *((member.pk, str(member)) for member in field.queryset if permissions.can_be_on_call(member)),
        ]

    def clean_member(self) -> StaffMember:
        member: StaffMember = self.cleaned_data["member"]
        if not permissions.can_be_on_call(member):
            raise forms.ValidationError(on_call_refused_message())
        return member

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts: datetime | None = data.get("starts_at")
        ends: datetime | None = data.get("ends_at")
        if starts and ends and ends <= starts:
            raise forms.ValidationError(_("A shift must end after it starts."))
        return data
