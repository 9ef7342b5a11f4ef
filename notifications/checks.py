"""System checks for the notification channels (run at start and by ``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from notifications.matrix import matrix_enabled, matrix_problems


@register()
def check_matrix_bot(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Matrix half set up would silently drop staff notifications: refuse to start instead."""
    if not matrix_enabled():
        return []
    return [
        Error(
            f"Matrix notifications are half set up: {problem}",
            hint="Set SP_MATRIX_HOMESERVER, SP_MATRIX_USER_ID and SP_MATRIX_ACCESS_TOKEN(_FILE), or none of them.",
            id="notifications.E001",
        )
        for problem in matrix_problems()
    ]


@register()
def check_webhook_loopback(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Webhooks to this machine are for tests and development: in production a staff member
    could reach the server's own services through them."""
    if settings.PRODUCTION and settings.SP_WEBHOOK_ALLOW_LOOPBACK:
        return [
            Error(
                "SP_WEBHOOK_ALLOW_LOOPBACK is on in production.",
                hint="Remove SP_WEBHOOK_ALLOW_LOOPBACK (or set it to false); webhooks must be public https addresses.",
                id="notifications.E002",
            )
        ]
    return []
