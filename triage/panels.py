"""triage's part of the case page (casework.case_page): the case's state and the moves this
member may make from it, on the state section. Registered in TriageConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casework import case_page
from casework.case_page import Panel, PanelRequest
from casework.lifecycle import TRANSITIONS, ClosingReason, State, guard_refusal, state_label, transitions_from

STATE = "state"  # casework's section of the case's state and warnings


def _state(page: PanelRequest) -> Mapping[str, Any]:
    case = page.case
    moves = transitions_from(case.status, page.member)
    others = [t for t in TRANSITIONS if t.from_state == case.status and t not in moves]
    return {
        "state": state_label(case.status),
        "opens": [t for t in moves if t.to_state != State.CLOSED],
        "can_close": any(t.to_state == State.CLOSED for t in moves),
        "reasons": ClosingReason.choices,
        # Why an offered move would be refused now (its guard), and the moves of this state
        # the member's role may not make: said, not hidden.
        "waits": [
            refusal
            for t in moves
            if (refusal := guard_refusal(case, t.from_state, t.to_state, page.member)) is not None
        ],
        "not_for_role": ", ".join(str(t.label) for t in others),
    }


def register() -> None:
    case_page.register_panel(Panel("case_state", "triage/case_state.html", _state, 10, STATE))
