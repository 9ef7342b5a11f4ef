"""An organisation whose recovery key is split 2 of 3: share 1 for the first coordinator, share 2
for a second coordinator, share 3 for a trustee outside the console."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts import services as account_services
from accounts.models import Role
from tests.personas import Staff, enrol, make_staff


@dataclass
class Trustees:
    first: Staff
    second: Staff
    shares: list[str]


@pytest.fixture
def trustees(db: None) -> Trustees:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    first = enrol(token, "coordinator")
    second = make_staff("second", role=Role.COORDINATOR, invited_by=first)
    shares = account_services.recovery_shares_create(
        created_by=first.member, threshold=2, holders=[first.member.pk, second.member.pk, None]
    )
    return Trustees(first, second, shares)
