"""Who may see a console page. Every console view is wrapped in exactly one of these."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from weakref import WeakKeyDictionary

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from accounts import permissions
from accounts.keyring import SESSION_GENERATION, session_private_key, session_signing_key, staff_keys_proven
from accounts.models import StaffMember
from core.vault import vault_clear

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]


@dataclass(frozen=True, repr=False)
class StaffKeys:
    """The logged-in member's keys, unlocked for this session and proven for this request by
    staff_required: ``private_key`` opens what is sealed to them (case key wraps), and
    ``signing_key`` (the signing seed) signs their replies and sign-offs."""

    private_key: bytes
    signing_key: bytes


# Filled by staff_required only, read through staff_keys only; an entry goes with its request.
_PROVEN: WeakKeyDictionary[HttpRequest, StaffKeys] = WeakKeyDictionary()


class KeysNotUnlocked(RuntimeError):
    """staff_keys was asked outside a view wrapped in staff_required: a programming error."""


def staff_keys(request: HttpRequest) -> StaffKeys:
    """The member's keys for this request, as staff_required proved them."""
    found = _PROVEN.get(request)
    if found is None:
        raise KeysNotUnlocked("staff_keys() is only for views wrapped in staff_required")
    return found


def staff_member(request: HttpRequest) -> StaffMember:
    user = request.user
    if not isinstance(user, StaffMember):
        raise PermissionDenied
    return user


def staff_required(view: View) -> View:
    """Logged in with password and TOTP, and the private key unlocked in this session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)()
        if not (user.is_authenticated and user.is_active and verified):
            return redirect("accounts:login")
        if request.session.get(SESSION_GENERATION) != getattr(user, "session_generation", None):
            # Ended by "sign out everywhere" or a password change elsewhere: forget it all here.
            vault_clear(request)
            return redirect("accounts:login")
        private_key = session_private_key(request)
        signing_key = session_signing_key(request)
        if private_key is None or signing_key is None:
            # A session from before replies were signed holds no signing key: logging in
            # again creates and unlocks it.
            return redirect("accounts:login")
        if not staff_keys_proven(user, private_key, signing_key):
            # The row was changed under this session (a key or certificate swapped in the
            # database): nothing more is done with these keys. Two keyed hashes and two
            # public-key derivations, well under a millisecond.
            logger.warning("staff member %s: session ended, the account's keys are no longer proven", user.pk)
            vault_clear(request)
            return redirect("accounts:login")
        _PROVEN[request] = StaffKeys(private_key, signing_key)
        return view(request, *args, **kwargs)

    return wrapper


def coordinator_required(view: View) -> View:
    @staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not permissions.can_open_coordinator_pages(staff_member(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def recovery_required(view: View) -> View:
    """The recovery pages (recovery app): whoever may take part in a recovery ceremony."""

    @staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not permissions.can_run_recovery(staff_member(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
