"""Personas for safe houses: a logistics member, two verifiers on the on-call team, and
verified cases (the verifiers given each key when vetting started)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from casework.lifecycle import State, case_transition
from tests.personas import PersonAtRisk, Staff, make_staff, open_case
from vetting import services as vetting_services


@pytest.fixture
def logistics(coordinator: Staff) -> Staff:
    return make_staff("logistics", role=Role.LOGISTICS, invited_by=coordinator)


@pytest.fixture
def verifiers(coordinator: Staff) -> tuple[Staff, Staff]:
    return (
        make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator),
        make_staff("verifier-two", role=Role.VERIFIER, invited_by=coordinator),
    )


def verified_case(caseworker: Staff, verifiers: tuple[Staff, Staff], body: str = "I need to hide.") -> PersonAtRisk:
    person = open_case(body=body)
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(
        case=person.case, member=caseworker.member, to_state=State.VETTING, member_private_key=caseworker.private_key
    )
    for verifier in verifiers:
        vetting_services.sign_off_create(
            case=person.case,
            member=verifier.member,
            member_private_key=verifier.private_key,
            signing_key=verifier.signing_key,
            reason="ok",
        )
    case_transition(case=person.case, member=verifiers[0].member, to_state=State.VERIFIED)
    person.case.refresh_from_db()
    return person


@pytest.fixture
def verified(caseworker: Staff, logistics: Staff, outsider: Staff, verifiers: tuple[Staff, Staff]) -> PersonAtRisk:
    return verified_case(caseworker, verifiers)


@pytest.fixture
def second_verified(
    caseworker: Staff, logistics: Staff, outsider: Staff, verifiers: tuple[Staff, Staff]
) -> PersonAtRisk:
    return verified_case(caseworker, verifiers, body="Please, I have nowhere to go.")
