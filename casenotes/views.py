"""Console views for case notes, tasks and canned replies.

Case-scoped views fetch the case through casework.access.case_for_member (404 for missing and
not-yours alike); canned-reply pages are for coordinators only (403 for others).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casenotes import selectors, services
from casenotes.forms import (
    CannedInsertForm,
    CannedReplyEditForm,
    CannedReplyForm,
    NoteEditForm,
    NoteForm,
    TaskEditForm,
    TaskForm,
)
from casenotes.models import CannedReply, CaseNote, CaseTask
from casenotes.panels import NOTES, reply_with_canned
from casework import keys
from casework.access import case_for_member

# The case page with this app's forms in it, so a refused form is shown again in place.
from casework.case_page import NOT_SAVED, PanelForm, Problem, case_url, render_case_page
from casework.forms import StaffReplyForm
from casework.models import Case
from casework.sealed import Conflict, Refused, save_edit

MY_TASKS_PAGE_SIZE = 25


def _to_case(case: Case) -> HttpResponse:
    return redirect(case_url(case.public_id, NOTES))


def _opened(case: Case, member: StaffMember, request: HttpRequest) -> dict[int, bytes]:
    try:
        return keys.case_private_keys(case, member, staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None


def _audit_view(member: StaffMember, case: Case, **details: str) -> None:
    """Committed before anything of the case is decrypted for the page."""
    with transaction.atomic():
        audit_record(actor=member, action=Action.CASE_VIEW, case=case, details=details)


# --- notes ----------------------------------------------------------------------------------


@staff_required
@require_POST
def note_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        problem = Problem(NOT_SAVED, "notes")
        return render_case_page(request, case, failed_panel="notes", form=PanelForm("note", form), problem=problem)
    try:
        services.note_create(
            case=case,
            author=member,
            author_private_key=staff_keys(request).private_key,
            body=form.cleaned_data["body"],
        )
    except keys.NoAccess:
        raise Http404 from None
    messages.success(request, _("Note added."))
    return _to_case(case)


def _note_for_author(case: Case, note_id: uuid.UUID, member: StaffMember) -> CaseNote:
    note = selectors.note_on_case(case, note_id)
    if note is None:
        raise Http404
    if note.author_id != member.pk:
        raise PermissionDenied
    return note


def _saved_note(case: Case, note: CaseNote, member: StaffMember, request: HttpRequest) -> selectors.NoteView:
    """The note as saved now, for the page that shows an edit conflict."""
    saved = selectors.note_on_case(case, note.pk)
    if saved is None:
        raise Http404
    return selectors.open_note(saved, _opened(case, member, request))


def _render_note_edit(
    request: HttpRequest,
    case: Case,
    note: CaseNote,
    form: NoteEditForm,
    *,
    status: int = 200,
    conflict: Conflict[Any] | None = None,
    error: str = "",
) -> HttpResponse:
    context = {"case": case, "note": note, "form": form, "conflict": conflict, "error": error}
    return render(request, "casenotes/note_edit.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def note_edit(request: HttpRequest, public_id: str, note_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    note = _note_for_author(case, note_id, member)
    if request.method == "GET":
        opened = _opened(case, member, request)
        _audit_view(member, case, note=str(note.pk))
        view = selectors.open_note(note, opened)
        if view.body is None:
            raise Http404
        form = NoteEditForm(initial={"body": view.body, "revision": note.revision})
        return _render_note_edit(request, case, note, form)
    form = NoteEditForm(request.POST)
    if not form.is_valid():
        return _render_note_edit(request, case, note, form, status=400)
    try:
        conflict = save_edit(
            form,
            lambda revision: services.note_edit(
                note=note,
                actor=member,
                actor_private_key=staff_keys(request).private_key,
                body=form.cleaned_data["body"],
                expected_revision=revision,
            ),
            current=lambda: _saved_note(case, note, member, request),
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_note_edit(request, case, note, form, status=403, error=str(refused))
    if conflict:
        return _render_note_edit(request, case, note, form, status=409, conflict=conflict)
    return _to_case(case)


# --- tasks ----------------------------------------------------------------------------------


@staff_required
@require_POST
def task_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = TaskForm(request.POST, case=case)
    if not form.is_valid():
        problem = Problem(NOT_SAVED, "tasks")
        return render_case_page(request, case, failed_panel="notes", form=PanelForm("task", form), problem=problem)
    data = form.cleaned_data
    try:
        services.task_create(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            owner=data["owner"],
            title=data["title"],
            detail=data["detail"],
            due=data["due"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        returned = PanelForm("task", form, error=str(refused))
        problem = Problem(NOT_SAVED, "tasks")
        return render_case_page(request, case, failed_panel="notes", form=returned, problem=problem)
    messages.success(request, _("Task added."))
    return _to_case(case)


def _task_on_case(case: Case, task_id: uuid.UUID) -> CaseTask:
    task = selectors.task_on_case(case, task_id)
    if task is None:
        raise Http404
    return task


def _saved_task(case: Case, task: CaseTask, member: StaffMember, request: HttpRequest) -> selectors.TaskView:
    """The task as saved now, for the page that shows an edit conflict."""
    return selectors.open_task(_task_on_case(case, task.pk), _opened(case, member, request))


def _render_task_edit(
    request: HttpRequest,
    case: Case,
    task: CaseTask,
    form: TaskEditForm,
    *,
    status: int = 200,
    conflict: Conflict[Any] | None = None,
    error: str = "",
) -> HttpResponse:
    context = {"case": case, "task": task, "form": form, "conflict": conflict, "error": error}
    return render(request, "casenotes/task_edit.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, public_id: str, task_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    task = _task_on_case(case, task_id)
    if request.method == "GET":
        opened = _opened(case, member, request)
        _audit_view(member, case, task=str(task.pk))
        view = selectors.open_task(task, opened)
        if view.title is None:
            raise Http404
        initial = {
            "title": view.title,
            "detail": view.detail,
            "due": task.due,
            "owner": task.owner_id,
            "revision": task.revision,
        }
        return _render_task_edit(request, case, task, TaskEditForm(initial=initial, case=case))
    form = TaskEditForm(request.POST, case=case)
    if not form.is_valid():
        return _render_task_edit(request, case, task, form, status=400)
    data = form.cleaned_data
    try:
        conflict = save_edit(
            form,
            lambda revision: services.task_edit(
                task=task,
                actor=member,
                actor_private_key=staff_keys(request).private_key,
                owner=data["owner"],
                title=data["title"],
                detail=data["detail"],
                due=data["due"],
                expected_revision=revision,
            ),
            current=lambda: _saved_task(case, task, member, request),
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_task_edit(request, case, task, form, status=400, error=str(refused))
    if conflict:
        return _render_task_edit(request, case, task, form, status=409, conflict=conflict)
    return _to_case(case)


@staff_required
@require_POST
def task_done(request: HttpRequest, public_id: str, task_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    task = _task_on_case(case, task_id)
    done = request.POST.get("done") == "1"
    try:
        services.task_set_done(
            task=task,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            done=done,
        )
    except keys.NoAccess:
        raise Http404 from None
    messages.success(request, _("Task marked done.") if done else _("Task open again."))
    if request.POST.get("back") == "tasks":
        return redirect("casenotes:my_tasks")
    return _to_case(case)


@staff_required
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    page = Paginator(selectors.my_open_tasks(member), MY_TASKS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    with transaction.atomic():  # committed before the titles are decrypted
        for case in {task.case.public_id: task.case for task in rows}.values():
            count = sum(1 for task in rows if task.case_id == case.pk)
            audit_record(actor=member, action=Action.TASKS_VIEW, case=case, details={"tasks": count})
    tasks = selectors.open_tasks_for(member, staff_keys(request).private_key, rows)
    return render(request, "casenotes/my_tasks.html", {"page": page, "tasks": tasks})


# --- canned replies -------------------------------------------------------------------------


@staff_required
@require_POST
def canned_insert(request: HttpRequest, public_id: str) -> HttpResponse:
    """Puts a canned reply into the reply box without JavaScript: the reply form's "Insert"
    buttons post the draft here, and the case page comes back with draft and reply together.
    The draft is only echoed back, never stored."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CannedInsertForm(request.POST)
    if not form.is_valid():
        draft = request.POST.get("body", "")
        error = next(iter(form.errors.values()))[0]
        returned = PanelForm("canned", StaffReplyForm(initial={"body": draft}), error=str(error))
        return render_case_page(request, case, failed_panel="canned_replies", form=returned)
    body = reply_with_canned(form.cleaned_data["body"], form.cleaned_data["canned"])
    return render_case_page(request, case, form=PanelForm("reply", StaffReplyForm(initial={"body": body})))


def _render_canned(request: HttpRequest, form: CannedReplyForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "replies": CannedReply.objects.select_related("updated_by")}
    return render(request, "casenotes/canned.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def canned(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_canned(request, CannedReplyForm())
    form = CannedReplyForm(request.POST)
    if not form.is_valid():
        return _render_canned(request, form, status=400)
    services.canned_reply_create(actor=staff_member(request), **form.cleaned_data)
    return redirect("casenotes:canned")


def _canned_reply(reply_id: int) -> CannedReply:
    reply = CannedReply.objects.select_related("updated_by").filter(pk=reply_id).first()
    if reply is None:
        raise Http404
    return reply


@coordinator_required
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = _canned_reply(reply_id)
    context: dict[str, Any] = {"reply": reply, "conflict": None, "error": ""}
    if request.method == "GET":
        initial = {"language": reply.language, "title": reply.title, "body": reply.body, "revision": reply.revision}
        return render(request, "casenotes/canned_edit.html", {**context, "form": CannedReplyEditForm(initial=initial)})
    form = CannedReplyEditForm(request.POST)
    if not form.is_valid():
        return render(request, "casenotes/canned_edit.html", {**context, "form": form}, status=400)
    data = {name: value for name, value in form.cleaned_data.items() if name != "revision"}
    try:
        conflict = save_edit(
            form,
            lambda revision: services.canned_reply_edit(
                reply=reply, actor=staff_member(request), expected_revision=revision, **data
            ),
            current=lambda: _canned_reply(reply_id),
        )
    except Refused as refused:
        return render(
            request, "casenotes/canned_edit.html", {**context, "form": form, "error": str(refused)}, status=409
        )
    if conflict:
        return render(
            request, "casenotes/canned_edit.html", {**context, "form": form, "conflict": conflict}, status=409
        )
    return redirect("casenotes:canned")


@coordinator_required
@require_POST
def canned_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    services.canned_reply_delete(reply=_canned_reply(reply_id), actor=staff_member(request))
    return redirect("casenotes:canned")
