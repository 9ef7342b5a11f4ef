"""A database writer cannot get a safe-house address sealed where it should not go.

Attacker: someone who can write to the database alone (no instance secret). They plant rows
as the tests do, through the ORM's ``create``/``update``, which the application never uses
without certifying. A sealing row planted for a real member does not earn that member the
house's next keys, and a stay planted (or brought back from its end) does not give a case's
key the address. Both tests failed before sealings and stays carried certificates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

import sealbox
from accounts.models import Role
from audit.models import AuditEntry, AuditHead
from casework import keys, teams
from casework import services as case_services
from casework.lifecycle import ClosingReason, State, case_transition
from casework.models import Case, CaseKey
from evacuation.safehouses import crypto, services
from evacuation.safehouses.models import Placement, SafeHouse, SafeHouseKey
from jobs.models import Job
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff, make_staff

ADDRESS = "ул. Садовая 7, кв. 19"
NEW_ADDRESS = "ул. Лесная 3, кв. 4"
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


def test_clearing_new_keys_due_does_not_let_a_team_whose_stay_ended_read_the_next_address(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    """While placed, the case's caseworker could open the address key through the case key and
    keep it. The stay ends (new keys due); the writer clears the flag so that the next address
    would be stored under the old key."""
    house = _house(logistics)
    kept = _kept_address_key(coordinator, caseworker, verified, house)
    services.placement_end(
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        case=Case.objects.get(pk=verified.case.pk),
        placement=Placement.objects.get(case=verified.case, ended_at__isnull=True),
    )
    SafeHouse.objects.filter(pk=house.pk).update(rotation_due=False)

    house = _new_address_stored(logistics, house)

    with pytest.raises(sealbox.CryptoError):
        sealbox.decrypt(kept, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))


def _swap_cases(a: Case, b: Case) -> None:
    """Exchange two case rows' values (not their row ids) and the key versions hanging off them."""
    fields = [field.attname for field in Case._meta.concrete_fields if field.attname != "id"]
    values_a = {name: getattr(Case.objects.get(pk=a.pk), name) for name in fields}
    values_b = {name: getattr(Case.objects.get(pk=b.pk), name) for name in fields}
    Case.objects.filter(pk=a.pk).update(public_id="TMP0000000")
    Case.objects.filter(pk=b.pk).update(**values_a)
    Case.objects.filter(pk=a.pk).update(**values_b)
    parking = Case.objects.create(urgency="in_hiding", details_ct=b"")
    keys_a = list(CaseKey.objects.filter(case_id=a.pk).values_list("pk", flat=True))
    keys_b = list(CaseKey.objects.filter(case_id=b.pk).values_list("pk", flat=True))
    CaseKey.objects.filter(pk__in=keys_a).update(case_id=parking.pk)
    CaseKey.objects.filter(pk__in=keys_b).update(case_id=a.pk)
    CaseKey.objects.filter(pk__in=keys_a).update(case_id=b.pk)
    parking.delete()


def test_case_rows_swapped_in_the_database_carry_no_stay_to_another_case(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    """Case X is placed; Bob, of another team, holds only case Y. The writer swaps the two case
    rows so that X's stay points at Y: Y's key must not be given the address."""
    house = _house(logistics)
    services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )
    team_b = teams.team_create(actor=coordinator.member, name="Team B")
    bob = make_staff("bob", team=team_b, invited_by=coordinator)
    case_services.case_member_add(
        case=Case.objects.get(pk=second_verified.case.pk),
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        member=bob.member,
    )
    _swap_cases(verified.case, second_verified.case)
    y = Case.objects.get(public_id=second_verified.case.public_id)

    services.safe_house_open(house=house, member=coordinator.member, member_private_key=coordinator.private_key)

    with pytest.raises((keys.UntrustedRecord, services.SafeHouseRefused)):
        services.placement_address(case=y, member=bob.member, member_private_key=bob.private_key)
    assert not SafeHouseKey.objects.filter(safe_house=house, case_key__case=y).exists()


def test_a_planted_audit_entry_neither_silences_the_alarm_nor_tells_the_phrases_apart(
    coordinator: Staff,
    logistics: Staff,
    verified: PersonAtRisk,
    second_verified: PersonAtRisk,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A danger-word login on a placed case takes the address from the case key, which is
    audited. A row planted at the audit log's next number used to make that fail: a server
    error for the danger phrase only (a captor sees which phrase they were given) and no alarm."""
    house = _house(logistics)
    services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )
    head = AuditHead.objects.get()
    AuditEntry.objects.create(
        sequence=head.sequence + 1,
        at=timezone.now(),
        action="login",
        details={},
        previous_hash="0" * 64,
        entry_hash="f" * 64,
    )
    real, captor = FaceClient(INTAKE), FaceClient(INTAKE)
    real.raise_request_exception = captor.raise_request_exception = False

    with django_capture_on_commit_callbacks(execute=True):
        real_page = real.post("/login/", {"codename": second_verified.codename})
        danger_page = captor.post(
            "/login/", {"codename": case_services.duress_phrase(verified.codename, verified.duress_word)}
        )

    assert real_page.status_code == danger_page.status_code == 302
    assert Case.objects.get(pk=verified.case.pk).under_duress_since is not None
    assert Job.objects.filter(payload__case=verified.case.pk, payload__event="duress").exists()
    assert not SafeHouseKey.objects.filter(case_key__case=verified.case).exists()


def _kept_address_key(coordinator: Staff, caseworker: Staff, verified: PersonAtRisk, house: SafeHouse) -> bytes:
    services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=verified.case,
        house=house,
        starts_on=TODAY,
        until=None,
    )
    case = Case.objects.get(pk=verified.case.pk)
    case_private = keys.current_key_open(case, caseworker.member, caseworker.private_key)
    house.refresh_from_db()
    row = SafeHouseKey.objects.get(safe_house=house, case_key__isnull=False)
    return sealbox.unseal(
        case_private, bytes(row.sealed_key), ctx=crypto.case_key_ctx(house.pk, house.key_version, row.case_key_id)
    )


def _new_address_stored(logistics: Staff, house: SafeHouse) -> SafeHouse:
    house = SafeHouse.objects.get(pk=house.pk)
    services.safe_house_edit(
        actor=logistics.member,
        actor_private_key=logistics.private_key,
        house=house,
        expected_revision=house.revision,
        code_name="Oak",
        capacity=2,
        address=NEW_ADDRESS,
    )
    return SafeHouse.objects.get(pk=house.pk)


def test_sealings_hidden_while_a_case_leaves_verified_do_not_spare_the_house_new_keys(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    kept = _kept_address_key(coordinator, caseworker, verified, house)
    SafeHouseKey.objects.filter(case_key__case=verified.case).delete()

    case_transition(
        case=Case.objects.get(pk=verified.case.pk),
        member=caseworker.member,
        to_state=State.CLOSED,
        reason=ClosingReason.values[0],
        member_private_key=caseworker.private_key,
    )

    house = _new_address_stored(logistics, house)
    with pytest.raises(sealbox.CryptoError):
        sealbox.decrypt(kept, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))


def test_new_keys_due_cleared_with_the_house_row_s_own_earlier_certificate_are_still_made(
    coordinator: Staff, logistics: Staff, caseworker: Staff, verified: PersonAtRisk
) -> None:
    house = _house(logistics)
    kept = _kept_address_key(coordinator, caseworker, verified, house)
    house.refresh_from_db()
    saved_certificate = bytes(house.certificate)  # read by the writer while the stay runs
    placement = Placement.objects.get(case=verified.case, ended_at__isnull=True)
    services.placement_end(
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        case=Case.objects.get(pk=verified.case.pk),
        placement=placement,
    )
    SafeHouse.objects.filter(pk=house.pk).update(rotation_due=False, certificate=saved_certificate)

    house = _new_address_stored(logistics, house)

    with pytest.raises(sealbox.CryptoError):
        sealbox.decrypt(kept, bytes(house.address_ct), ctx=crypto.address_ctx(house.pk, house.key_version))
