"""Case states: the lifecycle table, the service that enforces it, and the case page form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import services as casework_services
from casework.lifecycle import ClosingReason, State, TransitionRefused, case_transition
from casework.models import Case, CaseStateChange
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff
from vetting.services import sign_off_create


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service errors are read in English here unless a test asks for Russian."""
    with translation.override("en"):
        yield


def _status(person: PersonAtRisk) -> str:
    return Case.objects.values_list("status", flat=True).get(pk=person.case.pk)


def _two_sign_offs(case: Case, coordinator: Staff) -> None:
    """The coordinator and a verifier given the case key sign off (vetting's guard on verifying)."""
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    coordinator_key = staff_private_key_unlock(coordinator.member, PASSWORD)
    casework_services.case_member_add(
        case=case, actor=coordinator.member, actor_private_key=coordinator_key, member=verifier.member
    )
    for staff, key in ((coordinator, coordinator_key), (verifier, staff_private_key_unlock(verifier.member, PASSWORD))):
        sign_off_create(
            case=case, member=staff.member, member_private_key=key, signing_key=staff.signing_key, reason="Vetted."
        )


def test_a_case_walks_from_new_to_closed_and_every_step_is_recorded_and_audited(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    case, worker = person.case, caseworker.member
    case_transition(case=case, member=worker, to_state=State.TRIAGED)
    case_transition(case=case, member=worker, to_state=State.VETTING)
    _two_sign_offs(case, coordinator)
    case_transition(case=case, member=coordinator.member, to_state=State.VERIFIED)
    case_transition(case=case, member=worker, to_state=State.CLOSED, reason=ClosingReason.SAFE)
    assert _status(person) == State.CLOSED
    steps = list(CaseStateChange.objects.filter(case=case).values_list("from_state", "to_state", "reason", "by"))
    assert steps == [
        ("new", "triaged", "", worker.pk),
        ("triaged", "vetting", "", worker.pk),
        ("vetting", "verified", "", coordinator.member.pk),
        ("verified", "closed", "safe", worker.pk),
    ]
    audited = AuditEntry.objects.filter(action=Action.CASE_TRANSITION, case_public_id=case.public_id)
    assert [entry.details["to"] for entry in audited.order_by("sequence")] == [
        "triaged",
        "vetting",
        "verified",
        "closed",
    ]


def test_a_caseworker_cannot_verify_a_case_only_a_verifier_or_coordinator_can(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(case=person.case, member=caseworker.member, to_state=State.VETTING)
    with pytest.raises(TransitionRefused, match="role"):
        case_transition(case=person.case, member=caseworker.member, to_state=State.VERIFIED)
    assert _status(person) == State.VETTING
    assert not AuditEntry.objects.filter(action=Action.CASE_TRANSITION, details__to="verified").exists()


def test_skipping_a_state_is_refused_with_a_clear_message_in_russian_and_english(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    with translation.override("en"), pytest.raises(TransitionRefused) as english:
        case_transition(case=person.case, member=caseworker.member, to_state=State.VERIFIED)
    assert str(english.value) == "A case cannot go from “New” to “Verified”."
    with translation.override("ru"), pytest.raises(TransitionRefused) as russian:
        case_transition(case=person.case, member=caseworker.member, to_state=State.VERIFIED)
    assert "Кейс не может перейти" in str(russian.value)
    assert _status(person) == State.NEW


def test_closing_needs_a_known_reason_and_other_moves_take_none(person: PersonAtRisk, caseworker: Staff) -> None:
    with pytest.raises(TransitionRefused):
        case_transition(case=person.case, member=caseworker.member, to_state=State.CLOSED)
    with pytest.raises(TransitionRefused):
        case_transition(case=person.case, member=caseworker.member, to_state=State.CLOSED, reason="he was rude")
    with pytest.raises(TransitionRefused):
        case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED, reason="safe")
    case_transition(
        case=person.case, member=caseworker.member, to_state=State.CLOSED, reason=ClosingReason.SUSPECTED_INFILTRATOR
    )
    assert _status(person) == State.CLOSED


def test_only_a_coordinator_reopens_a_closed_case_and_the_reopening_is_logged(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    case_transition(case=person.case, member=caseworker.member, to_state=State.CLOSED, reason=ClosingReason.DUPLICATE)
    with pytest.raises(TransitionRefused):
        case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(case=person.case, member=coordinator.member, to_state=State.TRIAGED)
    assert _status(person) == State.TRIAGED
    assert CaseStateChange.objects.filter(case=person.case, from_state="closed", to_state="triaged").exists()


def test_someone_without_the_case_key_cannot_change_its_state(
    person: PersonAtRisk, outsider: Staff, coordinator: Staff
) -> None:
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    for member in (outsider.member, verifier.member):
        with pytest.raises(TransitionRefused, match="case key"):
            case_transition(case=person.case, member=member, to_state=State.TRIAGED)
    assert _status(person) == State.NEW


def test_an_unknown_state_is_refused_and_never_written(person: PersonAtRisk, caseworker: Staff) -> None:
    with pytest.raises(TransitionRefused):
        case_transition(case=person.case, member=caseworker.member, to_state="evacuated")
    assert _status(person) == State.NEW


def test_the_case_page_offers_the_allowed_moves_and_the_inbox_shows_the_state(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    client = caseworker.console(language="en")
    page = client.get(f"/cases/{person.case.public_id}/?section=state").content.decode()
    assert "State: New" in page
    assert 'value="triaged"' in page and 'value="verified"' not in page
    response = client.post(f"/cases/{person.case.public_id}/state/", {"to_state": "triaged", "revision": "0"})
    assert response.status_code == 302
    assert _status(person) == State.TRIAGED
    assert "Triaged" in client.get("/inbox/").content.decode()


def test_a_refused_change_from_the_page_shows_the_reason_in_russian(person: PersonAtRisk, caseworker: Staff) -> None:
    client = caseworker.console(language="ru")
    response = client.post(
        f"/cases/{person.case.public_id}/state/",
        {"to_state": "closed", "reason": "", "revision": "0", "confirm_close": "on"},
    )
    assert response.status_code == 400
    assert "Укажите, почему кейс закрыт." in response.content.decode()
    assert _status(person) == State.NEW
