"""Two staff placing people into the last free place at the same moment: exactly one succeeds."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import translation

from evacuation.safehouses import services
from evacuation.safehouses.models import Placement
from tests.personas import PersonAtRisk, Staff

FULL = "refused: Last place is full (1 places, all taken). Choose another safe house."


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_concurrent_placements_into_the_last_place_succeeds(
    logistics: Staff, coordinator: Staff, caseworker: Staff, verified: PersonAtRisk, second_verified: PersonAtRisk
) -> None:
    """The first placement's transaction stays open (uncommitted) for a moment after it has
    counted and written, while the second one runs: without the row lock the second would
    count the place as free too and both would commit."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL; SQLite serialises every write transaction")
    house = services.safe_house_create(
        actor=logistics.member, code_name="Last place", capacity=1, address="Lenina 15, flat 42", notes=""
    )
    # Keys are opened before the threads start: the race is on the placement, not on Argon2.
    first = (coordinator, coordinator.private_key, verified)
    second = (caseworker, caseworker.private_key, second_verified)
    barrier = threading.Barrier(2)
    first_written = threading.Event()
    outcomes: dict[str, str] = {}

    def place(staff: Staff, private_key: bytes, person: PersonAtRisk) -> str:
        try:
            services.placement_create(
                actor=staff.member,
                actor_private_key=private_key,
                case=person.case,
                house=house,
                starts_on=dt.date(2026, 11, 25),
                until=None,
            )
        except services.SafeHouseRefused as refused:
            return f"refused: {refused}"
        return "placed"

    def run_first() -> None:
        translation.activate("en")
        try:
            barrier.wait(10)
            with transaction.atomic():
                outcomes["first"] = place(*first)
                first_written.set()
                time.sleep(0.5)  # the second placement runs now, against this uncommitted one
        finally:
            first_written.set()
            connection.close()

    def run_second() -> None:
        translation.activate("en")
        try:
            barrier.wait(10)
            first_written.wait(10)
            outcomes["second"] = place(*second)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == {"first": "placed", "second": FULL}
    assert Placement.objects.filter(safe_house=house, ended_at__isnull=True).count() == 1
    assert Placement.objects.get(safe_house=house).case == verified.case
