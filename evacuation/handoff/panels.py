"""The hand-off part of the access section of the case page (casework.case_page): what a
partner handed over with the case (opened with the member's case keys) and, for coordinators,
the link to hand the case on. Registered in HandoffConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts import permissions
from accounts.models import StaffMember
from casework import case_page
from casework.case_page import Panel, PanelRequest
from casework.models import Case, PersonCredential
from evacuation.handoff import selectors
from evacuation.handoff.models import HandoffImport

ACCESS = "access"  # casework's section of who can read the case


def _handoff(page: PanelRequest) -> Mapping[str, Any]:
    return {
        "handoff_imported": selectors.imported_content(page.case, page.opened),
        "handoff_exports": selectors.case_exports(page.case) if permissions.can_hand_off(page.member) else [],
    }


def _needs_codename(case: Case, member: StaffMember) -> bool:
    """Handed over by a partner, and the person has no codename with us yet: issue one."""
    if not HandoffImport.objects.filter(case=case).exists():
        return False
    return not PersonCredential.objects.filter(case=case, revoked_at__isnull=True).exists()


def register() -> None:
    case_page.register_panel(
        Panel("handoff", "handoff/case_panel.html", _handoff, 20, ACCESS, attention=_needs_codename)
    )
