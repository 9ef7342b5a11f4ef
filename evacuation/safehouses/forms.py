"""Forms of the safe-house pages and the placement form on the case page."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.team_forms import _PLACE_STEMS
from evacuation.safehouses.models import SafeHouse


class SafeHouseForm(forms.Form):
    code_name = forms.CharField(
        label=_("Code name"),
        max_length=60,
        help_text=_(
            "Stored without encryption: use a neutral label (“House 3”, “Oak”), never a place or a person's name."
        ),
        error_messages={
            "required": _("Give the safe house a code name."),
            "max_length": _("The code name is too long (at most 60 characters)."),
        },
    )
    capacity = forms.IntegerField(
        label=_("Places (how many people can stay)"),
        min_value=1,
        max_value=100,
        error_messages={
            "required": _("Say how many people can stay."),
            "invalid": _("Write a whole number."),
            "min_value": _("A safe house has room for at least one person."),
            "max_value": _("At most 100 places."),
        },
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            "Encrypted: only logistics staff, coordinators and the team of a verified case placed here can read it."
        ),
        error_messages={
            "required": _("Write the address."),
            "max_length": _("The address is too long (at most 500 characters)."),
        },
    )
    notes = forms.CharField(
        label=_("Notes (encrypted, for logistics and coordinators)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        error_messages={"max_length": _("The notes are too long (at most 4000 characters).")},
    )

    def clean_code_name(self) -> str:
        name = " ".join(self.cleaned_data["code_name"].split())
        if any(stem in name.casefold() for stem in _PLACE_STEMS):
            raise forms.ValidationError(_("Do not name a place: the code name is stored without encryption."))
        return name


class SafeHouseEditForm(SafeHouseForm):
    """The add form plus the revision it was rendered with. The address and notes are in it
    only after the editor chose to open them (an audited viewing): ``with_address``."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    with_address = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, with_address: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_address:
            del self.fields["address"]
            del self.fields["notes"]


class SafeHouseCloseForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    confirm = forms.BooleanField(
        label=_("Yes, close this safe house"),
        error_messages={"required": _("Tick the box to confirm that the safe house is closed.")},
    )


class _HouseChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: SafeHouse) -> str:
        return str(
            _("%(name)s (%(free)s of %(capacity)s places free)")
            % {
                "name": obj.code_name,
                "free": max(obj.capacity - getattr(obj, "occupied", 0), 0),
                "capacity": obj.capacity,
            }
        )


class PlacementForm(forms.Form):
    safe_house = _HouseChoice(
        label=_("Safe house"),
        queryset=SafeHouse.objects.none(),
        error_messages={"required": _("Choose a safe house."), "invalid_choice": _("Choose a safe house.")},
    )
    starts_on = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Say from when."), "invalid": _("Write the date as YYYY-MM-DD.")},
    )
    until = forms.DateField(
        label=_("Until (planned)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Write the date as YYYY-MM-DD.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from evacuation.safehouses.selectors import houses_with_occupancy

        super().__init__(*args, **kwargs)
        houses = houses_with_occupancy().filter(closed_at__isnull=True)
        cast(_HouseChoice, self.fields["safe_house"]).queryset = houses  # declared above

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, until = cleaned.get("starts_on"), cleaned.get("until")
        if starts_on and until and until < starts_on:
            self.add_error("until", _("The planned end is before the start."))
        return cleaned
