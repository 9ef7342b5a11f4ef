"""Project system checks: they run with ``manage.py check --deploy --fail-level WARNING``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

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
    if settings.SP_INTAKE_CLEARNET_URL and not settings.SP_INTAKE_CLEARNET_URL.startswith("https://"):
        # The page that gives it says the provider sees the visit but not what is written.
        problems.append(Warning("The intake's ordinary address should be an https:// address.", id="core.W005"))
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


@register(deploy=True)
def check_backup_recipient(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PRODUCTION and not settings.SP_BACKUP_RECIPIENT:
        return [
            Warning(
                "No backup recipient is set: no backup is written, and a lost disk loses every case.",
                hint="Make a key with age-keygen on an offline machine and set SP_BACKUP_RECIPIENT to its public key.",
                id="core.W010",
            )
        ]
    return []


HOST_PREFIX = "__Host-"
# (name, Secure, Path, Domain) settings of every cookie the site sets; the vault cookie
# (core/vault.py) is set with the session cookie's attributes.
_COOKIES = (
    ("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN"),
    ("CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_PATH", "CSRF_COOKIE_DOMAIN"),
    ("LANGUAGE_COOKIE_NAME", "LANGUAGE_COOKIE_SECURE", "LANGUAGE_COOKIE_PATH", "LANGUAGE_COOKIE_DOMAIN"),
    ("SP_VAULT_COOKIE_NAME", "SESSION_COOKIE_SECURE", None, None),
)


def _host_cookie_fault(name: str, secure: bool, path: str, domain: str | None) -> str | None:
    if secure and not name.startswith(HOST_PREFIX):
        return f"is Secure but its name {name!r} does not start with {HOST_PREFIX}"
    if name.startswith(HOST_PREFIX) and not (secure and path == "/" and not domain):
        return "is a __Host- cookie without Secure, Path=/ and no Domain: browsers refuse it"
    return None


@register()
def check_cookie_names(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Under HTTPS every cookie is a __Host- cookie, so a sibling host cannot toss a session or
    vault cookie into a person's browser. Production over plain HTTP is flagged too."""
    problems: list[CheckMessage] = []
    plain = []
    for name_setting, secure_setting, path_setting, domain_setting in _COOKIES:
        name = str(getattr(settings, name_setting))
        path = str(getattr(settings, path_setting)) if path_setting else "/"
        domain = getattr(settings, domain_setting) if domain_setting else None
        fault = _host_cookie_fault(name, bool(getattr(settings, secure_setting)), path, domain)
        if fault:
            problems.append(Error(f"The cookie set by {name_setting} {fault}.", id="core.E004"))
        elif not name.startswith(HOST_PREFIX):
            plain.append(name)
    if settings.PRODUCTION and plain:
        problems.append(
            Warning(
                f"Cookies are sent without Secure and the {HOST_PREFIX} prefix: {', '.join(plain)}.",
                hint="Serve both faces over HTTPS (or an onion address) and leave SP_HTTPS on.",
                id="core.W004",
            )
        )
    return problems
