"""Fixtures shared by every test: the personas of tests/personas.py, built per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import Team
from tests.personas import CONSOLE, INTAKE, FaceClient, PersonAtRisk, Staff, make_coordinator, make_staff, open_case
from tests.plaintext_search import all_logs  # noqa: F401  (a fixture for every test module)


@pytest.fixture(autouse=True)
def _own_file_store(settings: Any, tmp_path: Path) -> Path:
    """Each test gets an empty encrypted file store, so leftovers are its own."""
    settings.SP_FILE_STORE = tmp_path / "files"
    return settings.SP_FILE_STORE


@pytest.fixture
def coordinator(db: None) -> Staff:
    return make_coordinator()


@pytest.fixture
def caseworker(coordinator: Staff) -> Staff:
    return make_staff("caseworker", invited_by=coordinator)


@pytest.fixture
def outsider(coordinator: Staff) -> Staff:
    other_team = Team.objects.create(name="Documentation")
    return make_staff("outsider", team=other_team, invited_by=coordinator)


@pytest.fixture
def person(caseworker: Staff, outsider: Staff) -> PersonAtRisk:
    return open_case(body="First message from the person.")


@pytest.fixture
def other_person(caseworker: Staff, outsider: Staff) -> PersonAtRisk:
    return open_case(body="Another person's message.", duress_word="")


@pytest.fixture
def intake_client() -> FaceClient:
    return FaceClient(INTAKE)


@pytest.fixture
def console_client() -> FaceClient:
    return FaceClient(CONSOLE)
