"""retention's part of the case page (casework.case_page): on the case's state section, when
the case will be shredded, or that it is kept or on hold, with the hold toggle and the
shred-now form for coordinators; on every section, a warning when the person asked from the
intake to delete what they wrote. Registered in RetentionConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casework import case_page
from casework.case_page import WARNINGS, Panel, PanelRequest
from casework.models import Case
from casework.panels import STATE
from retention import policies
from retention.forms import HoldForm, ShredNowForm
from retention.models import DeletionRequest, HoldReason


def _retention(page: PanelRequest) -> Mapping[str, Any]:
    due = policies.shred_due(page.case)
    hold = policies.hold_state(page.case)
    closing = due.closing
    return {
        "is_closed": page.case.status == Case.Status.CLOSED,
        "due_at": due.at,
        "keep_days": due.keep_days,
        "closing_reason": closing.reason if closing else "",
        "held": hold.held,
        "hold_untrusted": hold.untrusted,
        "hold_reason": HoldReason(hold.reason).label if hold.reason in HoldReason.values else "",
        "hold_form": page.returned_form("hold") or HoldForm(),
        "hold_error": page.returned_error("hold"),
        "shred_form": page.returned_form("shred") or ShredNowForm(),
        "shred_error": page.returned_error("shred"),
    }


def _deletion_asked(page: PanelRequest) -> Mapping[str, Any]:
    asked = DeletionRequest.objects.filter(case=page.case).order_by("-asked_at").first()
    return {"deletion_request": asked}


def register() -> None:
    case_page.register_panel(Panel("retention", "retention/case_panel.html", _retention, order=90, section=STATE))
    case_page.register_panel(
        Panel("deletion_asked", "retention/deletion_asked.html", _deletion_asked, 20, None, WARNINGS)
    )
