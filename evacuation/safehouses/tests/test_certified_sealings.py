"""A database writer cannot get a safe-house address sealed where it should not go.

Attacker: someone who can write to the database alone (no instance secret). They plant rows
as the tests do, through the ORM's ``create``/``update``, which the application never uses
without certifying. A sealing row planted for a real member does not earn that member the
house's next keys, and a stay planted (or brought back from its end) does not give a case's
key the address. Both tests failed before sealings and stays carried certificates.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import Role
from evacuation.safehouses import services
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseKey
from tests.personas import PersonAtRisk, Staff, make_staff

ADDRESS = "ул. Садовая 7, кв. 19"
TODAY = dt.date(2026, 12, 1)


def _house(actor: Staff) -> SafeHouse:
    return services.safe_house_create(actor=actor.member, code_name="Oak", capacity=2, address=ADDRESS, notes="")


def test_a_planted_sealing_does_not_earn_the_next_keys(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    # A logistics member who joined later was never given this house: the writer plants a
    # sealing row for them, so that the next rotation would seal the new keys to their key.
    newcomer = make_staff("newcomer", role=Role.LOGISTICS, invited_by=coordinator)
    SafeHouseKey.objects.create(safe_house=house, version=house.key_version, member=newcomer.member, sealed_key=b"x")
    services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )
    placement = Placement.objects.get(case=verified.case)

    services.placement_end(
        actor=coordinator.member, actor_private_key=coordinator.private_key, case=verified.case, placement=placement
    )

    house.refresh_from_db()
    assert house.key_version == 2
    assert not SafeHouseKey.objects.filter(safe_house=house, version=2, member=newcomer.member).exists()
    assert newcomer.member in services.readers_lacking_keys(house)


def test_a_planted_stay_gives_the_case_key_no_address(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    """A verified case's team wants a house's address: the writer plants a confirmed stay for
    it. Opening the house (which seals the address to placed cases the opener holds) and
    reading the case's placement must not seal it to the case's key."""
    house = _house(logistics)
    Placement.objects.create(case=verified.case, safe_house=house, starts_on=TODAY, status=Placement.Status.CONFIRMED)

    services.safe_house_open(house=house, member=coordinator.member, member_private_key=coordinator.private_key)

    assert not SafeHouseKey.objects.filter(safe_house=house, case_key__isnull=False).exists()


def test_a_stay_brought_back_from_its_end_gives_no_address(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    placement = services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )
    services.placement_end(
        actor=coordinator.member, actor_private_key=coordinator.private_key, case=verified.case, placement=placement
    )
    Placement.objects.filter(pk=placement.pk).update(ended_at=None, ended_by=None)
    house.refresh_from_db()

    services.safe_house_open(house=house, member=coordinator.member, member_private_key=coordinator.private_key)

    assert not SafeHouseKey.objects.filter(safe_house=house, case_key__isnull=False).exists()
