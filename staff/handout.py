"""Showing each trustee their recovery share once, one page per share.

The key being split and its shares wait in the session vault (core.vault: encrypted under a
key only this browser's cookie carries) until every trustee has written their share down and
typed back two of its words; then the caller stores the public half. Closing the browser
before that loses them, and nothing was stored: the organisation keeps the key it had.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from django.http import HttpRequest

from accounts.services import SharePlan
from core.vault import vault_get, vault_put

WORDS_CHECKED = 2


@dataclass(repr=False)
class Handout:
    plan: SharePlan
    shown: int  # index (0-based) of the share on the page now
    check: list[int]  # 0-based positions of the words asked back

    @property
    def done(self) -> bool:
        return self.shown >= len(self.plan.shares)

    @property
    def words(self) -> list[str]:
        return self.plan.shares[self.shown].split()


def _positions(count: int) -> list[int]:
    first = secrets.randbelow(count)
    second = (first + 1 + secrets.randbelow(count - 1)) % count
    return sorted([first, second])


def handout_begin(request: HttpRequest, name: str, plan: SharePlan) -> Handout:
    handout = Handout(plan=plan, shown=0, check=_positions(len(plan.shares[0].split())))
    _save(request, name, handout)
    return handout


def handout_load(request: HttpRequest, name: str) -> Handout | None:
    raw = vault_get(request, name)
    if not raw:
        return None
    data = json.loads(raw)
    plan = SharePlan(
        private_key=bytes.fromhex(data["key"]),
        shares=data["shares"],
        threshold=data["threshold"],
        holders=data["holders"],
    )
    return Handout(plan=plan, shown=data["shown"], check=data["check"])


def handout_forget(request: HttpRequest, name: str) -> None:
    vault_put(request, name, b"")


def handout_confirm(request: HttpRequest, name: str, handout: Handout) -> bool:
    """Whether the trustee ticked "written down" and typed the asked words right; if so the
    next share's page comes (``handout.done`` after the last)."""
    typed = [" ".join(request.POST.get(f"word_{position}", "").lower().split()) for position in handout.check]
    expected = [handout.words[position] for position in handout.check]
    if request.POST.get("written") != "yes" or typed != expected:
        return False
    handout.shown += 1
    if not handout.done:
        handout.check = _positions(len(handout.words))
    _save(request, name, handout)
    return True


def handout_context(handout: Handout) -> dict[str, object]:
    holder = handout.plan.holders[handout.shown]
    return {
        "share_number": handout.shown + 1,
        "share_count": len(handout.plan.shares),
        "threshold": handout.plan.threshold,
        "holder_id": holder,
        "numbered_words": list(enumerate(handout.words, start=1)),
        "check_positions": [(position, position + 1) for position in handout.check],
    }


def _save(request: HttpRequest, name: str, handout: Handout) -> None:
    plan = handout.plan
    data = {
        "key": plan.private_key.hex(),
        "shares": plan.shares,
        "threshold": plan.threshold,
        "holders": plan.holders,
        "shown": handout.shown,
        "check": handout.check,
    }
    vault_put(request, name, json.dumps(data).encode())
