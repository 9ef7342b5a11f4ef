"""What the case page shows of this app: notes and tasks (their section), and the canned
replies in the case's language (beside the reply box). casework.views._render_case merges
this into its context, after the member's case keys were opened and the view was audited."""

from __future__ import annotations

from typing import Any

from accounts.models import StaffMember
from casenotes import selectors
from casenotes.forms import NoteForm, TaskForm
from casenotes.models import CannedReply
from casework.models import Case


def case_page_context(*, case: Case, member: StaffMember, opened: dict[int, bytes]) -> dict[str, Any]:
    return {
        "notes": selectors.case_notes(case, opened),
        "note_form": NoteForm(),
        "tasks": selectors.case_tasks(case, opened),
        "task_form": TaskForm(case=case, initial={"owner": member.pk}),
    }


def reply_box_context(*, language: str | None) -> dict[str, Any]:
    return {"canned_replies": list(selectors.canned_replies_for(language))}


def reply_with_canned(draft: str, reply: CannedReply) -> str:
    """The draft with the canned text added after it; the draft is never thrown away."""
    if not draft.strip():
        return reply.body
    return f"{draft.rstrip()}\n\n{reply.body}"
