"""Templates ask accounts.permissions what the logged-in member may do: ``{% if may.edit_rota %}``.

Each answer is worked out only when a template asks for it. A name that is not a capability of
the member alone raises AttributeError, which a template shows as false (tests check that every
name the templates use exists)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import permissions


class Capabilities:
    def __init__(self, member: Any) -> None:
        self._member = member

    def __getattr__(self, name: str) -> bool:
        if name not in permissions.MEMBER_CAPABILITIES:
            raise AttributeError(name)
        answer: bool = getattr(permissions, f"can_{name}")(self._member)
        return answer


def capabilities(request: HttpRequest) -> dict[str, Any]:
    return {"may": Capabilities(getattr(request, "user", None))}
