from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts import permissions
from accounts.models import StaffMember
from casework.models import Case


class _OwnIds(forms.Form):
    """Forms that share a page get their own element ids (the POST field names stay the same): with
    Django's default id_<name> a click on the note's label could focus the reply box instead."""

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class StaffReplyForm(_OwnIds):
    id_prefix = "reply"
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


class DecoyReplyForm(_OwnIds):
    """A reply in the harmless cover conversation. Its own field name, so an error on one form
    never lands on the other and a mistyped real reply is never sent to the cover story."""

    id_prefix = "cover"
    decoy_body = forms.CharField(
        label=_("Reply in the harmless cover conversation (seen by whoever uses the danger word)"),
        max_length=settings.SP_MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("The reply is empty."),
            "max_length": ngettext_lazy(
                "The reply is too long (at most %(limit_value)d character).",
                "The reply is too long (at most %(limit_value)d characters).",
                "limit_value",
            ),
        },
    )


class _MemberChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.username} ({obj.get_role_display()})"


class CaseMemberForm(_OwnIds):
    """Whom to give the case key: active staff who may hold it (accounts.permissions), not yet holders."""

    id_prefix = "member"

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
        self.case_verified = case.status == Case.Status.VERIFIED
        holders = StaffMember.objects.filter(wraps__case_key__case=case, wraps__case_key__version=case.key_version)
        others = StaffMember.objects.filter(is_active=True).exclude(pk__in=holders.values("pk")).order_by("username")
        # Logistics staff are accepted by the field (so choosing one gets the clear refusal
        # below) but not offered before the case is verified.
        accepted = [m for m in others if permissions.can_hold_case_key(m, case_verified=True)]
        field = cast(_MemberChoice, self.fields["member"])  # declared above
        field.queryset = others.filter(pk__in=[m.pk for m in accepted])
        field.widget.choices = [
            ("", field.empty_label),
            *(
                (m.pk, field.label_from_instance(m))
                for m in accepted
                if permissions.can_hold_case_key(m, case_verified=self.case_verified)
            ),
        ]

    def clean_member(self) -> StaffMember:
        member: StaffMember = self.cleaned_data["member"]
        if not permissions.can_hold_case_key(member, case_verified=self.case_verified):
            raise forms.ValidationError(_("Logistics staff can be given a case only once it is verified."))
        return member


class DuressClearForm(_OwnIds):
    """Why staff lift the duress state: a short code from a list, never free text (audited). No
    reason is pre-chosen and a tick confirms it, so one stray click never lifts the state."""

    id_prefix = "duress"
    reason = forms.ChoiceField(
        label=_("How was the person reached?"),
        choices=[],
        error_messages={
            "required": _("Choose why the person is safe again."),
            "invalid_choice": _("Choose why the person is safe again."),
        },
    )
    confirm = forms.BooleanField(
        label=_("I reached the person another way and they are safe to write to"),
        error_messages={"required": _("Tick the box to confirm that the person is safe to write to.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from casework.services import DURESS_CLEAR_REASONS

        cast(forms.ChoiceField, self.fields["reason"]).choices = [("", "—"), *DURESS_CLEAR_REASONS]  # declared above


class ConfirmForm(_OwnIds):
    """A server-side confirmation for an action that is hard to undo: the console works without
    JavaScript, so the tick box is the confirmation step. Subclasses give the label."""

    confirm_label = _("Yes, I am sure")
    confirm = forms.BooleanField(error_messages={"required": _("Tick the box to confirm.")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = self.confirm_label


class CodenameReplaceForm(ConfirmForm):
    id_prefix = "codename"
    confirm_label = _("Yes: the old codename and danger word stop working now")


class MemberRemoveForm(ConfirmForm):
    id_prefix = "remove"
    confirm_label = _("Yes, remove")


class MessageReleaseForm(ConfirmForm):
    id_prefix = "release"
    confirm_label = _("Yes, I have read it: release it to the person")


class CaseRevisionField(forms.IntegerField):
    """The case revision a form was rendered with: a save based on an older one is refused
    (casework.sealed.EditConflict) instead of silently overwriting someone else's change."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        message = _("This form is out of date. Reload the case and try again.")
        errors = {"required": message, "invalid": message, "min_value": message}
        super().__init__(label=_("Form"), min_value=0, error_messages=errors, **kwargs)


EDIT_CONFLICT_MESSAGE = _(
    "Someone else changed this case while you were editing. Their changes are shown; check and save again."
)


class CaseFlagsForm(_OwnIds):
    """Hostile relative and do-not-contact-via: structured warnings shown on every case screen."""

    id_prefix = "flags"

    revision = CaseRevisionField()

    hostile_relative = forms.BooleanField(label=_("A relative is hostile"), required=False)
    hostile_note = forms.CharField(
        label=_("Note on the hostile relative"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": ngettext_lazy(
                "The note is too long (at most %(limit_value)d character).",
                "The note is too long (at most %(limit_value)d characters).",
                "limit_value",
            )
        },
    )
    no_contact_via = forms.MultipleChoiceField(
        label=_("Do not contact via"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[],
        error_messages={"invalid_choice": _("Choose from the list.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from casework.choices import NO_CONTACT_VIA

        cast(forms.MultipleChoiceField, self.fields["no_contact_via"]).choices = NO_CONTACT_VIA  # declared above
