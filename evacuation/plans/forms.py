"""Forms for plans, legs, plan templates and destinations. Errors are in the member's language;
a form shown again after an error or an edit conflict keeps everything that was typed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from evacuation.plans.models import (
    Destination,
    DocumentKind,
    LegDocument,
    LegStatus,
    Mode,
    PlanTemplate,
    document_status_choices,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

PLACE_MAX_CHARS = 120
NOTES_MAX_CHARS = 2_000
RULES_MAX_CHARS = 5_000
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
TEMPLATE_LEG_ROWS = 2  # empty rows offered after the template's legs


class _Revision(forms.IntegerField):
    """The revision an edit form started from (hidden)."""

    def __init__(self) -> None:
        message = _("The form is incomplete: open the edit page again.")
        super().__init__(
            widget=forms.HiddenInput,
            min_value=1,
            error_messages={"required": message, "invalid": message, "min_value": message},
        )


def _date(label: str | StrPromise) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )


def _place(label: str | StrPromise, required_message: str | StrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PLACE_MAX_CHARS,
        error_messages={
            "required": required_message,
            "max_length": _("The place name is too long (at most %(limit_value)d characters)."),
        },
    )


def _mode() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("How"),
        choices=Mode.choices,
        error_messages={
            "required": _("Choose how this leg is travelled."),
            "invalid_choice": _("Choose how this leg is travelled."),
        },
    )


def _documents() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Documents needed for this leg"),
        required=False,
        choices=DocumentKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose documents from the list.")},
    )


def _destination() -> forms.ModelChoiceField[Destination]:
    return forms.ModelChoiceField(
        label=_("Destination from the list (optional)"),
        required=False,
        queryset=Destination.objects.all(),
        empty_label=_("— none —"),
        error_messages={"invalid_choice": _("This destination no longer exists.")},
    )


class LegForm(forms.Form):
    mode = _mode()
    from_place = _place(_("From"), _("Write where this leg starts."))
    to_place = _place(_("To"), _("Write where this leg ends."))
    destination = _destination()
    planned_departure = _date(_("Planned departure"))
    planned_arrival = _date(_("Planned arrival"))
    documents = _documents()
    notes = forms.CharField(
        label=_("Notes (optional)"),
        required=False,
        max_length=NOTES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("The notes are too long (at most %(limit_value)d characters).")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        departure, arrival = data.get("planned_departure"), data.get("planned_arrival")
        if departure and arrival and arrival < departure:
            self.add_error("planned_arrival", _("The arrival date is before the departure date."))
        return data


class LegEditForm(LegForm):
    revision = _Revision()


class LegProgressForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Leg status"),
        choices=LegStatus.choices,
        error_messages={"required": _("Choose the leg's status."), "invalid_choice": _("Choose the leg's status.")},
    )
    actual_departure = _date(_("Actual departure"))
    actual_arrival = _date(_("Actual arrival"))
    revision = _Revision()

    def __init__(self, *args: Any, documents: list[LegDocument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for document in documents:
            self.fields[f"doc_{document.kind}"] = forms.ChoiceField(
                label=document.get_kind_display(),
                choices=document_status_choices(document.kind),
                initial=document.status,
                error_messages={"invalid_choice": _("Choose the document's status.")},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        departure, arrival = data.get("actual_departure"), data.get("actual_arrival")
        if departure and arrival and arrival < departure:
            self.add_error("actual_arrival", _("The arrival date is before the departure date."))
        return data

    def document_statuses(self) -> dict[str, str]:
        return {
            name.removeprefix("doc_"): value for name, value in self.cleaned_data.items() if name.startswith("doc_")
        }


class TemplateApplyForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Plan template"),
        queryset=PlanTemplate.objects.all(),
        error_messages={
            "required": _("Choose a template."),
            "invalid_choice": _("This template no longer exists."),
        },
    )


class DestinationForm(forms.Form):
    country = forms.CharField(
        label=_("Country"),
        max_length=80,
        error_messages={
            "required": _("Write the country."),
            "max_length": _("Too long (at most %(limit_value)d characters)."),
        },
    )
    city = forms.CharField(
        label=_("City (optional)"),
        required=False,
        max_length=80,
        error_messages={"max_length": _("Too long (at most %(limit_value)d characters).")},
    )
    entry_rules = forms.CharField(
        label=_("Entry rules"),
        required=False,
        max_length=RULES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Too long (at most %(limit_value)d characters).")},
    )
    asylum_rules = forms.CharField(
        label=_("Asylum rules"),
        required=False,
        max_length=RULES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Too long (at most %(limit_value)d characters).")},
    )
    partners = forms.CharField(
        label=_("Partner organisations there"),
        required=False,
        max_length=RULES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("Too long (at most %(limit_value)d characters).")},
    )
    notes = forms.CharField(
        label=_("Notes (optional)"),
        required=False,
        max_length=RULES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("Too long (at most %(limit_value)d characters).")},
    )


class DestinationEditForm(DestinationForm):
    revision = _Revision()


class TemplateNameForm(forms.Form):
    name = forms.CharField(
        label=_("Template name"),
        max_length=80,
        error_messages={
            "required": _("Give the template a name."),
            "max_length": _("Too long (at most %(limit_value)d characters)."),
        },
    )


class TemplateNameEditForm(TemplateNameForm):
    revision = _Revision()


class TemplateLegForm(forms.Form):
    """One leg skeleton; a row left completely empty is skipped."""

    mode = forms.ChoiceField(label=_("How"), required=False, choices=[("", "—"), *Mode.choices])
    from_place = forms.CharField(label=_("From (generic)"), required=False, max_length=PLACE_MAX_CHARS)
    to_place = forms.CharField(label=_("To (generic)"), required=False, max_length=PLACE_MAX_CHARS)
    destination = _destination()
    documents = _documents()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [data.get(name) for name in ("mode", "from_place", "to_place")]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Each leg needs how, from and to (or leave the whole row empty)."))
        return data

    def is_empty_row(self) -> bool:
        return not (self.cleaned_data.get("mode") or self.cleaned_data.get("from_place"))


class _TemplateLegRows(forms.BaseFormSet):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    # Django's own message names its hidden fields; a page sent whole never shows it.
    default_error_messages = {"missing_management_form": _("The form is incomplete: open the page again.")}


TemplateLegFormSet = forms.formset_factory(
    TemplateLegForm, formset=_TemplateLegRows, extra=0, max_num=20, absolute_max=20
)
