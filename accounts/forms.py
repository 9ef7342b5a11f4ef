from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import Role, StaffMember, Team
from accounts.teams import coordinators_active

_SECRET = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}


def check_new_password(form: forms.Form, data: dict[str, Any], member: StaffMember) -> None:
    """The two copies agree and the password passes the validators; errors go on the fields."""
    password, again = data.get("password"), data.get("password_again")
    if password and again and password != again:
        form.add_error("password_again", _("The two passwords are not the same."))
    elif password:
        try:
            password_validation.validate_password(password, member)
        except forms.ValidationError as error:
            form.add_error("password", error)


class EnrolForm(forms.Form):
    username = forms.RegexField(
        label=_("Handle"),
        regex=r"^[\w.-]{3,40}$",
        help_text=_("Not your real name: colleagues will see it. 3–40 letters, digits, dots or dashes."),
        error_messages={"invalid": _("Use 3–40 letters, digits, dots or dashes.")},
        widget=forms.TextInput(attrs=_SECRET),
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if StaffMember.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This handle is taken."))
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_new_password(self, data, StaffMember(username=data.get("username", "")))
        return data


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": _("The code is 6 digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class LoginForm(forms.Form):
    # A 6-digit TOTP code, or one of the member's recovery codes (16 symbols, dashes optional).
    code = forms.RegexField(
        label=_("6-digit code from your authenticator app, or a recovery code"),
        regex=r"^\s*(\d{3}\s?\d{3}|[A-Za-z0-9]{4}(-?[A-Za-z0-9]{4}){3})\s*$",
        error_messages={"invalid": _("The code is 6 digits, or a recovery code of 16 letters and digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    username = forms.CharField(label=_("Handle"), max_length=40, widget=forms.TextInput(attrs=_SECRET))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    field_order = ["username", "password", "code"]


class InviteForm(forms.Form):
    # Not the first choice (accounts.permissions.INVITE_DEFAULT_ROLE): an invite made in haste
    # must not hand out coordinator rights.
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=permissions.INVITE_DEFAULT_ROLE)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.order_by("name"), required=False, empty_label=_("The on-call team")
    )


class PasswordChangeForm(CodeForm):
    current_password = forms.CharField(
        label=_("Current password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("New password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    field_order = ["current_password", "password", "password_again", "code"]

    def __init__(self, member: StaffMember, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_current_password(self) -> str:
        password: str = self.cleaned_data["current_password"]
        if not self.member.check_password(password):
            raise forms.ValidationError(_("This is not your current password."))
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_new_password(self, data, self.member)
        return data


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, member: StaffMember, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.member.check_password(password):
            raise forms.ValidationError(_("This is not your current password."))
        return password


class SharePlanForm(forms.Form):
    """How to split the recovery key: any ``threshold`` of ``count`` shares rebuild it. Shares
    go first to the coordinators ticked here (in the order of their handles), the others to
    trustees outside the console, whose names the server does not keep."""

    threshold = forms.IntegerField(label=_("Shares needed to recover"), min_value=2, max_value=16, initial=2)
    count = forms.IntegerField(label=_("Shares in all (one per trustee)"), min_value=2, max_value=16, initial=3)
    trustees = forms.ModelMultipleChoiceField(
        label=_("Coordinators who hold a share"),
        queryset=StaffMember.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelMultipleChoiceField[StaffMember]", self.fields["trustees"])
        field.queryset = coordinators_active().order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        threshold, count = data.get("threshold"), data.get("count")
        if threshold is not None and count is not None and threshold > count:
            raise forms.ValidationError(_("You cannot need more shares than there are."))
        if count is not None and len(data.get("trustees") or []) > count:
            raise forms.ValidationError(_("Tick at most as many coordinators as there are shares."))
        return data

    def holders(self) -> list[int | None]:
        chosen = sorted(self.cleaned_data["trustees"], key=lambda member: member.username)
        return [member.pk for member in chosen] + [None] * (self.cleaned_data["count"] - len(chosen))
