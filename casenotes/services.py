"""Writes for notes, tasks and canned replies. Each runs in one transaction with its audit entry.

Edits are checked against the revision the editor started from: a save based on an older
revision raises casework.sealed.EditConflict (who saved the current one, and when) and
changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casenotes import crypto
from casenotes.models import CannedReply, CaseNote, CaseTask
from casework.models import Case, CaseKey
from casework.sealed import (
    EditConflict,
    Refused,
    current_key_for,
    holds_current_key,
    lock_case,
    require,
    seal_text,
)

# --- notes ----------------------------------------------------------------------------------


def _seal_note(note: CaseNote, case: Case, case_key: CaseKey, body: str) -> None:
    note.case_key = case_key
    note.body_ct = seal_text(case_key, body, ctx=crypto.note_body_ctx(note.id.bytes, case, note.author_id))


def note_row(*, case: Case, author: StaffMember, body: str, case_key: CaseKey) -> CaseNote:
    """A sealed note, saved without checks or an audit entry (note_create does both)."""
    note = CaseNote(id=uuid.uuid4(), case=case, author=author)
    _seal_note(note, case, case_key, body)
    note.save(force_insert=True)
    return note


def note_create(*, case: Case, author: StaffMember, author_private_key: bytes, body: str) -> CaseNote:
    with transaction.atomic():
        locked = lock_case(case)
        note = note_row(
            case=locked, author=author, body=body, case_key=current_key_for(locked, author, author_private_key)
        )
        audit_record(actor=author, action=Action.NOTE_CREATE, case=locked, details={"note": str(note.pk)})
    return note


def note_edit(
    *, note: CaseNote, actor: StaffMember, actor_private_key: bytes, body: str, expected_revision: int
) -> CaseNote:
    """Only the author edits a note; the new text is sealed to the current key version."""
    with transaction.atomic():
        locked = lock_case(note.case)
        current = CaseNote.objects.select_for_update(of=("self",)).select_related("author", "case").get(pk=note.pk)
        if current.author_id != actor.pk:
            raise Refused(_("Only the author can change a note."))
        case_key = current_key_for(locked, actor, actor_private_key)
        if current.revision != expected_revision:
            raise EditConflict(current.revision, current.author.username, current.updated_at)
        _seal_note(current, locked, case_key, body)
        current.revision += 1
        current.updated_at = timezone.now()
        current.save(update_fields=["case_key", "body_ct", "revision", "updated_at"])
        audit_record(
            actor=actor,
            action=Action.NOTE_EDIT,
            case=locked,
            details={"note": str(current.pk), "revision": current.revision},
        )
    return current


# --- tasks ----------------------------------------------------------------------------------


def _check_owner(case: Case, owner: StaffMember) -> None:
    if not (owner.is_active and holds_current_key(case, owner)):
        raise Refused(_("A task can only be given to someone who can read the case."))


def _seal_task(task: CaseTask, case: Case, case_key: CaseKey, title: str, detail: str) -> None:
    task.case_key = case_key
    task.title_ct = seal_text(case_key, title, ctx=crypto.task_ctx("title", task.id.bytes, case))
    task.detail_ct = seal_text(case_key, detail, ctx=crypto.task_ctx("detail", task.id.bytes, case)) if detail else b""


def task_row(
    *, case: Case, actor: StaffMember, owner: StaffMember, title: str, detail: str, due: date | None, case_key: CaseKey
) -> CaseTask:
    """A sealed task, saved without checks or an audit entry (task_create does both)."""
    task = CaseTask(id=uuid.uuid4(), case=case, owner=owner, created_by=actor, updated_by=actor, due=due)
    _seal_task(task, case, case_key, title, detail)
    task.save(force_insert=True)
    return task


def task_create(
    *,
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    owner: StaffMember,
    title: str,
    detail: str,
    due: date | None,
) -> CaseTask:
    with transaction.atomic():
        locked = lock_case(case)
        case_key = current_key_for(locked, actor, actor_private_key)
        _check_owner(locked, owner)
        task = task_row(case=locked, actor=actor, owner=owner, title=title, detail=detail, due=due, case_key=case_key)
        audit_record(
            actor=actor, action=Action.TASK_CREATE, case=locked, details={"task": str(task.pk), "owner": owner.pk}
        )
    return task


def task_edit(
    *,
    task: CaseTask,
    actor: StaffMember,
    actor_private_key: bytes,
    owner: StaffMember,
    title: str,
    detail: str,
    due: date | None,
    expected_revision: int,
) -> CaseTask:
    """Any holder of the current case key edits a task; the text is re-sealed to that version."""
    with transaction.atomic():
        locked = lock_case(task.case)
        current = (
            CaseTask.objects.select_for_update(of=("self",))
            .select_related("owner", "updated_by", "case")
            .get(pk=task.pk)
        )
        case_key = current_key_for(locked, actor, actor_private_key)
        if current.revision != expected_revision:
            raise EditConflict(current.revision, current.updated_by.username, current.updated_at)
        _check_owner(locked, owner)
        _seal_task(current, locked, case_key, title, detail)
        current.owner, current.due = owner, due
        current.revision += 1
        current.updated_by, current.updated_at = actor, timezone.now()
        current.save(
            update_fields=["case_key", "title_ct", "detail_ct", "owner", "due", "revision", "updated_by", "updated_at"]
        )
        audit_record(
            actor=actor,
            action=Action.TASK_EDIT,
            case=locked,
            details={"task": str(current.pk), "revision": current.revision, "owner": owner.pk},
        )
    return current


def task_set_done(*, task: CaseTask, actor: StaffMember, actor_private_key: bytes, done: bool) -> bool:
    """Mark a task done or open again. Setting a state (not toggling) is safe to repeat, so it
    needs no revision: two people ticking the same task both get what they asked for.
    Returns whether anything changed."""
    with transaction.atomic():
        locked = lock_case(task.case)
        current_key_for(locked, actor, actor_private_key)
        current = CaseTask.objects.select_for_update().get(pk=task.pk)
        if (current.done_at is not None) == done:
            return False
        current.done_at = timezone.now() if done else None
        current.save(update_fields=["done_at"])
        audit_record(actor=actor, action=Action.TASK_DONE, case=locked, details={"task": str(current.pk), "done": done})
    return True


# --- canned replies (organisation templates, plaintext) ------------------------------------


def canned_reply_create(*, actor: StaffMember, language: str, title: str, body: str) -> CannedReply:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change canned replies."))
    with transaction.atomic():
        reply = CannedReply.objects.create(
            language=language, title=title, body=body, created_by=actor, updated_by=actor
        )
        audit_record(actor=actor, action=Action.CANNED_CREATE, details={"canned": reply.pk})
    return reply


def canned_reply_edit(
    *, reply: CannedReply, actor: StaffMember, language: str, title: str, body: str, expected_revision: int
) -> CannedReply:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change canned replies."))
    with transaction.atomic():
        current = (
            CannedReply.objects.select_for_update(of=("self",)).select_related("updated_by").filter(pk=reply.pk).first()
        )
        if current is None:
            raise Refused(_("This canned reply was deleted."))
        if current.revision != expected_revision:
            by = current.updated_by.username if current.updated_by else ""
            raise EditConflict(current.revision, by, current.updated_at)
        current.language, current.title, current.body = language, title, body
        current.revision += 1
        current.updated_by, current.updated_at = actor, timezone.now()
        current.save(update_fields=["language", "title", "body", "revision", "updated_by", "updated_at"])
        audit_record(
            actor=actor, action=Action.CANNED_EDIT, details={"canned": current.pk, "revision": current.revision}
        )
    return current


def canned_reply_delete(*, reply: CannedReply, actor: StaffMember) -> None:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change canned replies."))
    with transaction.atomic():
        deleted, _rows = CannedReply.objects.filter(pk=reply.pk).delete()
        if deleted:
            audit_record(actor=actor, action=Action.CANNED_DELETE, details={"canned": reply.pk})
