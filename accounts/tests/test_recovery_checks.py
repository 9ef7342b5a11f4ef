"""The deploy checks about the organisation recovery key (accounts/checks.py)."""

from __future__ import annotations

import pytest
from django.core import checks

from accounts import services
from tests.personas import Staff, enrol


def _deploy_warnings() -> set[str]:
    return {message.id or "" for message in checks.run_checks(include_deployment_checks=True)}


def test_a_single_holder_key_is_warned_about(coordinator: Staff) -> None:
    """The persona's key is the single SPRK1 key of before threshold sharing."""
    assert "accounts.W001" in _deploy_warnings()


@pytest.mark.django_db
def test_a_key_split_among_trustees_is_not() -> None:
    token = services.first_coordinator_link_create()
    assert token is not None
    first = enrol(token, "coordinator")
    services.recovery_shares_create(created_by=first.member, holders=[first.member.pk, None, None])
    assert "accounts.W001" not in _deploy_warnings()
    assert "accounts.W002" not in _deploy_warnings()
