"""Forms for notes, tasks and canned replies. Errors are in the member's language; a form shown
again after an error or an edit conflict keeps everything that was typed."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import StaffMember
from casenotes.models import CannedReply
from casework.models import Case

NOTE_MAX_CHARS = 10_000
TASK_TITLE_MAX_CHARS = 200
TASK_DETAIL_MAX_CHARS = 2_000


def _too_long(what: str) -> Any:
    """A plural-aware "too long" message; ``what`` picks the wording (kept literal for gettext)."""
    messages = {
        "note": ngettext_lazy(
            "The note is too long (at most %(limit_value)d character).",
            "The note is too long (at most %(limit_value)d characters).",
            "limit_value",
        ),
        "title": ngettext_lazy(
            "The title is too long (at most %(limit_value)d character).",
            "The title is too long (at most %(limit_value)d characters).",
            "limit_value",
        ),
        "detail": ngettext_lazy(
            "The details are too long (at most %(limit_value)d character).",
            "The details are too long (at most %(limit_value)d characters).",
            "limit_value",
        ),
        "reply": ngettext_lazy(
            "The reply is too long (at most %(limit_value)d character).",
            "The reply is too long (at most %(limit_value)d characters).",
            "limit_value",
        ),
    }
    return messages[what]


class _Revision(forms.IntegerField):
    """The revision an edit form started from (hidden)."""

    def __init__(self) -> None:
        super().__init__(
            widget=forms.HiddenInput,
            min_value=1,
            error_messages={
                "required": _("The form is incomplete: open the edit page again."),
                "invalid": _("The form is incomplete: open the edit page again."),
                "min_value": _("The form is incomplete: open the edit page again."),
            },
        )


class NoteForm(forms.Form):
    """Own element ids: the case page also has the reply box, whose field is called body too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)

    body = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("The note is empty."), "max_length": _too_long("note")},
    )


class NoteEditForm(NoteForm):
    revision = _Revision()


class _OwnerChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: StaffMember) -> str:
        return obj.username


class TaskForm(forms.Form):
    title = forms.CharField(
        label=_("Task"),
        max_length=TASK_TITLE_MAX_CHARS,
        error_messages={"required": _("Write what needs doing."), "max_length": _too_long("title")},
    )
    detail = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=TASK_DETAIL_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _too_long("detail")},
    )
    due = forms.DateField(
        label=_("Due date (optional)"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )
    owner = _OwnerChoice(
        label=_("Who does it"),
        queryset=StaffMember.objects.none(),
        empty_label=None,
        error_messages={
            "required": _("Choose who does it."),
            "invalid_choice": _("A task can only be given to someone who can read the case."),
        },
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "task_%s")
        super().__init__(*args, **kwargs)
        # Only people holding the current key: the owner must be able to read the task.
        cast(_OwnerChoice, self.fields["owner"]).queryset = StaffMember.objects.filter(  # declared above
            is_active=True, wraps__case_key__case=case, wraps__case_key__version=case.key_version
        ).order_by("username")


class TaskEditForm(TaskForm):
    revision = _Revision()


class CannedReplyForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=CannedReply.Language.choices,
        error_messages={"required": _("Choose the language."), "invalid_choice": _("Choose the language.")},
    )
    title = forms.CharField(
        label=_("Short name"),
        max_length=80,
        error_messages={"required": _("Give the reply a short name."), "max_length": _too_long("title")},
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=settings.SP_MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("The reply is empty."), "max_length": _too_long("reply")},
    )


class CannedReplyEditForm(CannedReplyForm):
    revision = _Revision()


class CannedInsertForm(forms.Form):
    """The reply box's draft (kept, never stored) and the canned reply to add to it."""

    body = forms.CharField(
        required=False,
        strip=False,
        max_length=settings.SP_MESSAGE_MAX_CHARS,
        error_messages={"max_length": _too_long("reply")},
    )
    canned = forms.ModelChoiceField(
        queryset=CannedReply.objects.all(),
        error_messages={
            "required": _("This canned reply no longer exists."),
            "invalid_choice": _("This canned reply no longer exists."),
        },
    )
