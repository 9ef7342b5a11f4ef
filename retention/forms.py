"""Forms of the retention pages: codes and numbers only, never free text (the audit log and
the hold row keep what is chosen here)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from casework.lifecycle import ClosingReason
from retention.models import HoldReason
from retention.policies import LONGEST_KEEP_DAYS


class PoliciesForm(forms.Form):
    """One field per closing reason: days to keep a case closed for it; empty keeps it."""

    def __init__(self, *args: Any, current: dict[str, int | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for reason in ClosingReason:
            self.fields[reason.value] = forms.IntegerField(
                label=reason.label,
                required=False,
                min_value=1,
                max_value=LONGEST_KEEP_DAYS,
                initial=current.get(reason.value),
                help_text=_("Days after closing. Leave empty to keep these cases until someone decides."),
            )


class HoldForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why keep it"), choices=HoldReason.choices)


class ShredNowForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand: everything of this case is destroyed for good, for everyone."), required=True
    )
