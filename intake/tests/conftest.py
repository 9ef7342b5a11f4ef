"""Fixtures for the intake tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from casework import services


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every codename derivation the services run, counted on its way through (the real
    Argon2id derivation still runs)."""
    seen: list[str] = []
    derive = services.derive_secrets

    def counted(normalised: str) -> object:
        seen.append(normalised)
        return derive(normalised)

    monkeypatch.setattr(services, "derive_secrets", counted)
    yield seen
