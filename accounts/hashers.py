from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class SafePassageArgon2Hasher(Argon2PasswordHasher):
    """Django's Argon2id hasher with the instance's configured cost (tests run it cheap)."""

    @property
    def time_cost(self) -> int:  # type: ignore[override]  # a property where Django has a class attribute
        return int(settings.SP_ARGON2.time_cost)

    @property
    def memory_cost(self) -> int:  # type: ignore[override]  # a property where Django has a class attribute
        return int(settings.SP_ARGON2.memory_kib)

    parallelism = 1
