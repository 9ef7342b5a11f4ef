"""Typed helpers that read settings from the environment.

Every secret may also come from a file named by ``<NAME>_FILE`` (Docker and systemd
credentials), so secrets never need to sit in the environment of every process.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else default


def env_secret(name: str) -> str | None:
    """The value of NAME, or the contents of the file named by NAME_FILE, or None."""
    direct = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if direct and path:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc.strerror}") from None
    return direct or None


def dev_secret(path: Path, nbytes: int = 32) -> str:
    """Read a development secret under var/, creating it (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(os.urandom(nbytes).hex())
    return path.read_text(encoding="utf-8").strip()


def env_amounts(name: str, default: str) -> dict[str, Decimal]:
    """Amounts by currency written as ``RUB:50000,EUR:500`` (no JSON): each code three capital
    letters, each amount a positive number with a dot for decimals."""
    raw = os.environ.get(name, default)
    amounts: dict[str, Decimal] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        code, _sep, amount = item.partition(":")
        code = code.strip()
        if not (len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()):
            raise ImproperlyConfigured(f"{name}: {code!r} is not a three-letter currency code like RUB")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise ImproperlyConfigured(f"{name}: the amount for {code} must be a number, not {amount!r}") from None
        if not value.is_finite() or value <= 0:
            raise ImproperlyConfigured(f"{name}: the amount for {code} must be above zero")
        if code in amounts:
            raise ImproperlyConfigured(f"{name}: {code} is given twice")
        amounts[code] = value
    return amounts
