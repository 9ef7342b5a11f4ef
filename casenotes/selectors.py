"""Reads that decrypt notes and tasks for one member; nothing decrypted is cached or stored.

Lists decrypt only the rows they show. A row sealed to a key version the member does not
hold is shown as unreadable (``None``), not hidden, so nobody mistakes it for missing; a row
that does not open although the member holds its version raises casework.sealed.RecordDoesNotOpen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import StaffMember
from casenotes import crypto
from casenotes.models import CannedReply, CaseNote, CaseTask
from casework import keys
from casework.models import Case
from casework.sealed import open_text
from casework.selectors import cases_visible_to


@dataclass(frozen=True)
class NoteView:
    id: uuid.UUID
    author: str
    author_id: int
    created_at: datetime
    updated_at: datetime
    revision: int
    body: str | None  # None: sealed to a key version this member does not hold

    @property
    def edited(self) -> bool:
        return self.revision > 1


@dataclass(frozen=True)
class TaskView:
    id: uuid.UUID
    case_public_id: str
    title: str | None
    detail: str | None
    due: date | None
    owner: str
    owner_id: int
    done: bool
    revision: int
    updated_by: str
    updated_at: datetime

    @property
    def overdue(self) -> bool:
        return not self.done and self.due is not None and self.due < timezone.localdate()


def open_note(note: CaseNote, opened: dict[int, bytes]) -> NoteView:
    ctx = crypto.note_body_ctx(note.id.bytes, note.case, note.author_id)
    body = open_text(opened, note.case_key_id, bytes(note.body_ct), ctx=ctx)
    return NoteView(
        note.id, note.author.username, note.author_id, note.created_at, note.updated_at, note.revision, body
    )


def open_task(task: CaseTask, opened: dict[int, bytes]) -> TaskView:
    title = open_text(
        opened, task.case_key_id, bytes(task.title_ct), ctx=crypto.task_ctx("title", task.id.bytes, task.case)
    )
    detail: str | None = ""
    if bytes(task.detail_ct):
        detail = open_text(
            opened, task.case_key_id, bytes(task.detail_ct), ctx=crypto.task_ctx("detail", task.id.bytes, task.case)
        )
    return TaskView(
        task.id,
        task.case.public_id,
        title,
        detail,
        task.due,
        task.owner.username,
        task.owner_id,
        task.done_at is not None,
        task.revision,
        task.updated_by.username,
        task.updated_at,
    )


def case_notes(case: Case, opened: dict[int, bytes]) -> list[NoteView]:
    """Newest first."""
    notes = CaseNote.objects.filter(case=case).select_related("author", "case").order_by("-created_at", "-pk")
    return [open_note(note, opened) for note in notes]


def case_tasks(case: Case, opened: dict[int, bytes]) -> list[TaskView]:
    """Open tasks first, the earliest due first (no due date last); done tasks after them."""
    tasks = (
        CaseTask.objects.filter(case=case)
        .select_related("owner", "updated_by", "case")
        .order_by(F("done_at").desc(nulls_first=True), F("due").asc(nulls_last=True), "created_at", "pk")
    )
    return [open_task(task, opened) for task in tasks]


def note_on_case(case: Case, note_id: uuid.UUID) -> CaseNote | None:
    return CaseNote.objects.filter(case=case, pk=note_id).select_related("author", "case").first()


def task_on_case(case: Case, task_id: uuid.UUID) -> CaseTask | None:
    return CaseTask.objects.filter(case=case, pk=task_id).select_related("owner", "updated_by", "case").first()


def my_open_tasks(member: StaffMember) -> QuerySet[CaseTask]:
    """The member's open tasks on cases they can still read, the earliest due first."""
    return (
        CaseTask.objects.filter(owner=member, done_at__isnull=True, case__in=cases_visible_to(member))
        .select_related("owner", "updated_by", "case")
        .order_by(F("due").asc(nulls_last=True), "created_at", "pk")
    )


def open_tasks_for(member: StaffMember, member_private_key: bytes, tasks: list[CaseTask]) -> list[TaskView]:
    """Decrypt these rows (one page), unwrapping each case's keys once."""
    opened_by_case: dict[int, dict[int, bytes]] = {}
    views = []
    for task in tasks:
        if task.case_id not in opened_by_case:
            try:
                opened_by_case[task.case_id] = keys.case_private_keys(task.case, member, member_private_key)
            except keys.NoAccess:
                opened_by_case[task.case_id] = {}
        views.append(open_task(task, opened_by_case[task.case_id]))
    return views


def canned_replies_for(language: str | None) -> QuerySet[CannedReply]:
    """The replies in the case's language; all of them when the language is unknown."""
    replies = CannedReply.objects.all()
    return replies.filter(language=language) if language else replies
