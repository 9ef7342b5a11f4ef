"""Codename logins are bounded by a global budget of Argon2id derivations, with no per-address
state: every well-formed phrase typed at the login costs one derivation and counts once, found
or not, real or danger phrase."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from core.tests.test_settings import _django_check, _production
from intake.models import BudgetKind, BudgetWindow
from tests.personas import INTAKE, FaceClient, PersonAtRisk

WRONG = "these are not the words anyone was given"


def _login_count() -> int:
    window = BudgetWindow.objects.filter(kind=BudgetKind.LOGIN).first()
    return window.count if window else 0


# One window for the whole test: with the default minute, a loaded machine can put a test's logins on
# both sides of a window's start, and the budget they spend is then counted in two windows.
DAY = 24 * 3600


@override_settings(SP_LOGIN_BUDGET=3, SP_LOGIN_WINDOW_SECONDS=DAY)
def test_logins_pause_for_everyone_when_the_budget_is_spent(person: PersonAtRisk) -> None:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(3):
        response = client.post("/login/", {"codename": WRONG})
        assert response.status_code == 400
        assert "could not find this secret phrase" in response.content.decode()
    paused = client.post("/login/", {"codename": person.codename})
    assert paused.status_code == 429
    assert "paused for everyone" in paused.content.decode()
    assert "/conversation/" not in paused.get("Location", "")


@override_settings(SP_LOGIN_BUDGET=2, SP_LOGIN_WINDOW_SECONDS=DAY)
def test_logins_resume_in_the_next_window(person: PersonAtRisk) -> None:
    client = FaceClient(INTAKE)
    for _ in range(2):
        client.post("/login/", {"codename": WRONG})
    window = BudgetWindow.objects.get(kind=BudgetKind.LOGIN)
    window.window_start -= timedelta(hours=1)  # the window has passed
    window.save(update_fields=["window_start"])
    assert FaceClient(INTAKE).post("/login/", {"codename": person.codename}).status_code == 302


@pytest.mark.django_db
def test_the_budget_records_nothing_but_a_count() -> None:
    FaceClient(INTAKE, REMOTE_ADDR="203.0.113.9").post("/login/", {"codename": WRONG})
    fields = {f.name for f in BudgetWindow._meta.get_fields()}
    assert fields == {"id", "kind", "window_start", "count"}
    assert BudgetWindow.objects.get(kind=BudgetKind.LOGIN).count == 1


def test_the_real_phrase_the_danger_phrase_and_a_wrong_one_each_count_one_derivation(
    person: PersonAtRisk, derivations: list[str]
) -> None:
    """Attacker: a captor who forces a phrase out of the person, logs in with it, and watches
    the intake's budget (by spending it and seeing when the pause starts). Every phrase costs
    the same one derivation and one unit, so the budget cannot tell them which phrase it was."""
    counts = []
    person.intake()
    counts.append((_login_count(), len(derivations)))
    person.intake(duress=True)
    counts.append((_login_count(), len(derivations)))
    assert FaceClient(INTAKE).post("/login/", {"codename": WRONG}).status_code == 400
    counts.append((_login_count(), len(derivations)))
    assert counts == [(1, 1), (2, 2), (3, 3)]


@override_settings(SP_LOGIN_BUDGET=2, SP_LOGIN_WINDOW_SECONDS=DAY)
def test_successful_logins_spend_the_budget_and_a_spent_budget_derives_nothing(
    person: PersonAtRisk, derivations: list[str]
) -> None:
    """Attacker: anonymous, making the server run Argon2id (64 MiB, a core for ~100 ms each)
    with a phrase it knows works, which a budget of failures alone never counted."""
    person.intake()
    person.intake(duress=True)
    assert len(derivations) == 2
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    paused = client.post("/login/", {"codename": person.codename})
    assert paused.status_code == 429
    page = paused.content.decode()
    assert "paused for everyone" in page
    assert person.codename in page  # what was typed is kept in the form
    assert len(derivations) == 2  # refused before any derivation
    assert _login_count() == 2


@pytest.mark.django_db
def test_malformed_phrases_derive_nothing_and_spend_nothing(derivations: list[str]) -> None:
    for typed in ("", "two words", "!!! ??? ..."):
        assert FaceClient(INTAKE).post("/login/", {"codename": typed}).status_code == 400
    assert derivations == [] and _login_count() == 0


@override_settings(SP_LOGIN_BUDGET=1, SP_LOGIN_WINDOW_SECONDS=DAY)
def test_the_pause_page_speaks_russian_too(person: PersonAtRisk) -> None:
    person.intake()
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    paused = client.post("/login/", {"codename": person.codename})
    assert paused.status_code == 429
    assert "вход приостановлен для всех" in paused.content.decode()


def test_the_former_failure_budget_setting_stops_start_up(tmp_path: Path) -> None:
    """A budget tuned for wrong phrases alone would pause logins sooner now that every login
    counts: the operator is told, rather than the setting being silently ignored."""
    result = _django_check(_production(tmp_path, SP_LOGIN_FAILURE_BUDGET="50"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SP_LOGIN_BUDGET" in result.stderr
