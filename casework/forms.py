from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import StaffMember
from casework.models import Case


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


class _MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.username} ({obj.get_role_display()})"


class CaseMemberForm(forms.Form):
    """Whom to give the case key: active staff whose role reads case content, not yet holders."""

    member = _MemberChoice(
        label=_("Add someone"),
        queryset=StaffMember.objects.none(),
        error_messages={
            "required": _("Choose someone to add."),
            "invalid_choice": _("This person cannot be added to the case."),
        },
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from casework.services import CASE_READER_ROLES

        holders = StaffMember.objects.filter(wraps__case_key__case=case, wraps__case_key__version=case.key_version)
        self.fields["member"].queryset = (  # type: ignore[attr-defined]
            StaffMember.objects.filter(is_active=True, role__in=CASE_READER_ROLES)
            .exclude(pk__in=holders.values("pk"))
            .order_by("username")
        )
