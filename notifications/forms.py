from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.matrix import is_matrix_address, matrix_enabled
from notifications.models import Channel


class PreferenceForm(forms.Form):
    channel = forms.ChoiceField(label=_("How to tell you"), choices=Channel.choices, widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("Address: e-mail, webhook URL or Matrix id"),
        required=False,
        max_length=500,
        help_text=format_lazy(
            "{} {}",
            _(
                "Notifications say only that a case needs attention, with its number and a link: "
                "never what the person wrote, their name or region."
            ),
            _(
                "For Matrix: the id of a room the organisation's bot is invited to (!…:server), "
                "or your own user id (@…:server) for a direct chat."
            ),
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not matrix_enabled():  # offered only when the organisation has set up its bot
            channel = cast(forms.ChoiceField, self.fields["channel"])  # declared above
            channel.choices = [c for c in Channel.choices if c[0] != Channel.MATRIX]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel, address = data.get("channel"), (data.get("address") or "").strip()
        if channel == Channel.NONE:
            data["address"] = ""
        elif not address:
            self.add_error("address", _("Enter where to send notifications."))
        elif channel == Channel.EMAIL:
            try:
                validate_email(address)
            except ValidationError:
                self.add_error("address", _("Enter a valid e-mail address."))
        elif channel == Channel.WEBHOOK:
            self._check_webhook(address)
        elif channel == Channel.MATRIX and not is_matrix_address(address):
            self.add_error(
                "address", _("Enter a Matrix room id like !abc123:example.org or a user id like @name:example.org.")
            )
        data["address"] = address if channel != Channel.NONE else ""
        return data

    def _check_webhook(self, url: str) -> None:
        # Only the shape here; where it points (public addresses, https) is the service's rule,
        # checked against what the host resolves to (notifications/outbound.py).
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError:
            self.add_error("address", _("Enter a valid https:// URL."))


class SignupChannelForm(PreferenceForm):
    """The notifications page's choice and rules, asked at sign-up. Nothing is chosen in
    advance: leaving it for later is a choice the newcomer makes, with what it means written
    beside it, and the inbox then warns them until a channel works."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = cast(forms.ChoiceField, self.fields["channel"])  # declared by PreferenceForm
        offered = dict(cast(list[tuple[str, str]], channel.choices))  # read back as (value, label) pairs
        channel.label = _("How should we tell you when a case needs you?")
        channel.choices = [
            *(
                (value, offered[value])
                for value in (Channel.EMAIL, Channel.MATRIX, Channel.WEBHOOK)
                if value in offered
            ),
            (
                Channel.NONE,
                _("I will set this up later. Until then I am told of nothing, not even a case in danger now."),
            ),
        ]
        channel.error_messages["required"] = _("Choose how to be told, or that you will set it up later.")
