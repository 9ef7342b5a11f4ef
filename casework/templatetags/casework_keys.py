"""Template helper: how many owed case keys the logged-in member could hand on now (shown
beside "Access waiting to be handed on" in the navigation, so a key holder notices at once)."""

from __future__ import annotations

from typing import Any

from django import template

from casework.teams import keys_to_hand_on as _keys_to_hand_on

register = template.Library()


@register.simple_tag(takes_context=True)
def keys_to_hand_on(context: Any) -> int:
    request = context.get("request")
    member = getattr(request, "user", None)
    if member is None or not member.is_authenticated:
        return 0
    return _keys_to_hand_on(member)
