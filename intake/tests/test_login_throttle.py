"""Codename logins are bounded by a global failure budget, with no per-address state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings

from intake.models import BudgetKind, BudgetWindow
from tests.personas import INTAKE, FaceClient, PersonAtRisk

WRONG = "these are not the words anyone was given"


@override_settings(SP_LOGIN_FAILURE_BUDGET=3)
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


@override_settings(SP_LOGIN_FAILURE_BUDGET=2)
def test_logins_resume_in_the_next_window(person: PersonAtRisk) -> None:
    client = FaceClient(INTAKE)
    for _ in range(2):
        client.post("/login/", {"codename": WRONG})
    window = BudgetWindow.objects.get(kind=BudgetKind.LOGIN_FAILURE)
    window.window_start -= timedelta(hours=1)  # the window has passed
    window.save(update_fields=["window_start"])
    assert FaceClient(INTAKE).post("/login/", {"codename": person.codename}).status_code == 302


@pytest.mark.django_db
def test_the_budget_records_nothing_but_a_count() -> None:
    FaceClient(INTAKE, REMOTE_ADDR="203.0.113.9").post("/login/", {"codename": WRONG})
    fields = {f.name for f in BudgetWindow._meta.get_fields()}
    assert fields == {"id", "kind", "window_start", "count"}
    assert BudgetWindow.objects.get(kind=BudgetKind.LOGIN_FAILURE).count == 1


@pytest.mark.django_db
def test_a_successful_login_does_not_spend_the_budget(person: PersonAtRisk) -> None:
    person.intake()
    assert not BudgetWindow.objects.filter(kind=BudgetKind.LOGIN_FAILURE).exists()
