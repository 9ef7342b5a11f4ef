"""Forms of the evidence locker. Errors are in the member's language; a form shown again after
an error keeps everything that was typed.

A consent is chosen by its id among the case's consents. An empty form offers only those still
in force; a posted one accepts any consent of the case, so that one withdrawn meanwhile comes
back with the service's reason (and marked as withdrawn) rather than as an unknown choice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from evidence import esf
from evidence.selectors import ConsentView

TITLE_MAX_CHARS = 200
HOW_MAX_CHARS = 2_000
TESTIMONY_MAX_CHARS = 50_000

# What each use means to the person; the keys are services.USES.
USE_LABELS = {
    "journalists": _("Journalists"),
    "prosecutors": _("Prosecutors and courts"),
    "international": _("International bodies (UN, OSCE, ECHR)"),
    "partners": _("Partner organisations"),
}


def uses_text(uses: Sequence[str]) -> str:
    return ", ".join(str(USE_LABELS.get(use, use)) for use in uses)


def consent_label(consent: ConsentView) -> str:
    """How a consent is named in a list: when it was recorded and what it allows."""
    when = timezone.localtime(consent.recorded_at).strftime("%Y-%m-%d %H:%M")
    if consent.uses is None:
        return f"{when} — {gettext('cannot be opened with your key')}"
    label = f"{when} — {uses_text(consent.uses)}"
    if consent.redacted_only:
        label += f" ({gettext('only redacted')})"
    if consent.revoked_at is not None:
        label += f" — {gettext('WITHDRAWN')}"
    return label


class ConsentForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)

    uses = forms.MultipleChoiceField(
        label=_("The person agrees that their evidence may go to"),
        choices=list(USE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one use the person agreed to."),
            "invalid_choice": _("That use is not one the locker knows."),
        },
    )
    redacted_only = forms.BooleanField(
        label=_("Only with names and places taken out (redacted)"),
        required=False,
    )
    how = forms.CharField(
        label=_("The person's words, or where and when they said it"),
        max_length=HOW_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Write down how the person gave their consent."),
            "max_length": _("This is too long (at most %(limit_value)d characters)."),
        },
    )


class _ConsentChoice(forms.ChoiceField):
    def __init__(self) -> None:
        super().__init__(
            label=_("Under which consent"),
            error_messages={
                "required": _("Choose the consent it is kept under."),
                "invalid_choice": _("That consent is not one of this case: open the case again."),
            },
        )


class _KeepForm(forms.Form):
    """What every way of keeping an item asks: a title and the consent it is kept under."""

    title = forms.CharField(
        label=_("Short title"),
        max_length=TITLE_MAX_CHARS,
        error_messages={
            "required": _("Give it a short title."),
            "max_length": _("The title is too long (at most %(limit_value)d characters)."),
        },
    )
    consent = _ConsentChoice()

    def __init__(self, *args: Any, consents: Sequence[ConsentView], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = consents if self.is_bound else [c for c in consents if c.revoked_at is None]
        cast(forms.ChoiceField, self.fields["consent"]).choices = [(str(c.id), consent_label(c)) for c in offered]


class TestimonyForm(_KeepForm):
    field_order = ["title", "text", "consent"]

    text = forms.CharField(
        label=_("The testimony, as the person told it"),
        max_length=TESTIMONY_MAX_CHARS,
        strip=False,  # kept byte for byte: the original is what was written down
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": _("Write the testimony before keeping it."),
            "max_length": _("The testimony is too long (at most %(limit_value)d characters)."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "testimony_%s")
        super().__init__(*args, **kwargs)


class MessageKeepForm(_KeepForm):
    """One per message of the person: its own element ids, since the section lists many."""

    message = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form is incomplete: open the case again."),
            "invalid": _("The form is incomplete: open the case again."),
        },
    )

    def __init__(self, *args: Any, message_id: object = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"keep_{message_id}_%s" if message_id else "keep_%s")
        if message_id is not None:
            kwargs.setdefault("initial", {"message": message_id})
        super().__init__(*args, **kwargs)


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("The person asked to withdraw this consent"),
        error_messages={"required": _("Tick the box to confirm that the person withdrew this consent.")},
    )

    def __init__(self, *args: Any, consent_id: object = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"withdraw_{consent_id}_%s" if consent_id else "withdraw_%s")
        super().__init__(*args, **kwargs)


# --- redacted copies, exports and events -------------------------------------------------------

SPAN_MAX_CHARS = 500
RECIPIENT_MAX_CHARS = 200
EVENT_TEXT_MAX_CHARS = 500

# What each kind of removed detail is called on the review page; the keys are redaction.spans.LABELS.
SPAN_LABELS = {
    "PERSON": _("Name of a person"),
    "PRIVATE_PLACE": _("Private place (address, village)"),
    "PHONE": _("Phone number"),
    "EMAIL": _("E-mail address"),
    "HANDLE": _("Messenger or social media account"),
    "LINK": _("Link"),
    "PLATE": _("Car number plate"),
    "DOCUMENT": _("Document number"),
    "DOB": _("Date of birth"),
    "EMPLOYER": _("Employer"),
}


def span_label(label: str) -> str:
    return str(SPAN_LABELS.get(label, label))


class ReviewForm(forms.Form):
    """A review of a redacted copy: which spans stay removed (their keys, ``start-end-label``),
    at most one new text to remove, and the revision the reviewer started from."""

    revision = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": _("The form is incomplete: open the page again.")},
    )
    keep = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    add_text = forms.CharField(
        label=_("Also remove this text (every place it appears)"),
        required=False,
        max_length=SPAN_MAX_CHARS,
        strip=False,  # found in the original as typed
        error_messages={"max_length": _("This is too long (at most %(limit_value)d characters).")},
    )
    add_label = forms.ChoiceField(
        label=_("What it is"),
        choices=list(SPAN_LABELS.items()),
        initial="PERSON",
        error_messages={"invalid_choice": _("That kind of detail is not one the redaction knows.")},
    )

    def __init__(self, *args: Any, spans: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "review_%s")
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["keep"]).choices = [(key, key) for key in spans]


class ExportForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("Items"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one item to export."),
            "invalid_choice": _("That item cannot be exported: open the page again."),
        },
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That event is not one of this case: open the page again.")},
    )
    recipient_kind = forms.ChoiceField(
        label=_("Who the package is for"),
        choices=list(USE_LABELS.items()),
        error_messages={
            "required": _("Choose who the package is for."),
            "invalid_choice": _("Choose who the package is for."),
        },
    )
    recipient_name = forms.CharField(
        label=_("Recipient's name (organisation or person)"),
        max_length=RECIPIENT_MAX_CHARS,
        error_messages={
            "required": _("Write the recipient's name."),
            "max_length": _("This is too long (at most %(limit_value)d characters)."),
        },
    )

    def __init__(
        self, *args: Any, items: Sequence[tuple[str, str]] = (), events: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", "export_%s")
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["items"]).choices = list(items)
        cast(forms.MultipleChoiceField, self.fields["events"]).choices = list(events)


def vocabulary_choices(vocabulary: Mapping[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """A HURIDOCS vocabulary's codes with their labels in the page's language."""
    russian = get_language() == "ru"
    return [(code, ru if russian else en) for code, (en, ru) in vocabulary.items()]


class EventForm(forms.Form):
    """One event with one act; the vocabularies' labels follow the page's language."""

    title = forms.CharField(
        label=_("What happened (a short title)"),
        max_length=TITLE_MAX_CHARS,
        error_messages={
            "required": _("Give the event a short title."),
            "max_length": _("The title is too long (at most %(limit_value)d characters)."),
        },
    )
    date = forms.RegexField(
        label=_("When (YYYY, YYYY-MM or YYYY-MM-DD)"),
        regex=r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$",
        required=False,
        max_length=10,
        error_messages={"invalid": _("Write the date as YYYY, YYYY-MM or YYYY-MM-DD.")},
    )
    precision = forms.ChoiceField(label=_("How sure the date is"))
    place = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=EVENT_TEXT_MAX_CHARS,
        error_messages={"max_length": _("This is too long (at most %(limit_value)d characters).")},
    )
    act_type = forms.ChoiceField(
        label=_("What was done"),
        error_messages={"invalid_choice": _("Choose what was done from the list.")},
    )
    victim = forms.CharField(
        label=_("To whom (as the organisation refers to them)"),
        max_length=EVENT_TEXT_MAX_CHARS,
        error_messages={
            "required": _("Write to whom it was done."),
            "max_length": _("This is too long (at most %(limit_value)d characters)."),
        },
    )
    perpetrators = forms.CharField(
        label=_("By which units (separated by commas)"),
        required=False,
        max_length=EVENT_TEXT_MAX_CHARS,
        error_messages={"max_length": _("This is too long (at most %(limit_value)d characters).")},
    )
    source_type = forms.ChoiceField(label=_("Source"))
    reliability = forms.ChoiceField(label=_("How reliable the source is"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "event_%s")
        super().__init__(*args, **kwargs)
        for name, vocabulary in (
            ("precision", esf.DATE_PRECISION),
            ("act_type", esf.ACT_TYPES),
            ("source_type", esf.SOURCE_TYPES),
            ("reliability", esf.RELIABILITY),
        ):
            cast(forms.ChoiceField, self.fields[name]).choices = vocabulary_choices(vocabulary)

    def event(self) -> esf.Event:
        data = self.cleaned_data
        when = esf.When(data["date"], data["precision"]) if data["date"] else None
        units = tuple(unit.strip() for unit in data["perpetrators"].split(",") if unit.strip())
        act = esf.Act(data["act_type"], data["victim"], start=when, place=data["place"], perpetrator_units=units)
        source = esf.Source(data["source_type"], data["reliability"])
        return esf.Event(data["title"], start=when, place=data["place"], acts=(act,), sources=(source,))
