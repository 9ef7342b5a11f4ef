"""The safe-house section of the case page (casework.case_page): where the person stays, the
placements before, and for those who place people, the placement form. The address itself is
shown only after an audited request (views.placement_address), in that one response.
Registered in SafehousesConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember
from casework import case_page
from casework.case_page import Panel, PanelRequest, Section
from casework.lifecycle import State
from casework.models import Case
from evacuation.safehouses import selectors
from evacuation.safehouses.forms import PlacementForm
from evacuation.safehouses.models import Placement

SAFE_HOUSE = "safehouse"


def _safehouse(page: PanelRequest) -> Mapping[str, Any]:
    case, member = page.case, page.member
    placements = selectors.case_placements(case)
    current = next((placement for placement in placements if placement.is_active), None)
    may_place = permissions.can_place_person(member)
    may_confirm = current is not None and not current.is_confirmed and permissions.can_manage_safe_houses(member)
    offered = may_place and current is None and case.status == State.VERIFIED
    address_shown = page.returned is not None and page.returned.name == "address"
    return {
        "placement_may_confirm": may_confirm,
        "placement": current,
        "placement_history": [placement for placement in placements if not placement.is_active],
        "placement_verified": case.status == State.VERIFIED,
        "placement_may_place": may_place,
        "placement_form": page.returned_form("placement") or (PlacementForm() if offered else None),
        "placement_error": page.returned_error("placement"),
        "placement_address_shown": address_shown,
        "placement_address": page.returned_about("address") or "",
    }


def _stay_to_confirm(case: Case, member: StaffMember) -> bool:
    if not permissions.can_manage_safe_houses(member):
        return False
    return Placement.objects.filter(case=case, ended_at__isnull=True, status=Placement.Status.REQUESTED).exists()


def register() -> None:
    case_page.register_section(Section(SAFE_HOUSE, _("Safe house"), order=50))
    case_page.register_panel(
        Panel("safehouse", "safehouses/case_panel.html", _safehouse, 10, SAFE_HOUSE, attention=_stay_to_confirm)
    )
