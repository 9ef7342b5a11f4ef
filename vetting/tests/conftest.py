"""Personas for vetting: two verifiers on the on-call team, and a case brought to the vetting
state by the caseworker, who thereby gives them its key (verifiers are not given new cases)."""

from __future__ import annotations

import pytest

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from casework.lifecycle import State, case_transition
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff, open_case


def private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


@pytest.fixture
def verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def second_verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier-two", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def vetted_person(caseworker: Staff, outsider: Staff, verifier: Staff, second_verifier: Staff) -> PersonAtRisk:
    """A person whose case is being vetted."""
    person = open_case(body="I need to leave, please help.")
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(
        case=person.case, member=caseworker.member, to_state=State.VETTING, member_private_key=private_key(caseworker)
    )
    return person
