"""casenotes' parts of the case page (casework.case_page): the notes and tasks section, and
the canned replies in the case's language inside the reply box. Registered in
CasenotesConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember
from casenotes import selectors
from casenotes.forms import NoteForm, TaskForm
from casenotes.models import CannedReply, CaseTask
from casework import case_page
from casework.case_page import CONVERSATION, REPLY_TOOLS, Panel, PanelRequest, Section
from casework.models import Case

NOTES = "notes"


def _notes(page: PanelRequest) -> Mapping[str, Any]:
    return {
        "notes": selectors.case_notes(page.case, page.opened),
        "note_form": page.returned_form("note") or NoteForm(),
        "tasks": selectors.case_tasks(page.case, page.opened),
        "task_form": page.returned_form("task") or TaskForm(case=page.case, initial={"owner": page.member.pk}),
        "task_error": page.returned_error("task"),
    }


def _overdue_task(case: Case, member: StaffMember) -> bool:
    return CaseTask.objects.filter(case=case, done_at__isnull=True, due__lt=timezone.localdate()).exists()


def _canned(page: PanelRequest) -> Mapping[str, Any]:
    language = page.details.language if page.details else None
    return {
        "canned_replies": list(selectors.canned_replies_for(language)),
        "canned_error": page.returned_error("canned"),
    }


def reply_with_canned(draft: str, reply: CannedReply) -> str:
    """The draft with the canned text added after it; the draft is never thrown away."""
    if not draft.strip():
        return reply.body
    return f"{draft.rstrip()}\n\n{reply.body}"


def register() -> None:
    case_page.register_section(Section(NOTES, _("Notes and tasks"), order=70))
    case_page.register_panel(Panel("notes", "casenotes/case_panel.html", _notes, 10, NOTES, attention=_overdue_task))
    case_page.register_panel(
        Panel("canned_replies", "casenotes/canned_picker.html", _canned, 10, CONVERSATION, REPLY_TOOLS)
    )
