"""Two different verifiers must sign off before a case moves vetting → verified (T3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from accounts.models import Role
from audit.models import Action, AuditEntry
from casework.lifecycle import ClosingReason, State, TransitionRefused, case_transition
from casework.models import Case
from tests.personas import PersonAtRisk, Staff, make_staff
from tests.plaintext_search import database_places, needles_for, search_places
from vetting import services
from vetting.models import CheckItem, SignOff, VettingCheck
from vetting.tests.conftest import private_key


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _sign(staff: Staff, person: PersonAtRisk, reason: str = "Interviewed him twice; partner vouches.") -> SignOff:
    return services.sign_off_create(
        case=person.case,
        member=staff.member,
        member_private_key=private_key(staff),
        signing_key=staff.signing_key,
        reason=reason,
    )


def _rev(person: PersonAtRisk) -> int:
    return int(Case.objects.values_list("revision", flat=True).get(pk=person.case.pk))


def _status(person: PersonAtRisk) -> str:
    return Case.objects.values_list("status", flat=True).get(pk=person.case.pk)


def test_it_refuses_verification_with_one_signoff(
    vetted_person: PersonAtRisk, verifier: Staff, coordinator: Staff
) -> None:
    _sign(verifier, vetted_person)
    with pytest.raises(TransitionRefused) as english:
        case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)
    assert "Two different verifiers must sign off" in str(english.value)
    assert "1 of 2" in str(english.value)
    with translation.override("ru"), pytest.raises(TransitionRefused) as russian:
        case_transition(case=vetted_person.case, member=coordinator.member, to_state=State.VERIFIED)
    assert "Два разных проверяющих" in str(russian.value)
    assert _status(vetted_person) == State.VETTING
    assert not AuditEntry.objects.filter(action=Action.CASE_TRANSITION, details__to="verified").exists()


def test_it_refuses_verification_with_no_signoff(vetted_person: PersonAtRisk, verifier: Staff) -> None:
    with pytest.raises(TransitionRefused, match="0 of 2"):
        case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)


def test_two_different_verifiers_let_the_case_be_verified(
    vetted_person: PersonAtRisk, verifier: Staff, coordinator: Staff
) -> None:
    _sign(verifier, vetted_person)
    _sign(coordinator, vetted_person)
    case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)
    assert _status(vetted_person) == State.VERIFIED


def test_same_verifier_cannot_sign_twice(vetted_person: PersonAtRisk, verifier: Staff) -> None:
    _sign(verifier, vetted_person)
    with pytest.raises(services.VettingRefused, match="already signed off"):
        _sign(verifier, vetted_person, "Again, to make two.")
    assert SignOff.objects.filter(case=vetted_person.case).count() == 1
    with pytest.raises(TransitionRefused):
        case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)


def test_a_caseworker_cannot_sign_off(vetted_person: PersonAtRisk, caseworker: Staff) -> None:
    with pytest.raises(services.VettingRefused, match="verifier or a coordinator"):
        _sign(caseworker, vetted_person)


def test_a_case_not_being_vetted_cannot_be_signed_off(person: PersonAtRisk, coordinator: Staff) -> None:
    with pytest.raises(services.VettingRefused, match="being vetted"):
        _sign(coordinator, person)


def test_a_withdrawn_sign_off_no_longer_counts_and_the_verifier_may_sign_again(
    vetted_person: PersonAtRisk, verifier: Staff, second_verifier: Staff
) -> None:
    first = _sign(verifier, vetted_person)
    _sign(second_verifier, vetted_person)
    services.sign_off_withdraw(case=vetted_person.case, member=verifier.member, sign_off_id=first.pk)
    with pytest.raises(TransitionRefused, match="1 of 2"):
        case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)
    _sign(verifier, vetted_person, "Spoke to the partner organisation again.")
    case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)
    assert AuditEntry.objects.filter(action=Action.VETTING_SIGN_OFF_WITHDRAW, details={"sign_off": first.pk}).exists()


def test_only_the_signer_withdraws_and_only_before_verification(
    vetted_person: PersonAtRisk, verifier: Staff, second_verifier: Staff
) -> None:
    first = _sign(verifier, vetted_person)
    _sign(second_verifier, vetted_person)
    with pytest.raises(SignOff.DoesNotExist):
        services.sign_off_withdraw(case=vetted_person.case, member=second_verifier.member, sign_off_id=first.pk)
    case_transition(case=vetted_person.case, member=verifier.member, to_state=State.VERIFIED)
    with pytest.raises(services.VettingRefused, match="no longer being vetted"):
        services.sign_off_withdraw(case=vetted_person.case, member=verifier.member, sign_off_id=first.pk)


def test_a_reopened_case_needs_new_sign_offs(
    vetted_person: PersonAtRisk, verifier: Staff, second_verifier: Staff, caseworker: Staff, coordinator: Staff
) -> None:
    case = vetted_person.case
    _sign(verifier, vetted_person)
    _sign(second_verifier, vetted_person)
    case_transition(case=case, member=verifier.member, to_state=State.VERIFIED)
    case_transition(case=case, member=caseworker.member, to_state=State.CLOSED, reason=ClosingReason.SAFE)
    case_transition(case=case, member=coordinator.member, to_state=State.TRIAGED)
    case_transition(case=case, member=caseworker.member, to_state=State.VETTING)
    with pytest.raises(TransitionRefused, match="0 of 2"):
        case_transition(case=case, member=verifier.member, to_state=State.VERIFIED)
    _sign(verifier, vetted_person, "Checked again after reopening.")  # the old one no longer blocks
    assert SignOff.objects.filter(case=case, withdrawn_at__isnull=True).count() == 1


def test_reasons_and_notes_are_sealed_to_the_case_key_and_shown_to_holders(
    vetted_person: PersonAtRisk, verifier: Staff, caseworker: Staff, outsider: Staff
) -> None:
    reason, note = "Reason-8c1f: met in Nazran", "Note-77ab: interview by video"
    _sign(verifier, vetted_person, reason)
    services.check_tick(
        case=vetted_person.case,
        member=caseworker.member,
        member_private_key=private_key(caseworker),
        item=CheckItem.INTERVIEW,
        note=note,
    )
    assert not search_places(database_places(), needles_for("reason", reason) + needles_for("note", note))
    page = (
        caseworker.console(language="en")
        .get(f"/cases/{vetted_person.case.public_id}/?section=vetting")
        .content.decode()
    )
    assert reason in page and note in page and "Interview done" in page
    assert outsider.console().get(f"/cases/{vetted_person.case.public_id}/").status_code == 404
    check = VettingCheck.objects.get(case=vetted_person.case)
    assert check.ticked_by == caseworker.member
    assert AuditEntry.objects.filter(action=Action.VETTING_CHECK_TICK, details={"item": "interview"}).exists()


def test_logistics_cannot_tick_the_checklist(vetted_person: PersonAtRisk, coordinator: Staff) -> None:
    logistics = make_staff("logistics", role=Role.LOGISTICS, invited_by=coordinator)
    with pytest.raises(services.VettingRefused):
        services.check_tick(
            case=vetted_person.case,
            member=logistics.member,
            member_private_key=private_key(logistics),
            item=CheckItem.REFERENCES,
            note="x",
        )


def test_sign_off_and_verification_through_the_case_page(
    vetted_person: PersonAtRisk, verifier: Staff, second_verifier: Staff
) -> None:
    case_url = f"/cases/{vetted_person.case.public_id}/"
    first = verifier.console(language="en")
    assert first.post(f"{case_url}vetting/sign-off/", {"reason": "Known to our partner."}).status_code == 302
    refused = first.post(f"{case_url}state/", {"to_state": "verified", "reason": "", "revision": _rev(vetted_person)})
    assert refused.status_code == 400 and "Two different verifiers" in refused.content.decode()
    twice = first.post(f"{case_url}vetting/sign-off/", {"reason": "Typed again"})
    assert twice.status_code == 400 and "Typed again" in twice.content.decode()  # nothing typed is lost
    empty = first.post(f"{case_url}vetting/sign-off/", {"reason": ""})
    assert empty.status_code == 400 and "Give the reason" in empty.content.decode()
    second = second_verifier.console(language="ru")
    assert second.post(f"{case_url}vetting/sign-off/", {"reason": "Рассказ сходится."}).status_code == 302
    verified = second.post(f"{case_url}state/", {"to_state": "verified", "reason": "", "revision": _rev(vetted_person)})
    assert verified.status_code == 302
    assert _status(vetted_person) == State.VERIFIED


def test_a_verifier_withdraws_their_sign_off_from_the_case_page(
    vetted_person: PersonAtRisk, verifier: Staff, second_verifier: Staff
) -> None:
    mine = _sign(verifier, vetted_person)
    theirs = _sign(second_verifier, vetted_person)
    case_url = f"/cases/{vetted_person.case.public_id}/"
    console = verifier.console(language="en")
    page = console.get(f"{case_url}?section=vetting").content.decode()
    assert f"vetting/sign-off/{mine.pk}/withdraw/" in page and f"vetting/sign-off/{theirs.pk}/withdraw/" not in page
    assert console.post(f"{case_url}vetting/sign-off/{theirs.pk}/withdraw/").status_code == 404
    assert console.post(f"{case_url}vetting/sign-off/{mine.pk}/withdraw/").status_code == 302
    mine.refresh_from_db()
    assert mine.withdrawn_at is not None
    assert "withdrawn" in console.get(f"{case_url}?section=vetting").content.decode()


def test_a_verifier_ticks_the_checklist_from_the_case_page_and_an_empty_note_is_refused(
    vetted_person: PersonAtRisk, verifier: Staff
) -> None:
    case_url = f"/cases/{vetted_person.case.public_id}/"
    console = verifier.console(language="ru")
    empty = console.post(f"{case_url}vetting/check/", {"item": "references", "note": ""})
    assert empty.status_code == 400 and "Напишите коротко" in empty.content.decode()
    done = {"item": "references", "note": "Two references from the partner in Tbilisi."}
    assert console.post(f"{case_url}vetting/check/", done).status_code == 302
    page = console.get(f"{case_url}?section=vetting").content.decode()
    assert "Поручители проверены" in page and done["note"] in page


# --- a verifier who is disabled or taken off the case no longer vouches for it ---------------


def _signed_by_both(person: PersonAtRisk, verifier: Staff, coordinator: Staff) -> None:
    _sign(verifier, person)
    _sign(coordinator, person)
    assert services.verification_refusal(person.case) is None


def _withdrawn_entries(person: PersonAtRisk, verifier: Staff) -> list[dict[str, object]]:
    entries = AuditEntry.objects.filter(
        action=Action.VETTING_SIGN_OFF_WITHDRAW, case_public_id=person.case.public_id
    ).order_by("sequence")
    return [entry.details for entry in entries if entry.details.get("member") == verifier.member.pk]


def test_a_disabled_verifiers_sign_off_no_longer_counts_and_is_withdrawn(
    vetted_person: PersonAtRisk, verifier: Staff, coordinator: Staff
) -> None:
    _signed_by_both(vetted_person, verifier, coordinator)
    from casework import services as casework_services

    casework_services.staff_disable(
        actor=coordinator.member, actor_private_key=private_key(coordinator), member=verifier.member
    )
    vetted_person.case.refresh_from_db()
    assert services.verification_refusal(vetted_person.case) is not None
    with pytest.raises(TransitionRefused):
        case_transition(case=vetted_person.case, member=coordinator.member, to_state=State.VERIFIED)
    sign_off = SignOff.objects.get(case=vetted_person.case, verifier=verifier.member)
    assert sign_off.withdrawn_at is not None
    assert [entry["reason"] for entry in _withdrawn_entries(vetted_person, verifier)] == ["disabled"]


def test_a_verifier_taken_off_the_case_no_longer_counts_and_is_withdrawn(
    vetted_person: PersonAtRisk, verifier: Staff, coordinator: Staff, caseworker: Staff
) -> None:
    _signed_by_both(vetted_person, verifier, coordinator)
    from casework import services as casework_services

    casework_services.case_member_remove(
        case=vetted_person.case,
        actor=caseworker.member,
        actor_private_key=private_key(caseworker),
        member=verifier.member,
    )
    vetted_person.case.refresh_from_db()
    assert services.verification_refusal(vetted_person.case) is not None
    assert SignOff.objects.get(case=vetted_person.case, verifier=verifier.member).withdrawn_at is not None
    assert [entry["reason"] for entry in _withdrawn_entries(vetted_person, verifier)] == ["removed"]
    page = (
        coordinator.console(language="en")
        .get(f"/cases/{vetted_person.case.public_id}/?section=vetting")
        .content.decode()
    )
    assert "Sign-offs: 1 of 2" in page


def test_a_sign_off_stops_counting_when_its_verifier_loses_the_role_or_the_current_key(
    vetted_person: PersonAtRisk, verifier: Staff, coordinator: Staff
) -> None:
    from casework.models import CaseKeyWrap

    _signed_by_both(vetted_person, verifier, coordinator)
    verifier.member.role = Role.CASEWORKER
    verifier.member.save(update_fields=["role"])
    assert services.verification_refusal(vetted_person.case) is not None
    page = (
        coordinator.console(language="en")
        .get(f"/cases/{vetted_person.case.public_id}/?section=vetting")
        .content.decode()
    )
    assert "does not count: this verifier no longer holds the case key" in page
    verifier.member.role = Role.VERIFIER
    verifier.member.save(update_fields=["role"])
    assert services.verification_refusal(vetted_person.case) is None
    # A wrap of the current version gone (however it went) is enough to stop counting.
    CaseKeyWrap.objects.filter(case_key__case=vetted_person.case, member=verifier.member).delete()
    assert services.verification_refusal(vetted_person.case) is not None


def test_a_checklist_note_moved_to_another_item_stops_the_vetting_section_with_the_plain_page(
    vetted_person: PersonAtRisk, caseworker: Staff
) -> None:
    """A database writer copies one item's sealed note onto another: the note does not open
    under the other item's context, and the section says so (409), not a server error."""
    for item, note in ((CheckItem.INTERVIEW, "Note-a1: interview by video"), (CheckItem.REFERENCES, "Note-b2")):
        services.check_tick(
            case=vetted_person.case,
            member=caseworker.member,
            member_private_key=private_key(caseworker),
            item=item,
            note=note,
        )
    moved = VettingCheck.objects.get(case=vetted_person.case, item=CheckItem.INTERVIEW).note_ct
    VettingCheck.objects.filter(case=vetted_person.case, item=CheckItem.REFERENCES).update(note_ct=bytes(moved))
    page = caseworker.console(language="en").get(f"/cases/{vetted_person.case.public_id}/?section=vetting")
    assert page.status_code == 409
    assert "Stopped: a record of this case does not open" in page.content.decode()
    assert "Note-a1" not in page.content.decode()
