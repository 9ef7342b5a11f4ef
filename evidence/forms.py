"""Forms of the evidence locker. Errors are in the member's language; a form shown again after
an error keeps everything that was typed.

A consent is chosen by its id among the case's consents. An empty form offers only those still
in force; a posted one accepts any consent of the case, so that one withdrawn meanwhile comes
back with the service's reason (and marked as withdrawn) rather than as an unknown choice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
