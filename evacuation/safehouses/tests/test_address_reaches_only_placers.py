"""Who can reach a safe-house address: never a key a database writer put in, never a verifier on
the team, never a caseworker by placing a case; each written to fail against the earlier code."""

from __future__ import annotations

import sealbox
from casework.lifecycle import State
from casework.models import Case, CaseKey
from evacuation.safehouses import crypto, services
from evacuation.safehouses.models import Placement, SafeHouseKey
from evacuation.safehouses.tests.test_safe_houses import ADDRESS, TODAY, _house, _place
from tests.personas import PersonAtRisk, Staff, open_case


def test_a_database_writer_gets_the_address_sealed_to_a_key_of_their_own(
    logistics: Staff, caseworker: Staff, outsider: Staff
) -> None:
    """T12: a database writer (no staff key at all) plants a 'verified, placed' case whose
    current CaseKey is their own; the next routine opening of the house by logistics seals the
    address key to it (safe_house_open -> _seal_to_placed_cases -> _seal_to_case_key reads
    CaseKey.public_key from the database, never checked against anything)."""
    house = _house(logistics)
    planted = open_case(body="anything").case  # any case row will do
    attacker = sealbox.KeyPair.generate()
    # --- what the database writer does (plain UPDATE/INSERTs) ---
    Case.objects.filter(pk=planted.pk).update(status=State.VERIFIED, key_version=99)
    evil = CaseKey.objects.create(case=planted, version=99, public_key=attacker.public_key)
    Placement.objects.create(case=planted, safe_house=house, starts_on=TODAY)
    # --- a logistics member simply opens the address, as they do every day ---
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    house.refresh_from_db()
    row = SafeHouseKey.objects.filter(safe_house=house, case_key=evil).first()
    if row is None:  # nothing was sealed to it: the fix
        return
    address_key = sealbox.unseal(
        attacker.private_key, bytes(row.sealed_key), ctx=crypto.case_key_ctx(house.pk, house.key_version, evil.pk)
    )
    stolen = sealbox.decrypt(
        address_key, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version)
    ).decode()
    assert stolen != ADDRESS, "the safe-house address was sealed to a key the database writer chose"


def test_a_verifier_on_the_team_reads_the_safe_house_address(
    coordinator: Staff, logistics: Staff, verifiers: tuple[Staff, Staff], verified: PersonAtRisk
) -> None:
    """placement_address has no role check: every holder of the case key (verifiers and
    analysts included) reads where the person, and everyone else in that house, is."""
    house = _house(logistics)
    _place(coordinator, verified, house)
    verifier = verifiers[0]
    page = verifier.console().post(f"/cases/{verified.case.public_id}/placement/address/")
    assert ADDRESS not in page.content.decode(), "a verifier read the safe-house address"


def test_a_caseworker_learns_any_house_address_by_placing_a_case_there(
    logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    """A caseworker (no right to the safe-house pages) places one of their cases in any house
    with a free place; the next routine opening by logistics pushes the address to the case
    key; the caseworker reads it and ends the stay."""
    house = _house(logistics, name="Elm")
    placement = _place(caseworker, verified, house)
    services.safe_house_open(house=house, member=logistics.member, member_private_key=logistics.private_key)
    try:
        found = services.placement_address(
            case=verified.case, member=caseworker.member, member_private_key=caseworker.private_key
        )
    except services.SafeHouseRefused:  # the request waits for logistics to confirm it
        found = None
    services.placement_end(
        actor=caseworker.member, actor_private_key=caseworker.private_key, case=verified.case, placement=placement
    )
    assert found is None or found[1] != ADDRESS, "any caseworker can harvest any house's address"
