from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember
from casework.models import Case


def _handle(member: StaffMember) -> str:
    return member.username


class CaseAccessForm(forms.Form):
    case = forms.CharField(label=_("Case number"), max_length=12)
    member = forms.ModelChoiceField(label=_("Give its key to"), queryset=StaffMember.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[StaffMember]", self.fields["member"])
        field.queryset = StaffMember.objects.filter(is_active=True).order_by("username")
        field.label_from_instance = _handle  # type: ignore[method-assign,assignment]  # handles, not full names

    def clean_case(self) -> Case:
        case = Case.objects.filter(public_id=self.cleaned_data["case"].strip()).first()
        if case is None:
            raise forms.ValidationError(_("There is no case with this number."))
        return case


class ShareEntryForm(forms.Form):
    share = forms.CharField(
        label=_("Your share: the words on your paper, in order"),
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
    )
