from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel

_LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PreferenceForm(forms.Form):
    channel = forms.ChoiceField(label=_("How to tell you"), choices=Channel.choices, widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("E-mail address or webhook URL"),
        required=False,
        max_length=500,
        help_text=_(
            "Notifications say only that a case needs attention, with its number and a link: "
            "never what the person wrote, their name or region."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )

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
        data["address"] = address if channel != Channel.NONE else ""
        return data

    def _check_webhook(self, url: str) -> None:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError:
            self.add_error("address", _("Enter a valid https:// URL."))
            return
        parts = urlsplit(url)
        # Plain http would show the link to anyone on the path; only a local relay may use it.
        if parts.scheme != "https" and not _is_loopback(parts.hostname or ""):
            self.add_error("address", _("Enter a valid https:// URL."))
