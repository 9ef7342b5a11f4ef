"""Secrets that live only as long as a session, split between server and browser.

The server-side session stores a secret only encrypted under a random key that exists in a
single place: a cookie in the person's browser (HttpOnly, SameSite=Strict, gone when the
browser closes). The session table alone, or the cookie alone, opens nothing — so a seized
server holds no usable key while nobody is logged in, and none of a person who logged out.

The key is always one the server minted for this very session. The session keeps a keyed
check value of it (never the key), and a key the browser brings is used only if it matches
that check. Any other cookie, one planted in the browser by someone who wants to read the
session table later or one the server minted for another browser, opens nothing and never
seals anything: the next secret gets a new key, a new session id and a new cookie.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import nacl.hash
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from nacl.encoding import RawEncoder

import sealbox

_SESSION_PREFIX = "vault:"
_CHECK = "vault_check"
_CHECK_KEY_PURPOSE = b"sp.vault-key.v1"
_CHECK_PERSONAL = b"sp.vault-chk.v1"
# The same attributes when the cookie is set and when it is deleted: a browser only lets a
# __Host- cookie be replaced by one that is Secure, Path=/ and without Domain.
_COOKIE_PATH = "/"


def vault_cookie_name() -> str:
    """``sp_vk``, or ``__Host-sp_vk`` when cookies are Secure (config/settings.py)."""
    return str(settings.SP_VAULT_COOKIE_NAME)


@dataclass
class _VaultState:
    cookie_key: bytes | None  # what the browser brought: not trusted until checked
    checked: bool = False
    key: bytes | None = None  # this session's key, once checked (or minted)
    new_key: bytes | None = None  # minted in this request: the response sets the cookie
    cleared: bool = False  # vault_clear ran: the browser's CSRF cookie goes with the session


class VaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request._vault = _VaultState(cookie_key=_read_cookie(request))  # type: ignore[attr-defined]  # the request's vault state
        response = self.get_response(request)
        state = _state(request)
        if state.new_key is not None:
            _set_cookie(response, base64.urlsafe_b64encode(state.new_key).decode())
        elif _stale_cookie(request, state):
            _set_cookie(response, "", delete=True)
        if state.cleared:
            _forget_csrf_cookie(request, response)
        return response


def _forget_csrf_cookie(request: HttpRequest, response: HttpResponse) -> None:
    """Leaving (quick exit, logout) or starting afresh (login) also drops the CSRF cookie, so
    a browser that left keeps no cookie of the session's. A login that rotates the token sets
    a new one afterwards: CsrfViewMiddleware runs outside this middleware."""
    name = settings.CSRF_COOKIE_NAME
    if name in request.COOKIES and name not in response.cookies:
        # One of the values Django allows (config/settings.py sets "Strict"); the settings module types it as str.
        samesite = cast(Literal["Lax", "Strict", "None", False], settings.CSRF_COOKIE_SAMESITE)
        response.delete_cookie(name, path=settings.CSRF_COOKIE_PATH, samesite=samesite)


def _set_cookie(response: HttpResponse, value: str, *, delete: bool = False) -> None:
    response.set_cookie(
        vault_cookie_name(),
        value,
        max_age=0 if delete else None,
        expires="Thu, 01 Jan 1970 00:00:00 GMT" if delete else None,
        path=_COOKIE_PATH,
        domain=None,
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _stale_cookie(request: HttpRequest, state: _VaultState) -> bool:
    """A vault cookie that is not this session's key (the session expired after the idle
    timeout, was ended, or never had this key): it opens nothing, so the browser should not
    keep it."""
    if request.COOKIES.get(vault_cookie_name()) is None:
        return False
    if getattr(request, "session", None) is None:
        return False
    return _session_key(request) is None


def _state(request: HttpRequest) -> _VaultState:
    state = getattr(request, "_vault", None)
    if state is None:  # a request that did not pass through the middleware
        state = _VaultState(cookie_key=_read_cookie(request))
        request._vault = state  # type: ignore[attr-defined]  # the request's vault state
    return state


def _read_cookie(request: HttpRequest) -> bytes | None:
    raw = request.COOKIES.get(vault_cookie_name())
    if not raw:
        return None
    try:
        key = base64.urlsafe_b64decode(raw.encode())
    except ValueError:
        return None
    return key if len(key) == sealbox.KEY_BYTES else None


def _check_value(key: bytes) -> str:
    """A keyed hash of a vault key, under a key derived from the instance secret: it tells
    the server whether a cookie is the key it minted, and tells a database reader nothing."""
    check_key = sealbox.server_subkey(settings.SP_PEPPER, _CHECK_KEY_PURPOSE)
    tag = nacl.hash.blake2b(key, digest_size=32, key=check_key, person=_CHECK_PERSONAL, encoder=RawEncoder)
    return base64.b64encode(tag).decode()


def _session_key(request: HttpRequest) -> bytes | None:
    """The browser's key if it is the one minted for this session, else None."""
    state = _state(request)
    if not state.checked:
        state.checked = True
        stored = request.session.get(_CHECK)
        cookie = state.cookie_key
        if cookie is not None and isinstance(stored, str) and hmac.compare_digest(stored, _check_value(cookie)):
            state.key = cookie
    return state.key


def _mint(request: HttpRequest) -> bytes:
    """A new key for this session, with a new session id. Entries sealed under an earlier key
    are dropped: this browser cannot open them any more."""
    session = request.session
    for name in [name for name in session.keys() if name.startswith(_SESSION_PREFIX)]:
        del session[name]
    if session.session_key is not None:
        # Whoever knew the old session id (it may have been planted too) shares nothing that
        # is sealed from now on.
        session.cycle_key()
    key = sealbox.random_key()
    session[_CHECK] = _check_value(key)
    state = _state(request)
    state.checked, state.key, state.new_key = True, key, key
    return key


def _ctx(name: str) -> bytes:
    # Not bound to the session key: Django's login() cycles it. An entry copied into another
    # session is useless anyway, since only this browser's cookie holds the key that opens it.
    return sealbox.context("vault", name)


def vault_put(request: HttpRequest, name: str, secret: bytes) -> None:
    """Keep ``secret`` for as long as this browser session lasts."""
    key = _session_key(request) or _mint(request)
    sealed = sealbox.encrypt(key, secret, ctx=_ctx(name))
    request.session[_SESSION_PREFIX + name] = base64.b64encode(sealed).decode()


def vault_get(request: HttpRequest, name: str) -> bytes | None:
    key = _session_key(request)
    stored = request.session.get(_SESSION_PREFIX + name)
    if key is None or stored is None:
        return None
    try:
        return sealbox.decrypt(key, base64.b64decode(stored), ctx=_ctx(name))
    except sealbox.CryptoError:
        return None


def _forget_key(request: HttpRequest) -> None:
    state = _state(request)
    state.checked, state.key, state.new_key = True, None, None


def vault_clear(request: HttpRequest) -> None:
    """Forget every vault secret: flush the session; the response deletes the browser's key."""
    request.session.flush()
    _forget_key(request)
    _state(request).cleared = True


def vault_start_fresh(request: HttpRequest) -> None:
    """New session id and, at the next ``vault_put``, a new vault key (e.g. at login), so
    nothing carries over."""
    vault_clear(request)
