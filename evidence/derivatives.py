"""Redacted copies of the locker's texts: proposed by redaction.pipeline, reviewed by staff.

A derivative is a plan over the sealed original (which spans go, and as what). Proposing one
runs the redaction over every text of the case's locker together, so a person named in two
items is recognised in both. Staff then take proposals back and add spans of their own; each
save records what changed, by whom and when, and is checked against the revision it started
from (two reviewers never silently overwrite each other). Approving appends a custody entry
"derivative" whose subject is the SHA-256 of the plan as approved.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from casework.models import CaseKey
from casework.sealed import EditConflict, Refused, current_key_for, lock_case, open_bytes, require, seal_bytes
from evidence import crypto
from evidence.custody import custody_append
from evidence.models import Derivative, EvidenceItem
from evidence.selectors import open_item
from evidence.services import actor_code
from redaction.pipeline import Document, Proposed, propose, render
from redaction.spans import LABELS

PREVIEW_KEY = bytes(32)  # pseudonyms on the review screen only; exports use their own key


@dataclass(frozen=True)
class Plan:
    proposed: list[Proposed]
    removals: list[Proposed]
    changes: list[dict[str, Any]]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "proposed": [asdict(p) for p in self.proposed],
                "removals": [asdict(r) for r in self.removals],
                "changes": self.changes,
            },
            sort_keys=True,
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Plan:
        data = json.loads(raw)
        return cls(
            [Proposed(**p) for p in data["proposed"]], [Proposed(**r) for r in data["removals"]], list(data["changes"])
        )

    def digest(self) -> bytes:
        removals = json.dumps([asdict(r) for r in sorted(self.removals, key=lambda r: r.start)], sort_keys=True)
        return hashlib.sha256(removals.encode()).digest()


def _texts_of_case(item: EvidenceItem, opened: Mapping[int, bytes]) -> list[tuple[uuid.UUID, str]]:
    items = EvidenceItem.objects.filter(case=item.case).select_related("case", "consent").order_by("promoted_at")
    texts = []
    for other in items:
        view = open_item(other, opened)
        if view.original is not None:
            texts.append((other.id, view.original.decode("utf-8", errors="replace")))
    return texts


def derivative_propose(
    *, item: EvidenceItem, actor: StaffMember, actor_private_key: bytes, opened: Mapping[int, bytes]
) -> Derivative:
    """A new redaction proposal for ``item``, made with the rest of its case's locker."""
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    texts = _texts_of_case(item, opened)
    require(any(i == item.id for i, _ in texts), _("This item's original cannot be opened with your key."))
    proposals = propose([Document(str(i), text) for i, text in texts])
    mine = next(p for p in proposals if p.id == str(item.id))
    plan = Plan(mine.removals, list(mine.removals), [])
    with transaction.atomic():
        locked = lock_case(item.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        derivative = Derivative(id=uuid.uuid4(), item=item, made_by=actor)
        _seal_plan(derivative, item, case_key, plan)
        derivative.save(force_insert=True)
    return derivative


def seal_plan_bytes(derivative: Derivative, item: EvidenceItem, case_key: CaseKey, raw: bytes) -> None:
    """Seal a plan (text or file) to the case key, bound to the copy, its item and its case."""
    derivative.case_key = case_key
    derivative.plan_ct = seal_bytes(case_key, raw, ctx=crypto.derivative_plan_ctx(derivative.id, item.id, item.case))


def open_plan_bytes(derivative: Derivative, opened: Mapping[int, bytes]) -> bytes | None:
    item = derivative.item
    return open_bytes(
        opened, derivative.case_key_id, bytes(derivative.plan_ct),
        ctx=crypto.derivative_plan_ctx(derivative.id, item.id, item.case),
    )  # fmt: skip


def _seal_plan(derivative: Derivative, item: EvidenceItem, case_key: CaseKey, plan: Plan) -> None:
    seal_plan_bytes(derivative, item, case_key, plan.to_json())


def open_plan(derivative: Derivative, opened: Mapping[int, bytes]) -> Plan | None:
    raw = open_plan_bytes(derivative, opened)
    return Plan.from_json(raw) if raw is not None else None


def derivative_review(
    *,
    derivative: Derivative,
    actor: StaffMember,
    actor_private_key: bytes,
    opened: Mapping[int, bytes],
    removals: Sequence[Proposed],
    revision: int,
    approve: bool,
) -> Derivative:
    """Save staff's removals (what they took back and added is recorded) and, with ``approve``,
    approve the plan: a custody entry "derivative" over its digest."""
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    for removal in removals:
        require(removal.label in LABELS, _("That kind of detail is not one the redaction knows."))

    def change(fresh: Derivative) -> tuple[bytes, bytes]:
        plan = open_plan(fresh, opened)
        if plan is None:
            raise Refused(_("This redaction cannot be opened with your key."))
        updated = _with_change(plan, list(removals), actor, timezone.now())
        _check_within(fresh.item, opened, updated.removals)
        return updated.to_json(), updated.digest()

    return review_save(
        derivative=derivative, actor=actor, actor_private_key=actor_private_key, revision=revision, approve=approve,
        change=change,
    )  # fmt: skip


PlanChange = Callable[[Derivative], tuple[bytes, bytes]]  # the locked row: the new plan's JSON and digest


def review_save(
    *, derivative: Derivative, actor: StaffMember, actor_private_key: bytes, revision: int, approve: bool,
    change: PlanChange,
) -> Derivative:  # fmt: skip
    """Save a changed plan (text or file) from the revision the reviewer started from; with
    ``approve``, approve it: a custody entry "derivative" over the new plan's digest."""
    with transaction.atomic():
        locked = lock_case(derivative.item.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        fresh = Derivative.objects.select_for_update().select_related("item__case").get(pk=derivative.pk)
        if fresh.revision != revision:
            last = fresh.saved_by or fresh.made_by
            raise EditConflict(fresh.revision, last.username, fresh.saved_at or fresh.made_at)
        plan_json, digest = change(fresh)
        seal_plan_bytes(fresh, fresh.item, case_key, plan_json)
        fresh.revision += 1
        fresh.saved_by, fresh.saved_at = actor, timezone.now()
        fresh.reviewed_by, fresh.reviewed_at = (actor, fresh.saved_at) if approve else (None, None)
        fresh.save(
            update_fields=["plan_ct", "case_key", "revision", "saved_by", "saved_at", "reviewed_by", "reviewed_at"]
        )
        if approve:
            custody_append(
                item=fresh.item, action="derivative", actor=actor_code(actor), subject=digest, case_key=case_key
            )
    return fresh


def _with_change(plan: Plan, removals: list[Proposed], actor: StaffMember, at: datetime) -> Plan:
    before, after = set(plan.removals), set(removals)
    change = {
        "by": actor_code(actor),
        "at": at.isoformat(),
        "added": [asdict(r) for r in sorted(after - before, key=lambda r: r.start)],
        "taken_back": [asdict(r) for r in sorted(before - after, key=lambda r: r.start)],
    }
    changes = plan.changes + ([change] if change["added"] or change["taken_back"] else [])
    return Plan(plan.proposed, sorted(removals, key=lambda r: r.start), changes)


def _check_within(item: EvidenceItem, opened: Mapping[int, bytes], removals: Sequence[Proposed]) -> None:
    original = open_item(item, opened).original
    require(original is not None, _("This item's original cannot be opened with your key."))
    length = len((original or b"").decode("utf-8", errors="replace"))
    for removal in removals:
        require(0 <= removal.start < removal.end <= length, _("A marked span lies outside the text."))
    try:
        render("x" * length, removals, PREVIEW_KEY)
    except ValueError:
        raise Refused(_("Two marked spans overlap: join them into one.")) from None


def preview(derivative: Derivative, opened: Mapping[int, bytes]) -> str | None:
    """The text as the plan would render it, pseudonyms under a fixed review key."""
    plan = open_plan(derivative, opened)
    original = open_item(derivative.item, opened).original
    if plan is None or original is None:
        return None
    return render(original.decode("utf-8", errors="replace"), plan.removals, PREVIEW_KEY)[0]
