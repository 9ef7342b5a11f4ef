from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy


class StaffReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        max_length=settings.SP_MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("The reply is empty."),
            "max_length": ngettext_lazy(
                "The reply is too long (at most %(limit_value)d character).",
                "The reply is too long (at most %(limit_value)d characters).",
                "limit_value",
            ),
        },
    )
