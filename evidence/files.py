"""Copies of the photos and PDFs in the locker: the cleaned copy the intake made (location and
camera data removed), and for a photo, rectangles staff paint over it (faces, tattoos,
documents, a window that shows a place), starting from the faces OpenCV proposes.

The plan (proposed and chosen rectangles, every change with who and when) is sealed in a
Derivative like a text's. The copy is rendered from the cleaned file at export: painted solid,
re-encoded, and checked to carry no metadata (scrub.redact). The original is never used for
it and never leaves: it stays sealed to coordinators.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from casework import selectors as casework_selectors
from casework.models import CaseKey
from casework.sealed import Refused, current_key_for, lock_case, require
from evidence.derivatives import open_plan_bytes, review_save, seal_plan_bytes
from evidence.models import Derivative, EvidenceItem
from evidence.services import actor_code
from scrub.faces import propose_faces
from scrub.redact import REDACTABLE, BadRectangle, CannotRedact, Rectangle, redact_image

Box = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True)
class FilePlan:
    proposed: list[Box]
    rectangles: list[Box]
    changes: list[dict[str, Any]]

    def to_json(self) -> bytes:
        return json.dumps({"kind": "file", **asdict(self)}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> FilePlan:
        data = json.loads(raw)
        return cls(
            [tuple(b) for b in data["proposed"]],
            [tuple(b) for b in data["rectangles"]],
            list(data["changes"]),
        )

    def digest(self) -> bytes:
        return hashlib.sha256(json.dumps(sorted(self.rectangles)).encode()).digest()


@dataclass(frozen=True)
class CleanedFile:
    name: str
    content_type: str
    data: bytes


def cleaned_copy(item: EvidenceItem, member: StaffMember, member_private_key: bytes) -> CleanedFile:
    """The copy the intake made of the item's file (what staff and the person see)."""
    attachment = item.attachment
    if attachment is None:
        raise Refused(_("The file of this item is no longer kept."))
    found = casework_selectors.attachment_for_staff(item.case, member, member_private_key, attachment.id)
    if found is None:
        raise Refused(_("The file of this item cannot be opened with your key."))
    view, chunks = found
    return CleanedFile(view.name, view.content_type, b"".join(chunks))


def file_derivative_propose(*, item: EvidenceItem, actor: StaffMember, actor_private_key: bytes) -> Derivative:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    copy = cleaned_copy(item, actor, actor_private_key)
    faces = [_box(r) for r in propose_faces(copy.data, copy.content_type)] if copy.content_type in REDACTABLE else []
    plan = FilePlan(faces, list(faces), [])
    with transaction.atomic():
        locked = lock_case(item.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        derivative = Derivative(id=uuid.uuid4(), item=item, made_by=actor)
        _seal(derivative, item, case_key, plan)
        derivative.save(force_insert=True)
    return derivative


def _box(rectangle: Rectangle) -> Box:
    return (rectangle.left, rectangle.top, rectangle.width, rectangle.height)


def _seal(derivative: Derivative, item: EvidenceItem, case_key: CaseKey, plan: FilePlan) -> None:
    seal_plan_bytes(derivative, item, case_key, plan.to_json())


def open_file_plan(derivative: Derivative, opened: dict[int, bytes]) -> FilePlan | None:
    raw = open_plan_bytes(derivative, opened)
    return FilePlan.from_json(raw) if raw is not None else None


def render_file(copy: CleanedFile, plan: FilePlan) -> tuple[bytes, str]:
    """The copy to hand out and how it was made: painted ("redacted") or as cleaned."""
    if not plan.rectangles:
        return copy.data, "metadata-stripped"
    try:
        return redact_image(copy.data, copy.content_type, [Rectangle(*box) for box in plan.rectangles]), "redacted"
    except (BadRectangle, CannotRedact) as error:
        raise Refused(_("This file cannot be painted over: %(why)s") % {"why": error}) from None


def file_derivative_review(
    *,
    derivative: Derivative,
    actor: StaffMember,
    actor_private_key: bytes,
    opened: dict[int, bytes],
    rectangles: Sequence[Box],
    revision: int,
    approve: bool,
) -> Derivative:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    copy = cleaned_copy(derivative.item, actor, actor_private_key)

    def change(fresh: Derivative) -> tuple[bytes, bytes]:
        plan = open_file_plan(fresh, opened)
        if plan is None:
            raise Refused(_("This redaction cannot be opened with your key."))
        boxes: list[Box] = [(r[0], r[1], r[2], r[3]) for r in rectangles]
        updated = _with_change(plan, boxes, actor, timezone.now())
        render_file(copy, updated)  # refuses rectangles outside the image, before anything is saved
        return updated.to_json(), updated.digest()

    return review_save(
        derivative=derivative, actor=actor, actor_private_key=actor_private_key, revision=revision, approve=approve,
        change=change,
    )  # fmt: skip


def _with_change(plan: FilePlan, rectangles: list[Box], actor: StaffMember, at: datetime) -> FilePlan:
    before, after = set(plan.rectangles), set(rectangles)
    change = {
        "by": actor_code(actor),
        "at": at.isoformat(),
        "added": sorted(after - before),
        "taken_back": sorted(before - after),
    }
    changes = plan.changes + ([change] if change["added"] or change["taken_back"] else [])
    return FilePlan(plan.proposed, sorted(rectangles), changes)
