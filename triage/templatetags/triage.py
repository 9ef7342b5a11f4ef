"""Template helpers: a case's state label and the state form on the case page."""

from __future__ import annotations

from typing import Any

from django import template

from casework.lifecycle import TRANSITIONS, ClosingReason, State, guard_refusal, state_label, transitions_from

register = template.Library()


@register.filter(name="state_label")
def state_label_filter(value: str) -> str:
    return state_label(value)


@register.inclusion_tag("triage/case_state.html", takes_context=True)
def case_state_panel(context: Any, case: Any) -> dict[str, Any]:
    member = context["request"].user
    moves = transitions_from(case.status, member)
    others = [t for t in TRANSITIONS if t.from_state == case.status and t not in moves]
    return {
        "case": case,
        "csrf_token": context.get("csrf_token"),
        "state": state_label(case.status),
        "opens": [t for t in moves if t.to_state != State.CLOSED],
        "can_close": any(t.to_state == State.CLOSED for t in moves),
        "reasons": ClosingReason.choices,
        # Why an offered move would be refused now (its guard), and the moves of this state
        # the member's role may not make: said, not hidden.
        "waits": [
            refusal for t in moves if (refusal := guard_refusal(case, t.from_state, t.to_state, member)) is not None
        ],
        "not_for_role": ", ".join(str(t.label) for t in others),
    }
