"""Template helpers: a case's state label and the state form on the case page."""

from __future__ import annotations

from typing import Any

from django import template

from triage.lifecycle import ClosingReason, State, state_label, transitions_from

register = template.Library()


@register.filter(name="state_label")
def state_label_filter(value: str) -> str:
    return state_label(value)


@register.inclusion_tag("triage/case_state.html", takes_context=True)
def case_state_panel(context: Any, case: Any) -> dict[str, Any]:
    member = context["request"].user
    moves = transitions_from(case.status, member)
    return {
        "case": case,
        "csrf_token": context.get("csrf_token"),
        "state": state_label(case.status),
        "opens": [t for t in moves if t.to_state != State.CLOSED],
        "can_close": any(t.to_state == State.CLOSED for t in moves),
        "reasons": ClosingReason.choices,
    }
