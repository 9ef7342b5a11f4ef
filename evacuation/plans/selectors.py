"""Reads that open plans and legs for one member; nothing decrypted is cached or stored.

A leg sealed to a key version the member does not hold is shown as unreadable (content None,
no mode or dates), not hidden, so nobody mistakes it for missing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from casework.models import Case
from evacuation.plans import crypto
from evacuation.plans.models import Destination, EvacuationPlan, Leg, LegDocument, Mode


@dataclass(frozen=True)
class LegView:
    id: uuid.UUID
    position: int
    mode: str  # "" (and no dates) when the content is unreadable
    mode_label: str
    status: str
    status_label: str
    planned_departure: date | None
    planned_arrival: date | None
    actual_departure: date | None
    actual_arrival: date | None
    content: crypto.LegContent | None  # None: sealed to a key version this member does not hold
    destination: Destination | None
    documents: list[LegDocument]
    revision: int
    updated_by: str
    updated_at: datetime


def active_plan(case: Case) -> EvacuationPlan | None:
    return EvacuationPlan.objects.filter(case=case, is_active=True).select_related("case").first()


def leg_on_plan(plan: EvacuationPlan, leg_id: uuid.UUID) -> Leg | None:
    return Leg.objects.filter(plan=plan, pk=leg_id).select_related("plan__case", "updated_by").first()


def open_leg_content(leg: Leg, opened: dict[int, bytes]) -> crypto.LegContent | None:
    ctx = crypto.leg_ctx(leg.id, leg.plan_id, leg.plan.case)
    return crypto.open_leg(opened, leg.case_key_id, bytes(leg.content_ct), ctx=ctx)


def _mode_label(mode: str) -> str:
    return str(Mode(mode).label) if mode in Mode.values else mode


def open_leg(leg: Leg, opened: dict[int, bytes], destinations: dict[int, Destination]) -> LegView:
    content = open_leg_content(leg, opened)
    destination = destinations.get(content.destination_id) if content and content.destination_id else None
    return LegView(
        leg.id,
        leg.position,
        content.mode if content else "",
        _mode_label(content.mode) if content else "",
        leg.status,
        leg.get_status_display(),
        content.planned_departure if content else None,
        content.planned_arrival if content else None,
        content.actual_departure if content else None,
        content.actual_arrival if content else None,
        content,
        destination,
        sorted(leg.documents.all(), key=lambda document: document.pk),
        leg.revision,
        leg.updated_by.username,
        leg.updated_at,
    )


def destinations_by_id() -> dict[int, Destination]:
    return {destination.pk: destination for destination in Destination.objects.all()}


def plan_legs(plan: EvacuationPlan, opened: dict[int, bytes]) -> list[LegView]:
    legs = (
        Leg.objects.filter(plan=plan)
        .select_related("plan__case", "updated_by")
        .prefetch_related("documents")
        .order_by("position", "pk")
    )
    destinations = destinations_by_id()
    return [open_leg(leg, opened, destinations) for leg in legs]
