"""Two staff placing people into the last free place at the same moment: exactly one succeeds."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import translation

from evacuation.safehouses import services
from evacuation.safehouses.models import Placement
from tests.personas import PersonAtRisk, Staff


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_concurrent_placements_into_the_last_place_succeeds(
    logistics: Staff, coordinator: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL; SQLite serialises every write transaction")
    house = services.safe_house_create(
        actor=logistics.member, code_name="Last place", capacity=1, address="Lenina 15, flat 42", notes=""
    )
    # Keys are opened before the threads start: the race is on the placement, not on Argon2.
    placers = [(coordinator, coordinator.private_key, verified), (caseworker, caseworker.private_key, second_verified)]
    barrier = threading.Barrier(len(placers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def place(staff: Staff, private_key: bytes, person: PersonAtRisk) -> None:
        translation.activate("en")
        try:
            barrier.wait(10)
            services.placement_create(
                actor=staff.member,
                actor_private_key=private_key,
                case=person.case,
                house=house,
                starts_on=dt.date(2026, 11, 25),
                until=None,
            )
            outcome = "placed"
        except services.SafeHouseRefused as refused:
            outcome = f"refused: {refused}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=place, args=placer) for placer in placers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == [
        "placed",
        "refused: Last place is full (1 places, all taken). Choose another safe house.",
    ]
    assert Placement.objects.filter(safe_house=house, ended_at__isnull=True).count() == 1
