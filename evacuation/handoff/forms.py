from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

import sealbox.handoff as packets
from evacuation.handoff.models import Field, Partner

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

MAX_PACKET_BYTES = packets.MAX_PACKET_BYTES


def _key_field(label: str | StrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=200,
        help_text=_("As the partner sent it: 64 hexadecimal digits or 44 characters of base64."),
        error_messages={"required": _("Paste the partner's key.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 70}),
    )


class PartnerForm(forms.Form):
    name = forms.CharField(
        label=_("Partner organisation name"),
        max_length=120,
        error_messages={"required": _("Give the partner organisation a name.")},
    )
    box_key = _key_field(_("Their encryption key (X25519)"))
    verify_key = _key_field(_("Their signature key (Ed25519)"))

    def _key(self, name: str) -> bytes:
        try:
            return packets.parse_key(self.cleaned_data[name])
        except ValueError:
            raise forms.ValidationError(
                _("This is not a key: it must be 64 hexadecimal digits or 44 characters of base64.")
            ) from None

    def clean_box_key(self) -> bytes:
        return self._key("box_key")

    def clean_verify_key(self) -> bytes:
        return self._key("verify_key")


def _partner_field() -> forms.ModelChoiceField[Partner]:
    return forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=Partner.objects.all(),
        empty_label=_("Choose a partner"),
        error_messages={"required": _("Choose a partner."), "invalid_choice": _("Choose a partner.")},
    )


def _too_big() -> str:
    return _("This file is larger than a hand-off packet can be (at most %(megabytes)d MiB). Nothing was imported.") % {
        "megabytes": MAX_PACKET_BYTES // (1024 * 1024)
    }


class ImportForm(forms.Form):
    partner = _partner_field()
    packet = forms.FileField(
        label=_("Packet file from the partner"),
        error_messages={"required": _("Choose the packet file."), "empty": _("The file is empty.")},
    )

    def __init__(self, *args: Any, packet_too_big: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if packet_too_big:
            # The upload handler skipped the file unread: say why it is missing.
            self.fields["packet"].error_messages["required"] = _too_big()

    def clean_packet(self) -> bytes:
        upload = self.cleaned_data["packet"]
        if upload.size > MAX_PACKET_BYTES:
            raise forms.ValidationError(_too_big())
        return bytes(upload.read())


class _PartnerWithFingerprintField(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: Partner) -> str:
        return f"{obj.name} · {obj.fingerprint_text}"


class ExportForm(forms.Form):
    partner = _PartnerWithFingerprintField(
        label=_("Partner organisation"),
        queryset=Partner.objects.all(),
        empty_label=_("Choose a partner"),
        error_messages={"required": _("Choose a partner."), "invalid_choice": _("Choose a partner.")},
    )
    fields = forms.MultipleChoiceField(  # type: ignore[assignment]  # the metaclass moves it into self.fields
        label=_("What to hand over"),
        choices=Field.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Field.DETAILS, Field.CONVERSATION, Field.PLAN],
        error_messages={"required": _("Choose what to hand over.")},
    )
    consent_how = forms.CharField(
        label=_("How the person agreed to this hand-off"),
        help_text=_("For example: asked in the conversation, agreed in a phone call. It stays sealed to the case."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Record how the person agreed to this hand-off.")},
    )
    consent_date = forms.DateField(
        label=_("Date of consent"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give the date of consent."), "invalid": _("Enter a valid date.")},
    )
