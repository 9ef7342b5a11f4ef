"""Cookie names and attributes. Under HTTPS every cookie the site sets is a ``__Host-`` cookie
(Secure, Path=/, no Domain), so a sibling host on the same domain cannot toss a session or
vault cookie into a person's browser, and a deletion uses the very same attributes, or the
browser would keep the cookie. Over plain HTTP in development the plain names stay (browsers
refuse ``__Host-`` cookies without Secure).
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.checks import Error
from django.http import HttpResponse
from django.test import override_settings
from django.utils import timezone

from core import checks
from core.tests.test_settings import _django_check, _production
from tests.personas import CONSOLE, INTAKE, FaceClient, PersonAtRisk, Staff

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "__Host-"
COOKIE_SETTINGS = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "LANGUAGE_COOKIE_NAME",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_PATH",
    "LANGUAGE_COOKIE_DOMAIN",
    "SP_VAULT_COOKIE_NAME",
)
NAMES = ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "LANGUAGE_COOKIE_NAME", "SP_VAULT_COOKIE_NAME")


def _settings_with(monkeypatch: pytest.MonkeyPatch, face: str, **env: str | None) -> dict[str, Any]:
    """config/settings.py evaluated afresh under this environment, as a new process would."""
    monkeypatch.setenv("SP_FACE", face)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


@pytest.mark.parametrize("face", ["intake", "console"])
def test_every_cookie_has_the_host_prefix_when_https_is_on(monkeypatch: pytest.MonkeyPatch, face: str) -> None:
    loaded = _settings_with(monkeypatch, face, SP_ENV="development", SP_HTTPS="true")
    assert {name: loaded[name] for name in NAMES} == {
        "SESSION_COOKIE_NAME": f"__Host-sp_{face}",
        "CSRF_COOKIE_NAME": "__Host-sp_csrf",
        "LANGUAGE_COOKIE_NAME": "__Host-sp_lang",
        "SP_VAULT_COOKIE_NAME": "__Host-sp_vk",
    }
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"] and loaded["LANGUAGE_COOKIE_SECURE"]
    for kind in ("SESSION", "CSRF", "LANGUAGE"):
        assert loaded[f"{kind}_COOKIE_PATH"] == "/" and loaded[f"{kind}_COOKIE_DOMAIN"] is None


def test_production_uses_the_host_prefix_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded = _settings_with(monkeypatch, "intake", SP_HTTPS=None, **_production(tmp_path))
    assert all(str(loaded[name]).startswith(PREFIX) for name in NAMES)


@pytest.mark.parametrize("face", ["intake", "console"])
def test_development_over_plain_http_keeps_the_plain_names(monkeypatch: pytest.MonkeyPatch, face: str) -> None:
    loaded = _settings_with(monkeypatch, face, SP_ENV="development", SP_HTTPS=None)
    assert [loaded[name] for name in NAMES] == [f"sp_{face}", "sp_csrf", "sp_lang", "sp_vk"]
    assert not loaded["SESSION_COOKIE_SECURE"]


# --- what the browser receives over HTTPS ------------------------------------------------------


@pytest.fixture
def https(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The cookie settings of a face served over HTTPS, for the rest of the test."""
    loaded = _settings_with(monkeypatch, "console", SP_ENV="test", SP_HTTPS="true")
    cookie_settings = {name: loaded[name] for name in COOKIE_SETTINGS}
    with override_settings(**cookie_settings):
        yield cookie_settings


def _host_cookie_problems(response: HttpResponse) -> list[str]:
    """What would make a browser refuse a __Host- cookie, or its deletion."""
    problems = []
    for name, morsel in response.cookies.items():
        if not name.startswith(PREFIX):
            problems.append(f"{name} has no {PREFIX} prefix")
        if not morsel["secure"]:
            problems.append(f"{name} is not Secure")
        if morsel["path"] != "/":
            problems.append(f"{name} has Path={morsel['path']!r}")
        if morsel["domain"]:
            problems.append(f"{name} has Domain={morsel['domain']!r}")
    return problems


def _set(response: HttpResponse) -> set[str]:
    return {name for name, morsel in response.cookies.items() if morsel.value}


def _deleted(response: HttpResponse) -> set[str]:
    return {name for name, morsel in response.cookies.items() if not morsel.value and str(morsel["max-age"]) == "0"}


def test_the_host_cookie_check_finds_each_problem() -> None:
    """The control: a cookie with each fault is named."""
    response = HttpResponse()
    response.set_cookie("plain", "1", secure=True)
    response.set_cookie("__Host-insecure", "1")
    response.set_cookie("__Host-deep", "1", secure=True, path="/cases/")
    response.set_cookie("__Host-shared", "1", secure=True, domain="example.org")
    assert _host_cookie_problems(response) == [
        "plain has no __Host- prefix",
        "__Host-insecure is not Secure",
        "__Host-deep has Path='/cases/'",
        "__Host-shared has Domain='example.org'",
    ]


@pytest.mark.django_db
def test_the_intake_sets_and_deletes_only_host_cookies_over_https(https: dict[str, Any], person: PersonAtRisk) -> None:
    session, vault, language, csrf = (
        https[name]
        for name in ("SESSION_COOKIE_NAME", "SP_VAULT_COOKIE_NAME", "LANGUAGE_COOKIE_NAME", "CSRF_COOKIE_NAME")
    )
    browser = FaceClient(INTAKE)
    started = browser.get("/start/", secure=True)
    assert _set(started) == {session, vault} and not _host_cookie_problems(started)
    chosen = browser.post("/language/", {"language": "en", "next": "/"}, secure=True)
    assert language in _set(chosen) and not _host_cookie_problems(chosen)

    for leave in ("quick exit", "logout"):
        browser = FaceClient(INTAKE)
        logged_in = browser.post("/login/", {"codename": person.codename}, secure=True)
        assert logged_in.status_code == 302 and {session, vault} <= _set(logged_in)
        assert not _host_cookie_problems(logged_in)
        conversation = browser.get("/conversation/", secure=True)
        assert conversation.status_code == 200 and csrf in _set(conversation)  # its forms' token
        assert not _host_cookie_problems(conversation)
        left = browser.get("/exit/", secure=True) if leave == "quick exit" else browser.post("/logout/", secure=True)
        assert _deleted(left) == {session, vault, csrf}, leave
        assert not _host_cookie_problems(left), leave


def _staff_login(staff: Staff) -> tuple[FaceClient, HttpResponse]:
    browser = FaceClient(CONSOLE)
    form = {"username": staff.member.username, "password": staff.password, "code": staff.code()}
    return browser, browser.post("/login/", form, secure=True)


@pytest.mark.django_db
def test_the_console_sets_and_deletes_only_host_cookies_over_https(https: dict[str, Any], caseworker: Staff) -> None:
    session, vault, csrf = (https[name] for name in ("SESSION_COOKIE_NAME", "SP_VAULT_COOKIE_NAME", "CSRF_COOKIE_NAME"))
    browser, logged_in = _staff_login(caseworker)
    # Django's login() gives the session a new CSRF token.
    assert logged_in.status_code == 302 and _set(logged_in) == {session, vault, csrf}
    assert not _host_cookie_problems(logged_in)
    assert browser.get("/inbox/", secure=True).status_code == 200
    logged_out = browser.post("/logout/", secure=True)
    assert _deleted(logged_out) == {session, vault, csrf} and not _host_cookie_problems(logged_out)

    # A vault cookie whose session ran out is deleted with the same attributes.
    browser, _ = _staff_login(caseworker)
    Session.objects.filter(session_key=browser.cookies[session].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    orphaned = browser.get("/inbox/", secure=True)
    assert orphaned.status_code == 302 and vault in _deleted(orphaned)
    assert not _host_cookie_problems(orphaned)


# --- the system check ----------------------------------------------------------------------------


def _cookie_errors() -> list[str]:
    return [problem.id for problem in checks.check_cookie_names(None) if isinstance(problem, Error)]


def test_the_check_refuses_production_cookies_without_the_prefix(https: dict[str, Any]) -> None:
    with override_settings(PRODUCTION=True):
        assert _cookie_errors() == []
        for name in NAMES:
            with override_settings(**{name: https[name].removeprefix(PREFIX)}):
                assert _cookie_errors() == ["core.E004"], name
        with override_settings(SESSION_COOKIE_DOMAIN="example.org"):
            assert _cookie_errors() == ["core.E004"]


def test_the_check_refuses_a_host_cookie_the_browser_would_not_keep(https: dict[str, Any]) -> None:
    with override_settings(LANGUAGE_COOKIE_SECURE=False):
        assert _cookie_errors() == ["core.E004"]


def test_production_over_plain_http_fails_the_deploy_check(tmp_path: Path) -> None:
    result = _django_check(_production(tmp_path, SP_HTTPS="false"), "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "core.W004" in result.stderr
