"""Deploy checks about the organisation recovery key (they read the database when it is there)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.db import DatabaseError

from accounts.models import RecoveryKey, RecoveryShareSet


@register(deploy=True)
def check_recovery_key_is_shared(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A recovery key held by one person is a single point of failure (T12): warn until it is
    split among trustees, and until the pin names the key a ceremony rotated to."""
    try:
        key = RecoveryKey.objects.filter(slot=1).first()
        shared = key is not None and RecoveryShareSet.objects.filter(slot=1, public_key=key.public_key).exists()
    except DatabaseError:  # no database yet (a fresh deployment): nothing to say about its rows
        return []
    problems: list[CheckMessage] = []
    if key is not None and not shared:
        problems.append(
            Warning(
                "The organisation recovery key is held by one person, not split among trustees.",
                hint="A coordinator runs a recovery ceremony (Recovery, 'New recovery key and trustees') to split it.",
                id="accounts.W001",
            )
        )
    pinned = settings.SP_RECOVERY_PUBLIC_KEY
    if key is not None and pinned and pinned != bytes(key.public_key):
        problems.append(
            Warning(
                "SP_RECOVERY_PUBLIC_KEY names an earlier recovery key: a ceremony made a new one.",
                hint=f"Set SP_RECOVERY_PUBLIC_KEY={bytes(key.public_key).hex()} and restart.",
                id="accounts.W002",
            )
        )
    return problems
