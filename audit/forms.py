"""The form a coordinator types a written-down point of the audit log into."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.chain import NotedHead, NotedHeadInvalid, parse_noted_head


class NotedHeadForm(forms.Form):
    head = forms.CharField(
        label=_("Number and fingerprint you wrote down"),
        max_length=200,
        strip=True,
        error_messages={"required": _("Type the number and the fingerprint you wrote down.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 90}),
    )

    def clean_head(self) -> NotedHead:
        try:
            return parse_noted_head(self.cleaned_data["head"])
        except NotedHeadInvalid as invalid:
            if invalid.code == "short":
                message = _("At least the first 8 groups of the fingerprint are needed: a shorter part could be faked.")
            else:
                message = _(
                    "Type the number and the fingerprint as this page shows them, for example "
                    "“1234: 3f2a 9c01 …”. Spaces and dashes between the groups do not matter."
                )
            raise forms.ValidationError(message, code=invalid.code) from None
