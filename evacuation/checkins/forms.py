"""Forms for the check-in schedule and the fate status. Errors are in the member's language;
a form shown again after an error keeps what was typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from evacuation.checkins.models import Fate
from evacuation.checkins.partner import DEFAULT_PARTNER_LANGUAGE, PARTNER_LANGUAGES

# Hours between check-ins the case team picks most often; "custom" takes any whole number.
PRESETS = (
    ("24", _("Every 24 hours (in transit)")),
    ("72", _("Every 72 hours (in hiding)")),
    ("custom", _("Another interval (hours below)")),
)
MAX_INTERVAL_HOURS = 24 * 30
MAX_GRACE_MINUTES = 24 * 60
INFORMATION_MAX_CHARS = 2_000
PARTNER_REFERENCE_MAX_CHARS = 200


class ScheduleForm(forms.Form):
    preset = forms.ChoiceField(label=_("How often"), choices=PRESETS, initial="72")
    custom_hours = forms.IntegerField(
        label=_("Hours between check-ins (for another interval)"),
        required=False,
        min_value=1,
        max_value=MAX_INTERVAL_HOURS,
    )
    grace_minutes = forms.IntegerField(
        label=_("Grace period in minutes (how late a check-in may be before staff are told)"),
        min_value=0,
        max_value=MAX_GRACE_MINUTES,
        initial=60,
    )
    active = forms.BooleanField(label=_("Active (untick to pause)"), required=False, initial=True)
    partner_address = forms.EmailField(
        label=_("Partner contact e-mail, told last if nobody answers (optional)"),
        required=False,
        max_length=254,
    )
    partner_reference = forms.CharField(
        label=_(
            "Reference agreed with the partner (the only thing their e-mail says about the person;"
            " no names or case numbers)"
        ),
        required=False,
        max_length=PARTNER_REFERENCE_MAX_CHARS,
    )
    partner_language = forms.ChoiceField(
        label=_("Language of the partner's e-mail"),
        choices=PARTNER_LANGUAGES,
        initial=DEFAULT_PARTNER_LANGUAGE,
        required=False,  # none chosen: English
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("preset") == "custom":
            if not data.get("custom_hours"):
                self.add_error("custom_hours", _("Enter the number of hours between check-ins."))
            else:
                data["interval_hours"] = data["custom_hours"]
        elif data.get("preset"):
            data["interval_hours"] = int(data["preset"])
        return data


def schedule_initial(
    interval_hours: int,
    grace_minutes: int,
    active: bool,
    partner_address: str,
    partner_reference: str = "",
    partner_language: str = DEFAULT_PARTNER_LANGUAGE,
) -> dict[str, Any]:
    preset = str(interval_hours) if str(interval_hours) in {"24", "72"} else "custom"
    return {
        "preset": preset,
        "custom_hours": interval_hours if preset == "custom" else None,
        "grace_minutes": grace_minutes,
        "active": active,
        "partner_address": partner_address,
        "partner_reference": partner_reference,
        "partner_language": partner_language or DEFAULT_PARTNER_LANGUAGE,
    }


class FateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Fate.choices)
    information = forms.CharField(
        label=_("On what information (who said it, when, how sure)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=INFORMATION_MAX_CHARS,
        error_messages={"required": _("Say on what information you set this status.")},
    )


class AcknowledgeForm(forms.Form):
    """No fields: the button alone; the form exists so the view validates like the others."""
