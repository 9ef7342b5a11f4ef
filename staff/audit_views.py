"""The coordinators' view of the audit log."""

from __future__ import annotations

import re
from typing import Any

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import coordinator_required, staff_member
from accounts.models import StaffMember
from audit.chain import NotedHeadCheck, Verdict, head_state, noted_head_text, verify_range
from audit.forms import NotedHeadForm
from audit.models import Action, AuditEntry
from audit.services import audit_noted_head_check, audit_record

PAGE_SIZE = 50
# Beyond this span of sequence numbers (a filtered page can be spread over a long chain) the
# page says to run manage.py verify_audit instead of checking inline.
MAX_INLINE_SPAN = 2000
# A written-down point further back than this is found, but the entries after it are left to
# manage.py verify_audit --expect-head (about a second of hashing on a small server).
MAX_CHECK_SPAN = 50_000
_CASE_ID = re.compile(r"[2-9A-Z]{10}")


@coordinator_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    return _render_log(request, form=NotedHeadForm())


@coordinator_required
@require_POST
def head_check(request: HttpRequest) -> HttpResponse:
    """A coordinator types in a point of the log they wrote down off the server. The check is
    its own audit entry, and that entry is the new point the page offers to write down."""
    form = NotedHeadForm(request.POST)
    if not form.is_valid():
        return _render_log(request, form=form, status=400)
    check, entry = audit_noted_head_check(
        actor=staff_member(request), noted=form.cleaned_data["head"], max_span=MAX_CHECK_SPAN
    )
    return _render_log(request, form=NotedHeadForm(), check=check, recorded=entry)


def _render_log(
    request: HttpRequest,
    *,
    form: NotedHeadForm,
    check: NotedHeadCheck | None = None,
    recorded: AuditEntry | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, recorded as a view unless the request already wrote its own entry."""
    member = staff_member(request)
    action = request.GET.get("action", "")
    action = action if action in Action.values else ""
    actor_raw = request.GET.get("actor", "")
    actor_id = int(actor_raw) if actor_raw.isdigit() and len(actor_raw) < 12 else None
    # Only a well-formed case id is used or recorded: free text typed here is never stored.
    case_raw = request.GET.get("case", "").strip().upper()
    case_id = case_raw if _CASE_ID.fullmatch(case_raw) else ""

    entries = AuditEntry.objects.select_related("actor").order_by("-sequence")
    if action:
        entries = entries.filter(action=action)
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if case_id:
        entries = entries.filter(case_public_id=case_id)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    if recorded is None:
        with transaction.atomic():
            details = {"page": page.number, "action": action or None, "actor": actor_id}
            recorded = audit_record(actor=member, action=Action.AUDIT_VIEW, case=case_id or None, details=details)
    context = {
        "page": page,
        "entries": shown,
        "verdict": _verdict_for(shown),
        "head": _head_to_note(recorded),
        "form": form,
        "check": _check_message(check) if check is not None else None,
        "actions": Action.choices,
        "staff": StaffMember.objects.order_by("username").only("pk", "username"),
        "filters": {"action": action, "actor": actor_id, "case": case_id},
        "query": _query(action, actor_id, case_id),
    }
    return render(request, "audit/log.html", context, status=status)


def _head_to_note(recorded: AuditEntry) -> dict[str, Any] | None:
    """The entry this request wrote, offered for writing down, as long as the head's MAC
    holds; None (the page raises the alarm instead) when it does not."""
    state = head_state()
    if state is None or not state.holds:
        return None
    return {
        "sequence": recorded.sequence,
        "text": noted_head_text(recorded.sequence, recorded.entry_hash),
        "at": recorded.at,
    }


def _check_message(check: NotedHeadCheck) -> dict[str, str]:
    values = {"sequence": check.sequence, "count": check.later, "first_bad": check.first_bad}
    if check.result == "found" and check.later == 0:
        text = _(
            "Entry %(sequence)s with the fingerprint you wrote down is still in the log, and still its latest entry."
        )
        return {"level": "notice", "text": text % values}
    if check.result == "found":
        text = ngettext(
            "Entry %(sequence)s with the fingerprint you wrote down is still in the log, "
            "and the %(count)s entry after it checks out.",
            "Entry %(sequence)s with the fingerprint you wrote down is still in the log, "
            "and the %(count)s entries after it check out.",
            check.later,
        )
        return {"level": "notice", "text": text % values}
    if check.result == "unchecked":
        text = ngettext(
            "Entry %(sequence)s with the fingerprint you wrote down is still in the log. The %(count)s entry "
            "after it is too many to check here: run manage.py verify_audit --expect-head on the server.",
            "Entry %(sequence)s with the fingerprint you wrote down is still in the log. The %(count)s entries "
            "after it are too many to check here: run manage.py verify_audit --expect-head on the server.",
            check.later,
        )
        return {"level": "notice", "text": text % values}
    if check.result == "broken":
        text = _(
            "The fingerprint you wrote down is in the log (entry %(sequence)s), but the log is broken at entry "
            "%(first_bad)s after it. Someone may have changed the database: run manage.py verify_audit "
            "and tell the other coordinators."
        )
        return {"level": "error", "text": text % values}
    if check.result == "head_broken":
        text = _(
            "The fingerprint you wrote down is in the log (entry %(sequence)s), but the end of the log was "
            "changed outside the console since: entries after it may have been removed. Run manage.py "
            "verify_audit on the server and tell the other coordinators."
        )
        return {"level": "error", "text": text % values}
    text = _(
        "The fingerprint you wrote down is no longer in the log: entries were removed or rewritten after you "
        "wrote it down. Keep your note, run manage.py verify_audit on the server and tell the other coordinators."
    )
    return {"level": "error", "text": text}


def _verdict_for(shown: list[AuditEntry]) -> Verdict | None:
    if not shown:
        return None
    first, last = shown[-1].sequence, shown[0].sequence
    if last - first + 1 > MAX_INLINE_SPAN:
        return None
    return verify_range(first, last)


def _query(action: str, actor_id: int | None, case_id: str) -> str:
    parts = [f"action={action}"] if action else []
    parts += [f"actor={actor_id}"] if actor_id is not None else []
    parts += [f"case={case_id}"] if case_id else []
    return "&".join(parts)
