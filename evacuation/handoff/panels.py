"""What the case page shows of hand-offs: what a partner handed over with this case (opened
with the member's case keys) and, for coordinators, the link to hand the case on."""

from __future__ import annotations

from typing import Any

from accounts import permissions
from accounts.models import StaffMember
from casework.models import Case
from evacuation.handoff import selectors


def case_page_context(*, case: Case, member: StaffMember, opened: dict[int, bytes]) -> dict[str, Any]:
    return {
        "handoff_imported": selectors.imported_content(case, opened),
        "handoff_exports": selectors.case_exports(case) if permissions.can_hand_off(member) else [],
    }
