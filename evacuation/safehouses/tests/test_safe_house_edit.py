"""Changing and closing a safe house: capacity never below who is placed there, the address
re-encrypted and its reply-screen hashes registered anew, stale forms refused, audited."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import Action, AuditEntry
from evacuation.safehouses import services
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseShingle
from tests.personas import PersonAtRisk, Staff
from vetting import digests, normalise
from vetting.models import SensitiveKind

ADDRESS = "ул. Садовая, д. 7, кв. 19, домофон 5521"
NEW_ADDRESS = "пр. Мира, д. 112, кв. 4, код 9090"
TODAY = dt.date(2026, 11, 25)


def _house(actor: Staff, capacity: int = 2) -> SafeHouse:
    return services.safe_house_create(
        actor=actor.member, code_name="Oak", capacity=capacity, address=ADDRESS, notes="old notes"
    )


def _place(actor: Staff, person: PersonAtRisk, house: SafeHouse) -> Placement:
    return services.placement_create(
        actor=actor.member,
        actor_private_key=actor.private_key,
        case=person.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )


def _matches(text: str) -> set[str]:
    return services.address_matching_kinds(digests.sensitive_shingle_digests(normalise.item_shingles(text)))


def test_logistics_change_the_address_notes_name_and_capacity(logistics: Staff) -> None:
    house = _house(logistics)
    client = logistics.console(language="en")
    assert "Open the address and notes to change them" in client.get(f"/safe-houses/{house.pk}/edit/").content.decode()
    revealed = client.post(f"/safe-houses/{house.pk}/edit/", {"reveal": "1"}).content.decode()
    assert "домофон 5521" in revealed and "old notes" in revealed  # prefilled after an audited viewing
    assert AuditEntry.objects.filter(action=Action.SAFE_HOUSE_ADDRESS_VIEW, details__safe_house=house.pk).exists()

    response = client.post(
        f"/safe-houses/{house.pk}/edit/",
        {
            "code_name": "Birch",
            "capacity": "3",
            "address": NEW_ADDRESS,
            "notes": "new notes",
            "revision": "1",
            "with_address": "True",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    house.refresh_from_db()
    assert (house.code_name, house.capacity, house.revision) == ("Birch", 3, 2)
    assert services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key) == (
        NEW_ADDRESS,
        "new notes",
    )
    # The reply screen now knows the new address, and no longer the old one.
    assert _matches(f"Come to {NEW_ADDRESS}") == {SensitiveKind.SAFE_HOUSE.value}
    assert _matches(f"Come to {ADDRESS}") == set()
    assert house.shingle_count == SafeHouseShingle.objects.filter(safe_house=house).count()
    entry = AuditEntry.objects.filter(action=Action.SAFE_HOUSE_EDIT).latest("sequence")
    assert (entry.actor_id, entry.details) == (
        logistics.member.pk,
        {"safe_house": house.pk, "revision": 2, "code_name": True, "capacity": True, "address": True, "notes": True},
    )


def test_changing_only_the_capacity_needs_no_address_and_keeps_it(coordinator: Staff, logistics: Staff) -> None:
    house = _house(logistics)
    response = coordinator.console().post(
        f"/safe-houses/{house.pk}/edit/", {"code_name": "Oak", "capacity": "5", "revision": "1"}
    )
    assert response.status_code == 302
    house.refresh_from_db()
    assert house.capacity == 5
    assert (
        services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)[0]
        == ADDRESS
    )
    assert _matches(ADDRESS) == {SensitiveKind.SAFE_HOUSE.value}


def test_capacity_below_the_people_placed_there_is_refused(
    coordinator: Staff, logistics: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    _place(coordinator, verified, house)
    _place(coordinator, second_verified, house)
    data = {"code_name": "Oak", "capacity": "1", "revision": "1"}
    en = logistics.console(language="en").post(f"/safe-houses/{house.pk}/edit/", data)
    assert en.status_code == 409
    assert "2 people are placed here now: the capacity cannot be lower than that." in en.content.decode()
    ru = logistics.console(language="ru").post(f"/safe-houses/{house.pk}/edit/", data)
    assert "Здесь сейчас размещено людей: 2. Мест не может быть меньше." in ru.content.decode()
    house.refresh_from_db()
    assert (house.capacity, house.revision) == (2, 1)


def test_a_stale_form_is_refused_and_keeps_what_was_typed(coordinator: Staff, logistics: Staff) -> None:
    house = _house(logistics)
    services.safe_house_edit(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        house=house,
        expected_revision=1,
        code_name="Elm",
        capacity=2,
    )
    response = logistics.console(language="en").post(
        f"/safe-houses/{house.pk}/edit/", {"code_name": "Willow", "capacity": "4", "revision": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this safe house while you were editing." in page
    assert 'value="Willow"' in page and 'name="revision" value="2"' in page
    house.refresh_from_db()
    assert (house.code_name, house.capacity) == ("Elm", 2)


def test_a_house_with_someone_placed_cannot_be_closed_and_a_closed_one_takes_no_one(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    stay = _place(coordinator, verified, house)
    client = logistics.console(language="en")
    refused = client.post(f"/safe-houses/{house.pk}/close/", {"revision": "1", "confirm": "on"})
    assert refused.status_code == 409
    assert "1 people are still placed here: end their stays before closing the safe house." in refused.content.decode()
    assert client.post(f"/safe-houses/{house.pk}/close/", {"revision": "1"}).status_code == 400  # not confirmed
    services.placement_end(
        actor=coordinator.member, actor_private_key=coordinator.private_key, case=verified.case, placement=stay
    )
    house.refresh_from_db()
    assert client.post(f"/safe-houses/{house.pk}/close/", {"revision": "1"}).status_code == 400
    closed = client.post(f"/safe-houses/{house.pk}/close/", {"revision": str(house.revision), "confirm": "on"})
    assert closed.status_code == 302
    house.refresh_from_db()
    assert house.is_closed and house.closed_by == logistics.member
    entry = AuditEntry.objects.filter(action=Action.SAFE_HOUSE_CLOSE).latest("sequence")
    assert entry.details == {"safe_house": house.pk, "revision": house.revision}

    with pytest.raises(services.SafeHouseRefused):
        _place(coordinator, second_verified, house)
    page = caseworker.console().get(f"/cases/{second_verified.case.public_id}/").content.decode()
    assert ">Oak (" not in page  # not offered in the placement form
    assert client.get(f"/safe-houses/{house.pk}/edit/").status_code == 409
    assert "Closed on" in client.get(f"/safe-houses/{house.pk}/").content.decode()


def test_only_coordinators_and_logistics_change_or_close_a_house(logistics: Staff, caseworker: Staff) -> None:
    house = _house(logistics)
    client = caseworker.console()
    assert client.get(f"/safe-houses/{house.pk}/edit/").status_code == 403
    assert (
        client.post(f"/safe-houses/{house.pk}/edit/", {"code_name": "X", "capacity": "9", "revision": "1"}).status_code
        == 403
    )
    assert client.post(f"/safe-houses/{house.pk}/close/", {"revision": "1", "confirm": "on"}).status_code == 403
    with pytest.raises(services.SafeHouseRefused):
        services.safe_house_close(actor=caseworker.member, house=house, expected_revision=1)
    house.refresh_from_db()
    assert (house.code_name, house.revision, house.closed_at) == ("Oak", 1, None)
