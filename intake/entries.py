"""What other apps add to the person's conversation page (evacuation.checkins: the check-in
button), registered from their AppConfig.ready() (core.hooks.HookPoint).

Each function gets the page being shown and returns the template to include, or None. Every
registered function runs for every conversation page, whatever it returns, so a page costs the
same queries either way: a captor must not tell a danger-word login from a real one by timing."""

from __future__ import annotations

from dataclasses import dataclass

from casework.models import Case
from core.hooks import HookPoint


@dataclass(frozen=True)
class ConversationShown:
    case: Case
    # A danger-word login, or the case under duress: show nothing that would tell a captor more.
    decoy: bool


conversation_entries: HookPoint[ConversationShown, str | None] = HookPoint("conversation entries")


def entries_for(shown: ConversationShown) -> list[str]:
    """The templates to include on the page, in order (conversation.html)."""
    return [template for template in conversation_entries.run(shown) if template is not None]
