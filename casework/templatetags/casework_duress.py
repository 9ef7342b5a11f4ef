"""Template helper: what the release button of a held reply tells the coordinator."""

from __future__ import annotations

from django import template

from casework.models import Case
from casework.selectors import MessageView
from casework.services import held_reply_release_note

register = template.Library()


@register.simple_tag
def release_note(case: Case, message: MessageView) -> str:
    """When the person will see the reply if it is released now, in the member's language."""
    return held_reply_release_note(case, message.created_at)
