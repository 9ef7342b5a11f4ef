"""The session vault's key is always one the server minted for this session (core/vault.py).

The attacker in these tests can set a cookie in the person's or staff member's browser before
they log in (a captor holding the phone, a sibling host tossing cookies) and later reads the
database (a copy of the session table). A vault key they chose, or one the server minted for
their own browser, must open nothing the server keeps for the victim.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

import sealbox
from core.vault import vault_cookie_name
from tests.personas import CONSOLE, INTAKE, FaceClient, PersonAtRisk, Staff


def _cookie_value(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _browser_with_planted_key(urlconf: str, key: bytes) -> FaceClient:
    browser = FaceClient(urlconf)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.cookies[vault_cookie_name()] = _cookie_value(key)
    return browser


def _stored_session(browser: FaceClient) -> dict[str, Any]:
    """What a database reader sees: the session row of this browser, decoded (Django signs
    session data but does not encrypt it)."""
    row = Session.objects.get(session_key=browser.cookies[settings.SESSION_COOKIE_NAME].value)
    return row.get_decoded()


def _vault_entries(session: dict[str, Any]) -> dict[str, bytes]:
    return {
        name.removeprefix("vault:"): base64.b64decode(value)
        for name, value in session.items()
        if name.startswith("vault:")
    }


def _opened_by(key: bytes, session: dict[str, Any]) -> list[str]:
    """The names of the vault entries that ``key`` opens."""
    opened = []
    for name, sealed in _vault_entries(session).items():
        try:
            sealbox.decrypt(key, sealed, ctx=sealbox.context("vault", name))
        except sealbox.CryptoError:
            continue
        opened.append(name)
    return opened


def _without_csrf(body: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body.decode())


def _browser_key(browser: FaceClient) -> bytes:
    return base64.urlsafe_b64decode(browser.cookies[vault_cookie_name()].value)


@pytest.mark.usefixtures("caseworker")  # the line is open: /start/ gives a codename
def test_a_vault_key_planted_before_start_does_not_seal_the_new_codename() -> None:
    """Attacker: sets the vault cookie in the person's browser before they ask for a codename,
    then reads the session table. The pending codename is sealed under a key the server made."""
    planted = sealbox.random_key()
    browser = _browser_with_planted_key(INTAKE, planted)

    page = browser.get("/start/")

    assert page.status_code == 200
    session = _stored_session(browser)
    assert "pending_codename" in _vault_entries(session)
    assert _opened_by(planted, session) == []
    assert _browser_key(browser) != planted, "the planted cookie must be replaced"
    assert _opened_by(_browser_key(browser), session) == ["pending_codename"]
    again = browser.get("/start/")
    assert _without_csrf(again.content) == _without_csrf(page.content), "a reload shows the same codename"


@pytest.mark.usefixtures("caseworker")  # the line is open: /start/ gives a codename
def test_a_vault_key_the_server_minted_for_another_browser_is_not_taken_for_this_one() -> None:
    """Attacker: starts a session of their own (so the server mints them a real vault key),
    copies that key into the person's browser and reads the session table later."""
    attacker = FaceClient(INTAKE)
    attacker.get("/start/")
    attackers_key = _browser_key(attacker)
    victim = _browser_with_planted_key(INTAKE, attackers_key)

    victim.get("/start/")

    session = _stored_session(victim)
    assert _opened_by(attackers_key, session) == []
    assert _browser_key(victim) != attackers_key


@pytest.mark.django_db
def test_a_vault_key_planted_before_a_codename_login_opens_nothing(person: PersonAtRisk) -> None:
    """Attacker: plants the vault cookie before the person logs in with the codename, then
    reads the session table: the credential's private key stays sealed."""
    planted = sealbox.random_key()
    browser = _browser_with_planted_key(INTAKE, planted)

    assert browser.post("/login/", {"codename": person.codename}).status_code == 302

    session = _stored_session(browser)
    assert "person" in _vault_entries(session)
    assert _opened_by(planted, session) == []
    assert browser.get("/conversation/").status_code == 200


@pytest.mark.django_db
def test_a_vault_key_planted_before_a_staff_login_opens_no_staff_key(caseworker: Staff) -> None:
    """Attacker: plants the vault cookie in a staff member's browser before they log in, then
    reads the session table: the unlocked private and signing keys stay sealed."""
    planted = sealbox.random_key()
    browser = _browser_with_planted_key(CONSOLE, planted)

    response = browser.post(
        "/login/", {"username": caseworker.member.username, "password": caseworker.password, "code": caseworker.code()}
    )

    assert response.status_code == 302
    session = _stored_session(browser)
    assert {"staff_private_key", "staff_signing_key"} <= set(_vault_entries(session))
    assert _opened_by(planted, session) == []
    assert browser.get("/inbox/").status_code == 200


@pytest.mark.django_db
def test_a_vault_key_swapped_into_a_live_staff_session_is_refused_and_deleted(caseworker: Staff) -> None:
    """Attacker: overwrites the vault cookie of a logged-in staff member with a key of their
    own. The server does not take it: the page asks for a login and the cookie is deleted."""
    browser = caseworker.console()
    planted = sealbox.random_key()
    browser.cookies[vault_cookie_name()] = _cookie_value(planted)

    response = browser.get("/inbox/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    deleted = response.cookies[vault_cookie_name()]
    assert deleted.value == "" and str(deleted["max-age"]) == "0"
