"""Personas for evacuation plans: two verifiers and a logistics member on the on-call team,
a case opened after them (so its key is wrapped for them too) and verified the real way
(triaged, vetting, two sign-offs, verified)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from casework import keys
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff, open_case
from triage.lifecycle import State
from triage.services import case_transition
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
    case_transition(case=person.case, member=caseworker.member, to_state=State.VETTING)
    _wrap_for_logistics(person, caseworker, logistics)
    return person


def _wrap_for_logistics(person: PersonAtRisk, caseworker: Staff, logistics: Staff) -> None:
    """Casework does not yet hand logistics staff a case key (casework.services.CASE_READER_ROLES
    leaves them out until a rule gives them a reason to read a case). This app lets logistics
    staff who DO hold the key record progress, so the test wraps the current key for them
    directly, with the caseworker's opened key, as casework would."""
    case_private = keys.current_key_open(person.case, caseworker.member, private_key(caseworker))
    keys.wrap_case_key_for(logistics.member, keys.current_case_key(person.case), case_private)


@pytest.fixture
def verified_person(unverified_person: PersonAtRisk, verifier: Staff, second_verifier: Staff) -> PersonAtRisk:
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
    return person
