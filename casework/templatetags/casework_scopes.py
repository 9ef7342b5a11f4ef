"""Template helper: whether the console shows a member the "Team cases" page (casework.scopes)."""

from __future__ import annotations

from typing import Any

from django import template

from casework.scopes import Scope, scope_for

register = template.Library()


@register.filter
def sees_cases_in_scope(member: Any) -> bool:
    return hasattr(member, "role") and scope_for(member) != Scope.NONE
