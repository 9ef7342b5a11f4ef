from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from casework.forms import ConfirmForm
from vetting.models import CheckItem, RedFlagKind, SensitiveKind

_NO_SUGGESTIONS = {"autocomplete": "off", "spellcheck": "false"}


_TOO_LONG = ngettext_lazy(
    "This is too long (at most %(limit_value)d character).",
    "This is too long (at most %(limit_value)d characters).",
    "limit_value",
)


class CheckTickForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "check_%s")  # its note must not share an id with the staff note
        super().__init__(*args, **kwargs)

    item = forms.ChoiceField(
        label=_("Checklist item"),
        choices=CheckItem.choices,
        error_messages={"required": _("Choose an item."), "invalid_choice": _("Choose an item.")},
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write a short note: what was done, by whom."), "max_length": _TOO_LONG},
    )


class SignOffForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "signoff_%s")  # its reason must not share an id with the duress reason
        super().__init__(*args, **kwargs)

    reason = forms.CharField(
        label=_("Why you are satisfied the person is who they say"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for your sign-off."), "max_length": _TOO_LONG},
    )


class SensitiveItemForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SensitiveKind.choices,
        error_messages={"required": _("Choose a kind."), "invalid_choice": _("Choose a kind.")},
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, **_NO_SUGGESTIONS}),
        error_messages={"required": _("The text is empty."), "max_length": _TOO_LONG},
    )


class RedFlagDeleteForm(ConfirmForm):
    id_prefix = "delete"
    confirm_label = _("Yes, delete: cases with this contact will no longer be warned about")


class RedFlagForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=RedFlagKind.choices,
        error_messages={"required": _("Choose a kind."), "invalid_choice": _("Choose a kind.")},
    )
    value = forms.CharField(
        label=_("Phone number, handle or phrase"),
        max_length=500,
        widget=forms.TextInput(attrs=_NO_SUGGESTIONS),
        error_messages={"required": _("Enter the identifier."), "max_length": _TOO_LONG},
    )
