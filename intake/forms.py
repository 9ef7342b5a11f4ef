from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

import sealbox
from casework.choices import CONTACT_KINDS, HELP_KINDS, REGIONS
from casework.models import Urgency

_SECRET_ATTRS = {"autocomplete": "off", "autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


class MessageField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=settings.SP_MESSAGE_MAX_CHARS,
            widget=forms.Textarea(attrs={"rows": 6, **_SECRET_ATTRS}),
            error_messages={
                "required": _("Please write a few words about what is happening."),
                # Plural by the limit: Russian needs three forms of "characters".
                "max_length": ngettext_lazy(
                    "The message is too long (at most %(limit_value)d character). Please split it in two.",
                    "The message is too long (at most %(limit_value)d characters). Please split it in two.",
                    "limit_value",
                ),
            },
            **kwargs,
        )


class FirstRequestForm(forms.Form):
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how urgent it is.")},
    )
    region = forms.ChoiceField(
        label=_("Where are you now, roughly?"),
        # A blank first choice: otherwise the first region is preselected and a person who does
        # not touch the list is recorded as being there.
        choices=[("", _("Choose…")), *REGIONS],
        error_messages={"required": _("Please choose a region, or “I prefer not to say”.")},
    )
    help_kinds = forms.MultipleChoiceField(
        label=_("What help do you need?"),
        choices=HELP_KINDS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    message = MessageField(label=_("Your message"))
    contact_kind = forms.ChoiceField(
        label=_("Another safe way to reach you (optional)"), choices=CONTACT_KINDS, required=False
    )
    contact_value = forms.CharField(
        label=_("Number, name or address there"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=_SECRET_ATTRS),
    )
    cover_phrase = forms.CharField(
        label=_("A harmless phrase we will start with there, so you know it is us"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=_SECRET_ATTRS),
    )
    duress_word = forms.CharField(
        label=_("Danger word (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs=_SECRET_ATTRS),
    )

    def clean_duress_word(self) -> str:
        word: str = self.cleaned_data["duress_word"].strip()
        if not word:
            return ""
        try:
            normalised = sealbox.normalise_codename(word)
        except sealbox.InvalidCodename:
            raise forms.ValidationError(_("The danger word must contain letters.")) from None
        if " " in normalised:
            raise forms.ValidationError(_("The danger word must be one single word."))
        return word

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contact_value") and not data.get("contact_kind"):
            self.add_error("contact_kind", _("Please choose what kind of contact this is."))
        if data.get("contact_kind") and not data.get("contact_value"):
            self.add_error("contact_value", _("Please write the number, name or address, or choose “only here”."))
        return data


class LoginForm(forms.Form):
    codename = forms.CharField(
        label=_("Your secret phrase"),
        max_length=sealbox.codenames.MAX_INPUT_CHARS,
        # Two lines, so all six words stay visible on a narrow phone and can be checked one by one.
        widget=forms.Textarea(attrs={"rows": 2, **_SECRET_ATTRS}),
        error_messages={
            "required": _("Please type your secret phrase."),
            "max_length": _("This is much longer than a secret phrase. Please check what you typed."),
        },
    )

    def clean_codename(self) -> str:
        try:
            normalised = sealbox.normalise_codename(self.cleaned_data["codename"])
        except sealbox.InvalidCodename:
            raise forms.ValidationError(_("A secret phrase is made of words. Please check what you typed.")) from None
        if len(normalised.split()) < sealbox.CODENAME_WORDS:
            raise forms.ValidationError(
                ngettext_lazy(
                    "A secret phrase has %(count)d word. Please check that none is missing.",
                    "A secret phrase has %(count)d words. Please check that none is missing.",
                    "count",
                ),
                params={"count": sealbox.CODENAME_WORDS},
            )
        return normalised


class ReplyForm(forms.Form):
    message = MessageField(label=_("Write to us"), required=False)
