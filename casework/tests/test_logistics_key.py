"""Logistics staff and the case key (T3): given only for a verified case, by someone who holds
it; taken away, with a key rotation, as soon as the case is no longer verified."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

import sealbox
from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import keys, services
from casework.lifecycle import State, case_transition
from casework.models import Case, CaseKeyWrap, Message, MessageKey
from evacuation.funds import services as funds_services
from evacuation.funds.models import LedgerEntry
from evacuation.plans import services as plan_services
from evacuation.plans.models import LegStatus
from evacuation.safehouses import services as house_services
from evacuation.safehouses.models import Placement
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


@pytest.fixture
def vetting(caseworker: Staff, outsider: Staff, logistics: Staff, verifiers: tuple[Staff, Staff]) -> PersonAtRisk:
    person = open_case(body="I need to hide, please.")
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(
        case=person.case, member=caseworker.member, to_state=State.VETTING, member_private_key=caseworker.private_key
    )
    return person


@pytest.fixture
def verified(vetting: PersonAtRisk, verifiers: tuple[Staff, Staff]) -> PersonAtRisk:
    for verifier in verifiers:
        vetting_services.sign_off_create(
            case=vetting.case,
            member=verifier.member,
            member_private_key=verifier.private_key,
            signing_key=verifier.signing_key,
            reason="ok",
        )
    case_transition(case=vetting.case, member=verifiers[0].member, to_state=State.VERIFIED)
    vetting.case.refresh_from_db()
    return vetting


def _give(case: Case, actor: Staff, logistics: Staff, *, language: str = "en") -> tuple[int, str]:
    response = actor.console(language=language).post(
        f"/cases/{case.public_id}/members/", {"member": logistics.member.pk}
    )
    return response.status_code, response.content.decode()


def test_logistics_cannot_be_given_the_key_while_the_case_is_being_vetted(
    caseworker: Staff, logistics: Staff, vetting: PersonAtRisk
) -> None:
    page = caseworker.console(language="en").get(f"/cases/{vetting.case.public_id}/?section=access").content.decode()
    assert "logistics (" not in page  # not offered in the list of people to add
    status, page = _give(vetting.case, caseworker, logistics, language="ru")
    assert status == 400
    assert "Сотрудникам логистики можно дать доступ к кейсу только после его проверки." in page
    with translation.override("en"), pytest.raises(services.MembershipRefused, match="only once it is verified"):
        services.case_member_add(
            case=vetting.case,
            actor=caseworker.member,
            actor_private_key=caseworker.private_key,
            member=logistics.member,
        )
    assert not CaseKeyWrap.objects.filter(member=logistics.member).exists()
    assert logistics.console().get(f"/cases/{vetting.case.public_id}/").status_code == 404


def test_logistics_given_the_key_on_a_verified_case_place_record_progress_and_pay(
    caseworker: Staff, logistics: Staff, verified: PersonAtRisk
) -> None:
    case = verified.case
    page = caseworker.console(language="en").get(f"/cases/{case.public_id}/?section=access").content.decode()
    assert "logistics (" in page  # offered now
    status, _page = _give(case, caseworker, logistics)
    assert status == 302
    assert keys.current_holders(Case.objects.get(pk=case.pk)).count(logistics.member) == 1
    entry = AuditEntry.objects.filter(action=Action.CASE_MEMBER_ADD).latest("sequence")
    assert (entry.actor_id, entry.details) == (caseworker.member.pk, {"member": logistics.member.pk})
    assert logistics.console().get(f"/cases/{case.public_id}/").status_code == 200

    # A safe house: placed from the case page by the logistics member.
    house = house_services.safe_house_create(
        actor=logistics.member, code_name="Oak", capacity=2, address="ул. Садовая, д. 7", notes=""
    )
    today = timezone.localdate()
    response = logistics.console().post(
        f"/cases/{case.public_id}/placement/", {"safe_house": house.pk, "starts_on": today.isoformat()}
    )
    assert response.status_code == 302, response.content[:2000]
    placement = Placement.objects.get(case=case, ended_at__isnull=True)
    assert (placement.safe_house_id, placement.placed_by_id) == (house.pk, logistics.member.pk)

    # Leg progress on the plan the caseworker made.
    plan = plan_services.plan_create(case=case, actor=caseworker.member, actor_private_key=caseworker.private_key)
    leg = plan_services.leg_create(
        plan=plan,
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        data=plan_services.LegInput(
            mode="rail",
            from_place="A",
            to_place="B",
            notes="",
            destination=None,
            planned_departure=None,
            planned_arrival=None,
            documents=[],
        ),
    )
    progressed = plan_services.leg_progress(
        leg=leg,
        actor=logistics.member,
        actor_private_key=logistics.private_key,
        data=plan_services.ProgressInput(
            status=LegStatus.UNDER_WAY, actual_departure=today, actual_arrival=None, documents={}
        ),
        expected_revision=leg.revision,
    )
    assert (progressed.status, progressed.updated_by_id) == (LegStatus.UNDER_WAY, logistics.member.pk)

    # Money paid out.
    paid = funds_services.entry_create(
        case=case,
        actor=logistics.member,
        actor_private_key=logistics.private_key,
        data=funds_services.EntryInput("travel", Decimal("1500"), "RUB", today - dt.timedelta(days=1), "bus"),
    )
    assert LedgerEntry.objects.get(pk=paid.pk).case_id == case.pk


@pytest.mark.parametrize("leaves_by", ["closed", "reopened"])
def test_a_case_that_is_no_longer_verified_takes_logistics_off_with_a_new_key(
    coordinator: Staff, caseworker: Staff, logistics: Staff, verified: PersonAtRisk, leaves_by: str
) -> None:
    case = verified.case
    assert _give(case, caseworker, logistics)[0] == 302
    her_private_key = logistics.private_key
    kept = keys.case_private_keys(case, logistics.member, her_private_key)
    case.refresh_from_db()
    version_before = case.key_version

    client = coordinator.console()
    response = client.post(
        f"/cases/{case.public_id}/state/",
        {"to_state": State.CLOSED, "reason": "safe", "revision": case.revision, "confirm_close": "on"},
    )
    assert response.status_code == 302, response.content[:3000]
    if leaves_by == "reopened":
        case.refresh_from_db()
        case_transition(case=case, member=coordinator.member, to_state=State.TRIAGED, member_private_key=None)
    case.refresh_from_db()
    assert case.key_version == version_before + 1  # one rotation, at the moment it left "verified"
    assert case.details_key_version == case.key_version  # re-sealed with the closing coordinator's key
    assert not CaseKeyWrap.objects.filter(member=logistics.member).exists()
    assert logistics.member not in keys.current_holders(case)
    entry = AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).latest("sequence")
    assert entry.details == {"member": logistics.member.pk, "key_version": case.key_version, "reason": "not_verified"}

    later = services.message_post_from_staff(
        case=case,
        member=coordinator.member,
        member_private_key=coordinator.private_key,
        signing_key=coordinator.signing_key,
        body="Written after the case left verification.",
    )
    wrap = MessageKey.objects.select_related("case_key").get(message=later, case_key__isnull=False)
    assert wrap.case_key.version == case.key_version
    for old_private_key in [*kept.values(), her_private_key]:
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old_private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(later.id))
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old_private_key, bytes(case.details_ct), ctx=keys.details_ctx(case))
    with pytest.raises(keys.NoAccess):
        keys.case_private_keys(case, logistics.member, her_private_key)
    assert logistics.console().get(f"/cases/{case.public_id}/").status_code == 404
    # The remaining holders read everything, old and new.
    page = coordinator.console().get(f"/cases/{case.public_id}/").content.decode()
    assert "I need to hide, please." in page and "Written after the case left verification." in page
    assert Message.objects.filter(case=case).count() >= 2
    # And the closed or reopened (unvetted again) case cannot be handed back to them.
    assert _give(case, coordinator, logistics)[0] == 400
    assert not CaseKeyWrap.objects.filter(member=logistics.member).exists()


def test_cases_without_logistics_holders_are_not_rotated_on_a_state_change(
    coordinator: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    case = verified.case
    version_before = case.key_version
    case_transition(case=case, member=caseworker.member, to_state=State.CLOSED, reason="safe")
    case.refresh_from_db()
    assert case.key_version == version_before
