"""Personas for evacuation plans: two verifiers and a logistics member on the on-call team,
and a case verified the real way (triaged, vetting, which gives the verifiers its key, two
sign-offs, verified)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from casework import services as casework_services
from casework.lifecycle import State, case_transition
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff, open_case
from vetting import services as vetting_services


def private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def second_verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier-two", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def logistics(coordinator: Staff) -> Staff:
    return make_staff("logistics", role=Role.LOGISTICS, invited_by=coordinator)


@pytest.fixture
def unverified_person(
    caseworker: Staff, outsider: Staff, verifier: Staff, second_verifier: Staff, logistics: Staff
) -> PersonAtRisk:
    person = open_case(body="I need to leave, please help.")
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(
        case=person.case, member=caseworker.member, to_state=State.VETTING, member_private_key=private_key(caseworker)
    )
    return person


@pytest.fixture
def verified_person(
    unverified_person: PersonAtRisk, verifier: Staff, second_verifier: Staff, caseworker: Staff, logistics: Staff
) -> PersonAtRisk:
    """Verified, and the logistics member given the key by the caseworker (logistics staff
    read a case only while it is verified)."""
    person = unverified_person
    for staff in (verifier, second_verifier):
        vetting_services.sign_off_create(
            case=person.case,
            member=staff.member,
            member_private_key=private_key(staff),
            signing_key=staff.signing_key,
            reason="ok",
        )
    case_transition(case=person.case, member=verifier.member, to_state=State.VERIFIED)
    person.case.refresh_from_db()
    casework_services.case_member_add(
        case=person.case, actor=caseworker.member, actor_private_key=private_key(caseworker), member=logistics.member
    )
    person.case.refresh_from_db()
    return person
