"""The coordinators' view of the audit log."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import coordinator_required, staff_member
from accounts.models import StaffMember
from audit.chain import Verdict, verify_range
from audit.models import Action, AuditEntry
from audit.services import audit_record

PAGE_SIZE = 50
# Beyond this span of sequence numbers (a filtered page can be spread over a long chain) the
# page says to run manage.py verify_audit instead of checking inline.
MAX_INLINE_SPAN = 2000
_CASE_ID = re.compile(r"[2-9A-Z]{10}")


@coordinator_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
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
    with transaction.atomic():
        details = {"page": page.number, "action": action or None, "actor": actor_id}
        audit_record(actor=member, action=Action.AUDIT_VIEW, case=case_id or None, details=details)
    context = {
        "page": page,
        "entries": shown,
        "verdict": _verdict_for(shown),
        "actions": Action.choices,
        "staff": StaffMember.objects.order_by("username").only("pk", "username"),
        "filters": {"action": action, "actor": actor_id, "case": case_id},
        "query": _query(action, actor_id, case_id),
    }
    return render(request, "audit/log.html", context)


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
