"""Template helper: the red-flag mark in lists of cases."""

from __future__ import annotations

from typing import Any

from django import template

from vetting import selectors

register = template.Library()


@register.filter
def red_flagged(case: Any) -> bool:
    # The inbox loads its page's cases with this already (casework.selectors.inbox_page).
    known = getattr(case, "red_flagged", None)
    return selectors.is_red_flagged(case) if known is None else bool(known)
