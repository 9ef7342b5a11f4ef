"""What the case page shows of this app: where the person is placed and, for those who may
place people, the placement form. The address itself is shown only after an audited request
(views.placement_address). casework.views._render_case merges this into its context."""

from __future__ import annotations

from typing import Any

from accounts import permissions
from accounts.models import StaffMember
from casework.models import Case
from evacuation.safehouses import selectors
from evacuation.safehouses.forms import PlacementForm
from triage.lifecycle import State


def case_page_context(*, case: Case, member: StaffMember) -> dict[str, Any]:
    placements = selectors.case_placements(case)
    current = next((placement for placement in placements if placement.is_active), None)
    may_place = permissions.can_place_person(member)
    may_confirm = current is not None and not current.is_confirmed and permissions.can_manage_safe_houses(member)
    return {
        "placement_may_confirm": may_confirm,
        "placement": current,
        "placement_history": [placement for placement in placements if not placement.is_active],
        "placement_verified": case.status == State.VERIFIED,
        "placement_may_place": may_place,
        "placement_form": PlacementForm() if may_place and current is None and case.status == State.VERIFIED else None,
    }
