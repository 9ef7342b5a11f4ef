"""Project system checks: they run with ``manage.py check --deploy --fail-level WARNING``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

import sealbox


@register(deploy=True)
def check_argon2_strength(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.SP_ARGON2.is_production_strength() or settings.SP_ALLOW_WEAK_ARGON2:
        return []
    wanted = sealbox.PRODUCTION_ARGON2
    return [
        Error(
            "Argon2id parameters are weaker than the production minimum.",
            hint=f"Set SP_ARGON2_MEMORY_KIB>={wanted.memory_kib} and SP_ARGON2_TIME_COST>={wanted.time_cost}.",
            id="core.E001",
        )
    ]


@register()
def check_argon2_not_weak_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and not settings.SP_ARGON2.is_production_strength():
        return [Error("Weak Argon2id parameters are never allowed in production.", id="core.E002")]
    return []


@register()
def check_instance_secret(app_configs: Any, **kwargs: Any) -> list[Error]:
    pepper = getattr(settings, "SP_PEPPER", b"")
    if len(pepper) < 32 or len(set(pepper)) < 8:
        return [Error("The instance secret (SP_PEPPER) is missing or not random.", id="core.E003")]
    return []


@register(deploy=True)
def check_intake_exit_and_hosts(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problems = []
    if not settings.SP_QUICK_EXIT_URL.startswith("https://"):
        problems.append(Warning("The quick-exit address should be an https:// site.", id="core.W001"))
    if settings.PRODUCTION and any(host in {"*", ".*"} for host in settings.ALLOWED_HOSTS):
        problems.append(Warning("SP_ALLOWED_HOSTS must not be a wildcard.", id="core.W002"))
    if settings.PRODUCTION and not settings.SP_RECOVERY_PUBLIC_KEY:
        problems.append(
            Warning(
                "The recovery public key is not pinned: someone able to write to the database could swap it.",
                hint="Set SP_RECOVERY_PUBLIC_KEY to the value the console showed when the key was created.",
                id="core.W003",
            )
        )
    return problems
