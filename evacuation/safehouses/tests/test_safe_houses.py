"""Safe houses: capacity, who can read an address, and the reply screen (T3, T8)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

import sealbox
from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import keys
from casework.lifecycle import ClosingReason, State, case_transition
from casework.models import Case, CaseKey, Message
from casework.services import case_mark_duress
from evacuation.safehouses import services
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseKey
from tests.personas import PersonAtRisk, Staff, make_staff, open_case
from tests.plaintext_search import database_places, log_record_places, needles_for, search_places

ADDRESS = "ул. Садовая, д. 7, кв. 19, домофон 5521"
NOTES = "Хозяйка Марина, ключ у соседки из кв. 20"
TODAY = dt.date(2026, 11, 25)


def _house(actor: Staff, capacity: int = 2, name: str = "Oak") -> SafeHouse:
    return services.safe_house_create(
        actor=actor.member, code_name=name, capacity=capacity, address=ADDRESS, notes=NOTES
    )


def _place(actor: Staff, person: PersonAtRisk, house: SafeHouse) -> Placement:
    return services.placement_create(
        actor=actor.member,
        actor_private_key=actor.private_key,
        case=person.case,
        house=house,
        starts_on=TODAY,
        until=TODAY + dt.timedelta(days=30),
    )


def test_placing_beyond_capacity_is_refused(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    house = _house(logistics, capacity=1)
    _place(coordinator, verified, house)
    with translation.override("en"), pytest.raises(services.SafeHouseRefused, match="Oak is full"):
        _place(coordinator, second_verified, house)
    assert Placement.objects.filter(safe_house=house).count() == 1

    # Through the case page, in both languages, with the form kept.
    url = f"/cases/{second_verified.case.public_id}/placement/"
    data = {"safe_house": house.pk, "starts_on": "2026-11-25", "until": "2026-12-20"}
    en = caseworker.console(language="en").post(url, data)
    assert en.status_code == 409
    assert "Oak is full (1 places, all taken). Choose another safe house." in en.content.decode()
    assert 'value="2026-12-20"' in en.content.decode()
    ru = caseworker.console(language="ru").post(url, data)
    assert "Мест в Oak нет (всего мест: 1, все заняты). Выберите другое убежище." in ru.content.decode()
    assert Placement.objects.filter(safe_house=house).count() == 1

    # A place is free again once a stay ends.
    services.placement_end(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        placement=Placement.objects.get(case=verified.case),
    )
    assert caseworker.console().post(url, data).status_code == 302
    assert Placement.objects.get(case=second_verified.case, ended_at__isnull=True).safe_house == house


def test_only_verified_cases_are_placed(logistics: Staff, caseworker: Staff, outsider: Staff) -> None:
    house = _house(logistics)
    person = open_case()
    with translation.override("en"), pytest.raises(services.SafeHouseRefused, match="verified"):
        _place(caseworker, person, house)
    assert not Placement.objects.exists()


def test_a_code_name_that_names_a_place_is_refused(coordinator: Staff) -> None:
    client = coordinator.console(language="en")
    data = {"code_name": "Grozny flat", "capacity": "2", "address": ADDRESS, "notes": NOTES}
    response = client.post("/safe-houses/", data)
    assert response.status_code == 400
    assert "Do not name a place" in response.content.decode()
    assert ADDRESS in response.content.decode()  # nothing typed is lost
    assert not SafeHouse.objects.exists()
    assert client.post("/safe-houses/", {**data, "code_name": "Oak"}).status_code == 302
    assert SafeHouse.objects.get().code_name == "Oak"


def test_the_address_is_readable_only_by_logistics_and_the_placed_case_team(
    coordinator: Staff,
    logistics: Staff,
    caseworker: Staff,
    outsider: Staff,
    verified: PersonAtRisk,
    second_verified: PersonAtRisk,
) -> None:
    house = _house(logistics)
    # Coordinators and logistics: on the safe-house page, audited.
    for staff in (logistics, coordinator):
        page = staff.console().post(f"/safe-houses/{house.pk}/address/")
        assert page.status_code == 200 and ADDRESS in page.content.decode() and NOTES in page.content.decode()
    assert AuditEntry.objects.filter(action=Action.SAFE_HOUSE_ADDRESS_VIEW).count() == 2
    # A caseworker and a staff member of another team: not on those pages at all.
    for staff in (caseworker, outsider):
        assert staff.console().get("/safe-houses/").status_code == 403
        assert staff.console().post(f"/safe-houses/{house.pk}/address/").status_code == 403
        with pytest.raises(services.SafeHouseRefused):
            services.safe_house_open(house=house, member=staff.member, member_private_key=staff.private_key)

    # Before anyone is placed, the case team cannot read it.
    with pytest.raises(services.SafeHouseRefused):
        services.placement_address(
            case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    placement = _place(coordinator, verified, house)
    case_url = f"/cases/{verified.case.public_id}/?section=safehouse"
    shown = caseworker.console().post(f"/cases/{verified.case.public_id}/placement/address/")
    assert shown.status_code == 200 and ADDRESS in shown.content.decode()
    assert NOTES not in shown.content.decode()  # the notes stay with logistics
    assert AuditEntry.objects.filter(
        action=Action.SAFE_HOUSE_ADDRESS_VIEW, case_public_id=verified.case.public_id
    ).exists()
    # Not the case page itself, not another case's team, not a non-holder.
    assert ADDRESS not in caseworker.console().get(case_url).content.decode()
    other = caseworker.console().post(f"/cases/{second_verified.case.public_id}/placement/address/")
    assert other.status_code == 409 and ADDRESS not in other.content.decode()
    assert outsider.console().post(f"/cases/{verified.case.public_id}/placement/address/").status_code == 404
    with pytest.raises(keys.NoAccess):
        services.placement_address(case=verified.case, member=outsider.member, member_private_key=outsider.private_key)

    # The stay ends: the team can no longer read it, and the house has new keys.
    services.placement_end(
        actor=caseworker.member, actor_private_key=caseworker.private_key, case=verified.case, placement=placement
    )
    assert not SafeHouseKey.objects.filter(case_key__case=verified.case).exists()
    house.refresh_from_db()
    assert house.rotation_due  # the caseworker could not open the keys; logistics will
    with pytest.raises(services.SafeHouseRefused):
        services.placement_address(
            case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    old_ciphertext = bytes(house.address_ct)
    address, notes = services.safe_house_open(
        house=house, member=logistics.member, member_private_key=logistics.private_key
    )
    assert (address, notes) == (ADDRESS, NOTES)
    house.refresh_from_db()
    assert house.key_version == 2 and not house.rotation_due and bytes(house.address_ct) != old_ciphertext
    # Coordinator still reads it under the new keys.
    assert (
        services.safe_house_open(house=house, member=coordinator.member, member_private_key=coordinator.private_key)[0]
        == ADDRESS
    )


def test_a_case_key_rotated_while_placed_is_given_the_address(
    logistics: Staff, caseworker: Staff, coordinator: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    _place(coordinator, verified, house)
    keys.case_key_rotate(verified.case, holders=keys.current_holders(verified.case))
    verified.case.refresh_from_db()
    found = services.placement_address(
        case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
    )
    assert found is not None and found[1] == ADDRESS
    assert SafeHouseKey.objects.filter(case_key=keys.current_case_key(verified.case)).exists()


def test_a_caseworkers_placement_is_a_request_until_a_coordinator_confirms_it(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    house = _house(logistics, capacity=1)
    placement = _place(caseworker, verified, house)
    assert placement.status == Placement.Status.REQUESTED and placement.confirmed_by is None
    # A request takes the place: nobody else is placed there meanwhile.
    with translation.override("en"), pytest.raises(services.SafeHouseRefused, match="Oak is full"):
        _place(coordinator, second_verified, house)
    # Nothing reaches the case key: not at placing, not when logistics open the house.
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    assert not SafeHouseKey.objects.filter(case_key__case=verified.case).exists()
    with translation.override("en"), pytest.raises(services.SafeHouseRefused, match="waits for a coordinator"):
        services.placement_address(
            case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    case_url = f"/cases/{verified.case.public_id}/?section=safehouse"
    en = caseworker.console(language="en").get(case_url).content.decode()
    assert "waits for a coordinator or logistics member to confirm it" in en and "Confirm this stay" not in en
    ru = caseworker.console(language="ru").get(case_url).content.decode()
    assert "Это размещение ждёт подтверждения координатора или логиста" in ru
    # The caseworker cannot confirm their own request.
    confirm_url = f"/safe-houses/placements/{placement.pk}/confirm/"
    assert caseworker.console().post(confirm_url, {"back": "case"}).status_code == 403
    with pytest.raises(services.SafeHouseRefused):
        services.placement_confirm(
            actor=caseworker.member, actor_private_key=caseworker.private_key, placement=placement
        )
    # A coordinator confirms it from the case page: audited, and the case key gets the address.
    assert "Confirm this stay" in coordinator.console(language="en").get(case_url).content.decode()
    response = coordinator.console().post(confirm_url, {"back": "case"})
    assert response.status_code == 302 and response["Location"] == case_url
    placement.refresh_from_db()
    assert placement.status == Placement.Status.CONFIRMED and placement.confirmed_by == coordinator.member
    entry = AuditEntry.objects.get(action=Action.PLACEMENT_CONFIRM)
    assert entry.case_public_id == verified.case.public_id
    found = services.placement_address(
        case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
    )
    assert found is not None and found[1] == ADDRESS
    # Confirming twice is refused, with the reason, in both languages.
    en = coordinator.console(language="en").post(confirm_url)
    assert en.status_code == 409 and "This stay is already confirmed." in en.content.decode()
    ru = coordinator.console(language="ru").post(confirm_url)
    assert "Это размещение уже подтверждено." in ru.content.decode()


def test_logistics_confirm_a_request_on_the_safe_house_page(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    placement = _place(caseworker, verified, house)
    page = logistics.console(language="en").get(f"/safe-houses/{house.pk}/").content.decode()
    assert "requested, not confirmed" in page and f"/safe-houses/placements/{placement.pk}/confirm/" in page
    response = logistics.console().post(f"/safe-houses/placements/{placement.pk}/confirm/")
    assert response.status_code == 302 and response["Location"] == f"/safe-houses/{house.pk}/"
    placement.refresh_from_db()
    assert placement.is_confirmed
    # This logistics member is not on the case's team: they cannot check the case key, so
    # nothing is sealed to it yet.
    with pytest.raises(keys.NoAccess):
        keys.current_key_open(verified.case, logistics.member, logistics.private_key)
    assert not SafeHouseKey.objects.filter(case_key__case=verified.case).exists()
    shown = caseworker.console(language="en").post(f"/cases/{verified.case.public_id}/placement/address/")
    assert ADDRESS not in shown.content.decode()
    assert "has not been given to this case's key yet" in shown.content.decode()
    # A coordinator on the team shows it on the case page: the current case key gets it.
    shown = coordinator.console().post(f"/cases/{verified.case.public_id}/placement/address/")
    assert ADDRESS in shown.content.decode()
    found = services.placement_address(
        case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
    )
    assert found is not None and found[1] == ADDRESS


def test_a_withdrawn_request_needs_no_new_keys(logistics: Staff, caseworker: Staff, verified: PersonAtRisk) -> None:
    house = _house(logistics)
    placement = _place(caseworker, verified, house)
    services.placement_end(
        actor=caseworker.member, actor_private_key=caseworker.private_key, case=verified.case, placement=placement
    )
    house.refresh_from_db()
    assert not house.rotation_due and house.key_version == 1


def test_verifiers_and_analysts_on_the_team_do_not_read_the_address(
    coordinator: Staff, logistics: Staff, verifiers: tuple[Staff, Staff], verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    _place(coordinator, verified, house)
    verifier = verifiers[0]
    assert keys.case_private_keys(verified.case, verifier.member, verifier.private_key)  # holds the case key
    with translation.override("en"), pytest.raises(services.SafeHouseRefused, match="may not read"):
        services.placement_address(case=verified.case, member=verifier.member, member_private_key=verifier.private_key)
    response = verifier.console().post(f"/cases/{verified.case.public_id}/placement/address/")
    assert response.status_code == 403 and ADDRESS not in response.content.decode()
    page = verifier.console(language="en").get(f"/cases/{verified.case.public_id}/?section=safehouse").content.decode()
    assert "Show the address" not in page
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    with pytest.raises(services.SafeHouseRefused):
        services.placement_address(case=verified.case, member=analyst.member, member_private_key=analyst.private_key)
    assert not AuditEntry.objects.filter(action=Action.SAFE_HOUSE_ADDRESS_VIEW).exists()


def test_a_case_key_planted_in_the_database_is_not_given_the_address_on_reading(
    coordinator: Staff, caseworker: Staff, logistics: Staff, verified: PersonAtRisk
) -> None:
    """A database writer plants a newer 'current' version: the case row no longer carries its
    certificate, so nobody reads the address through it and nothing is sealed to the planted
    key, neither on reading nor when the house is opened."""
    house = _house(logistics)
    _place(coordinator, verified, house)
    attacker = sealbox.KeyPair.generate()
    Case.objects.filter(pk=verified.case.pk).update(key_version=99)
    evil = CaseKey.objects.create(case=verified.case, version=99, public_key=attacker.public_key)
    verified.case.refresh_from_db()
    for staff in (caseworker, coordinator):
        with pytest.raises(keys.UntrustedRecord):
            services.placement_address(case=verified.case, member=staff.member, member_private_key=staff.private_key)
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    assert not SafeHouseKey.objects.filter(case_key=evil).exists()


def test_a_case_leaving_verified_or_under_duress_loses_the_address(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    _place(coordinator, verified, house)
    _place(coordinator, second_verified, house)
    assert SafeHouseKey.objects.filter(case_key__case=verified.case).exists()
    # Closed: its sealings go, in the same transaction as the change of state.
    case_transition(case=verified.case, member=caseworker.member, to_state=State.CLOSED, reason=ClosingReason.SAFE)
    assert not SafeHouseKey.objects.filter(case_key__case=verified.case).exists()
    assert AuditEntry.objects.filter(
        action=Action.SAFE_HOUSE_CASE_KEYS_REVOKE, case_public_id=verified.case.public_id
    ).exists()
    house.refresh_from_db()
    assert house.rotation_due
    with pytest.raises(services.SafeHouseRefused):
        services.placement_address(
            case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    # Under duress: the same, and reading is refused while it lasts.
    assert SafeHouseKey.objects.filter(case_key__case=second_verified.case).exists()
    case_mark_duress(second_verified.case)
    assert not SafeHouseKey.objects.filter(case_key__case=second_verified.case).exists()
    with pytest.raises(services.SafeHouseRefused):
        services.placement_address(
            case=second_verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    # Logistics opening the house give new keys, and nothing to the duress case's key.
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    house.refresh_from_db()
    assert house.key_version == 2 and not SafeHouseKey.objects.filter(case_key__isnull=False).exists()


def test_a_reply_with_the_safe_house_address_to_an_unverified_case_is_refused(
    logistics: Staff, caseworker: Staff, outsider: Staff
) -> None:
    _house(logistics)
    person = open_case()
    draft = "Come to Садовая 7 кв 19, домофон 5521 tonight."
    response = caseworker.console(language="en").post(f"/cases/{person.case.public_id}/reply/", {"body": draft})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not sent." in page and "Safe-house address" in page
    assert not Message.objects.filter(case=person.case, sender=Message.Sender.STAFF).exists()
    assert AuditEntry.objects.filter(
        action=Action.SENSITIVE_REPLY_REFUSED, case_public_id=person.case.public_id
    ).exists()
    # A harmless reply still goes.
    assert caseworker.console().post(f"/cases/{person.case.public_id}/reply/", {"body": "Hold on."}).status_code == 302


def test_addresses_are_not_stored_in_plaintext(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, all_logs: pytest.LogCaptureFixture
) -> None:
    house = _house(logistics)
    _place(coordinator, verified, house)
    services.placement_address(case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key)
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    needles = needles_for("address", ADDRESS) + needles_for("notes", NOTES)
    assert search_places(database_places(), needles) == []
    assert search_places(log_record_places(all_logs.records), needles) == []
    assert all_logs.records  # the SQL was logged, so the search above had something to search


def test_a_coordinator_gives_the_address_to_logistics_staff_who_joined_later(coordinator: Staff) -> None:
    house = services.safe_house_create(
        actor=coordinator.member, code_name="Birch", capacity=1, address=ADDRESS, notes=NOTES
    )
    newcomer = make_staff("logistics-later", role=Role.LOGISTICS, invited_by=coordinator)
    with pytest.raises(services.SafeHouseRefused):
        services.safe_house_open(house=house, member=newcomer.member, member_private_key=newcomer.private_key)
    page = coordinator.console(language="en").get(f"/safe-houses/{house.pk}/").content.decode()
    assert "logistics-later" in page and "Give the address" in page
    # The newcomer cannot give it to themselves.
    assert newcomer.console().post(f"/safe-houses/{house.pk}/share/", {"member": newcomer.member.pk}).status_code == 403
    response = coordinator.console().post(f"/safe-houses/{house.pk}/share/", {"member": newcomer.member.pk})
    assert response.status_code == 302
    assert services.safe_house_open(house=house, member=newcomer.member, member_private_key=newcomer.private_key) == (
        ADDRESS,
        NOTES,
    )
    assert AuditEntry.objects.filter(action=Action.SAFE_HOUSE_SHARE).count() == 1
    # A caseworker is never given it.
    caseworker = make_staff("caseworker-later", invited_by=coordinator)
    refused = coordinator.console().post(f"/safe-houses/{house.pk}/share/", {"member": caseworker.member.pk})
    assert refused.status_code == 400
    assert not SafeHouseKey.objects.filter(member=caseworker.member).exists()
