"""Forms for money paid out. Errors are in the member's language; a form shown again after an
error, a budget warning or an edit conflict keeps everything that was typed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evacuation.funds.models import Category
from evacuation.funds.money import AmountUnclear, parse_amount, show_amount

PAYEE_MAX_CHARS = 300
REASON_MAX_CHARS = 1_000
# Per entry and per budget: a typo with three extra zeros is refused, real amounts are not.
AMOUNT_MAX = Decimal("100000000")
EARLIEST_DATE = date(2000, 1, 1)

_INCOMPLETE = _("The form is incomplete: open the case page again.")


class AmountField(forms.CharField):
    """An amount typed the Russian or the English way (see evacuation.funds.money)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal:
        text = super().clean(value)
        try:
            amount = parse_amount(text)
        except AmountUnclear:
            raise forms.ValidationError(
                _("Write the amount in digits, like 1500 or 1500.50, without thousands separators."),
                code="invalid",
            ) from None
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be more than zero."), code="min_value")
        if amount > AMOUNT_MAX:
            raise forms.ValidationError(
                _("The amount is too large (at most %(limit)s).") % {"limit": show_amount(AMOUNT_MAX)},
                code="max_value",
            )
        return amount


def _currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in settings.SP_FUNDS_CURRENCIES]


class _Revision(forms.IntegerField):
    def __init__(self, *, required: bool = True) -> None:
        super().__init__(
            widget=forms.HiddenInput,
            min_value=1,
            required=required,
            error_messages={"required": _INCOMPLETE, "invalid": _INCOMPLETE, "min_value": _INCOMPLETE},
        )


class EntryForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What for"),
        choices=Category.choices,
        error_messages={
            "required": _("Choose what the money was for."),
            "invalid_choice": _("Choose what the money was for."),
        },
    )
    amount = AmountField(label=_("Amount"), error_messages={"required": _("Write the amount.")})
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=_currency_choices,
        error_messages={
            "required": _("Choose one of the currencies in the list."),
            "invalid_choice": _("Choose one of the currencies in the list."),
        },
    )
    paid_on = forms.DateField(
        label=_("Date paid"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Write the date it was paid."), "invalid": _("Enter the date as YYYY-MM-DD.")},
    )
    payee = forms.CharField(
        label=_("Paid to"),
        max_length=PAYEE_MAX_CHARS,
        help_text=_(
            'Describe who was paid without naming or identifying the person you help, for example "bus tickets" '
            'or "landlord of the flat". It is encrypted for the case team.'
        ),
        error_messages={
            "required": _("Describe who was paid."),
            "max_length": _("The description is too long (at most %(limit_value)d characters)."),
        },
    )
    # Shown as a checkbox only after the budget warning (see ask_to_confirm_over_budget).
    confirm_over_budget = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "paid_on" not in self.initial:
            self.initial["paid_on"] = timezone.localdate()

    def clean_paid_on(self) -> date:
        paid_on: date = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("The date paid cannot be in the future."), code="future")
        if paid_on < EARLIEST_DATE:
            raise forms.ValidationError(_("Check the date paid: it is too long ago."), code="too_early")
        return paid_on

    def ask_to_confirm_over_budget(self) -> None:
        field = self.fields["confirm_over_budget"]
        field.widget = forms.CheckboxInput()
        field.label = _("I know this goes beyond the budget and it is needed")


class EntryEditForm(EntryForm):
    revision = _Revision()


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        error_messages={"required": _INCOMPLETE, "invalid_choice": _INCOMPLETE},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Write why you approve or reject it."),
            "max_length": _("The reason is too long (at most %(limit_value)d characters)."),
        },
    )


class BudgetForm(forms.Form):
    amount = AmountField(label=_("Budget"), error_messages={"required": _("Write the amount.")})
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=_currency_choices,
        error_messages={
            "required": _("Choose one of the currencies in the list."),
            "invalid_choice": _("Choose one of the currencies in the list."),
        },
    )
    revision = _Revision(required=False)


class ReportFilterForm(forms.Form):
    year = forms.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": _("Choose a year between 2000 and 2100."),
            "min_value": _("Choose a year between 2000 and 2100."),
            "max_value": _("Choose a year between 2000 and 2100."),
        },
    )
