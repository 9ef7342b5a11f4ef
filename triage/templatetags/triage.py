"""Template helper: a case's state label."""

from __future__ import annotations

from django import template

from casework.lifecycle import state_label

register = template.Library()


@register.filter(name="state_label")
def state_label_filter(value: str) -> str:
    return state_label(value)
