from __future__ import annotations

import secrets
from typing import Any, cast

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


# How many words of the codename's list the form offers as a danger word.
DANGER_WORD_CANDIDATES = 5
DECOY_OPENING_MAX_CHARS = 500
_LIST_WORDS = {"ru": _("Russian words"), "en": _("English words")}


def _not_in_list(word: str, language: str | None) -> str:
    return _(
        "“%(word)s” is not in the list of words your secret phrase was made from (%(words)s). "
        "Pick one of the words above, or try another ordinary word."
    ) % {"word": word, "words": _LIST_WORDS.get(language or "", "")}


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
    duress_pick = forms.ChoiceField(
        label=_("Pick a danger word"),
        required=False,
        widget=forms.RadioSelect(attrs={"autocomplete": "off"}),
        error_messages={"invalid_choice": _("Please pick one of the words offered.")},
    )
    duress_word = forms.CharField(
        label=_("Or type your own word"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs=_SECRET_ATTRS),
    )
    decoy_opening = forms.CharField(
        label=_("The first message of the harmless conversation (optional)"),
        max_length=DECOY_OPENING_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, **_SECRET_ATTRS}),
        error_messages={
            "max_length": ngettext_lazy(
                "This first message is too long (at most %(limit_value)d character).",
                "This first message is too long (at most %(limit_value)d characters).",
                "limit_value",
            )
        },
    )

    def __init__(self, *args: Any, codename: str, **kwargs: Any) -> None:
        """``codename``: the pending codename; the danger word comes from its list."""
        super().__init__(*args, **kwargs)
        self.codename_words = sealbox.normalise_codename(codename).split()
        self.word_language = sealbox.codename_language(codename)
        offered = sealbox.danger_word_candidates(codename, DANGER_WORD_CANDIDATES) if self.word_language else []
        kept = self._picked_before()
        if kept and kept not in offered:
            # Drawn afresh for every page: a word picked on the page before is offered again,
            # in a random place, so a form shown again for another field keeps the choice.
            offered[secrets.randbelow(len(offered))] = kept
        pick = cast(forms.ChoiceField, self.fields["duress_pick"])  # declared above
        pick.choices = [("", _("No danger word")), *((word, word) for word in offered)]

    def _picked_before(self) -> str:
        """The word picked on the page this form comes from, if it may be offered again."""
        raw = self.data.get(self.add_prefix("duress_pick")) if self.is_bound else self.initial.get("duress_pick")
        if not isinstance(raw, str) or self.word_language is None:
            return ""
        if not sealbox.in_wordlist(self.word_language, raw):
            return ""
        word = sealbox.normalise_codename(raw)
        return "" if word in self.codename_words else word

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

    def _danger_word(self, data: dict[str, Any]) -> str:
        """The word picked or typed, checked against the codename's list; "" if none or refused."""
        picked, typed = data.get("duress_pick") or "", data.get("duress_word") or ""
        if picked and typed and sealbox.normalise_codename(typed) != picked:
            self.add_error("duress_word", _("Please either pick a word above or type your own, not both."))
            return ""
        word, field = (picked, "duress_pick") if picked else (typed, "duress_word")
        if not word:
            return ""
        if self.word_language is None or not sealbox.in_wordlist(self.word_language, word):
            self.add_error(field, _not_in_list(word, self.word_language))
            return ""
        if sealbox.normalise_codename(word) in self.codename_words:
            self.add_error(field, _("This word is part of your secret phrase. Please choose another word."))
            return ""
        return word

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contact_value") and not data.get("contact_kind"):
            self.add_error("contact_kind", _("Please choose what kind of contact this is."))
        if data.get("contact_kind") and not data.get("contact_value"):
            self.add_error("contact_value", _("Please write the number, name or address, or choose “only here”."))
        if "duress_word" in data and "duress_pick" in data:
            chosen = bool(data["duress_pick"] or data["duress_word"])
            data["duress_word"] = self._danger_word(data)
            if data.get("decoy_opening") and not chosen:
                self.add_error(
                    "decoy_opening",
                    _("This message is used only with a danger word. Choose a danger word above, or leave this empty."),
                )
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
