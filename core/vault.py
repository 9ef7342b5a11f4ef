"""Secrets that live only as long as a session, split between server and browser.

The server-side session stores a secret only encrypted under a random key that exists in a
single place: a cookie in the person's browser (HttpOnly, SameSite=Strict, gone when the
browser closes). The session table alone, or the cookie alone, opens nothing — so a seized
server holds no usable key while nobody is logged in, and none of a person who logged out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

import sealbox

VAULT_COOKIE = "sp_vk"
_SESSION_PREFIX = "vault:"


class VaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request._vault_key = _read_cookie(request)  # type: ignore[attr-defined]
        request._vault_new_key = None  # type: ignore[attr-defined]
        request._vault_clear = False  # type: ignore[attr-defined]
        response = self.get_response(request)
        if request._vault_clear or _orphaned(request):  # type: ignore[attr-defined]
            response.delete_cookie(VAULT_COOKIE, samesite="Strict")
        elif request._vault_new_key is not None:  # type: ignore[attr-defined]
            response.set_cookie(
                VAULT_COOKIE,
                base64.urlsafe_b64encode(request._vault_new_key).decode(),  # type: ignore[attr-defined]
                max_age=None,
                httponly=True,
                samesite="Strict",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _orphaned(request: HttpRequest) -> bool:
    """A vault key cookie whose session holds no vault entry (the session expired after the
    idle timeout, or was ended): it opens nothing, so the browser should not keep it."""
    if request.COOKIES.get(VAULT_COOKIE) is None or request._vault_new_key is not None:  # type: ignore[attr-defined]
        return False
    session = getattr(request, "session", None)
    return session is not None and not any(name.startswith(_SESSION_PREFIX) for name in session.keys())


def _read_cookie(request: HttpRequest) -> bytes | None:
    raw = request.COOKIES.get(VAULT_COOKIE)
    if not raw:
        return None
    try:
        key = base64.urlsafe_b64decode(raw.encode())
    except ValueError:
        return None
    return key if len(key) == sealbox.KEY_BYTES else None


def _ctx(name: str) -> bytes:
    # Not bound to the session key: Django's login() cycles it. An entry copied into another
    # session is useless anyway, since only this browser's cookie holds the key that opens it.
    return sealbox.context("vault", name)


def vault_put(request: HttpRequest, name: str, secret: bytes) -> None:
    """Keep ``secret`` for as long as this browser session lasts."""
    key = request._vault_key  # type: ignore[attr-defined]
    if key is None:
        key = sealbox.random_key()
        request._vault_key = key  # type: ignore[attr-defined]
        request._vault_new_key = key  # type: ignore[attr-defined]
    sealed = sealbox.encrypt(key, secret, ctx=_ctx(name))
    request.session[_SESSION_PREFIX + name] = base64.b64encode(sealed).decode()


def vault_get(request: HttpRequest, name: str) -> bytes | None:
    key = request._vault_key  # type: ignore[attr-defined]
    stored = request.session.get(_SESSION_PREFIX + name)
    if key is None or stored is None:
        return None
    try:
        return sealbox.decrypt(key, base64.b64decode(stored), ctx=_ctx(name))
    except sealbox.CryptoError:
        return None


def vault_clear(request: HttpRequest) -> None:
    """Forget every vault secret: flush the session and drop the browser's key."""
    request.session.flush()
    request._vault_key = None  # type: ignore[attr-defined]
    request._vault_new_key = None  # type: ignore[attr-defined]
    request._vault_clear = True  # type: ignore[attr-defined]


def vault_start_fresh(request: HttpRequest) -> None:
    """New session id and new vault key, e.g. at login, so nothing carries over."""
    request.session.flush()
    request._vault_key = None  # type: ignore[attr-defined]
    request._vault_new_key = None  # type: ignore[attr-defined]
