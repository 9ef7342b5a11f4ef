"""Reads of safe houses: occupancy, and what the case page shows."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from casework.models import Case
from evacuation.safehouses.models import Placement, SafeHouse


def houses_with_occupancy() -> QuerySet[SafeHouse]:
    """Every safe house, each with ``occupied``: how many stays there have not ended."""
    return SafeHouse.objects.annotate(
        occupied=Count("placements", filter=Q(placements__ended_at__isnull=True))
    ).annotate(free=F("capacity") - F("occupied"))


def house_placements(house: SafeHouse) -> list[Placement]:
    return list(house.placements.select_related("case").order_by("ended_at", "-starts_on"))


def case_placements(case: Case) -> list[Placement]:
    """The case's stays, the current one first."""
    return list(Placement.objects.filter(case=case).select_related("safe_house").order_by("-created_at"))
