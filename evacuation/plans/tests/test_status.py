"""The plan's status follows its legs: one rule, one table of cases."""

from __future__ import annotations

import pytest

from evacuation.plans.status import plan_status_from_legs

CASES = [
    ([], "draft"),
    (["planned"], "planned"),
    (["planned", "planned"], "planned"),
    (["planned", "cancelled"], "planned"),
    (["under_way"], "under_way"),
    (["planned", "under_way"], "under_way"),
    (["done", "planned"], "under_way"),
    (["done", "under_way", "planned"], "under_way"),
    (["done", "cancelled", "planned"], "under_way"),
    (["done"], "done"),
    (["done", "done"], "done"),
    (["done", "cancelled"], "done"),
    (["cancelled"], "cancelled"),
    (["cancelled", "cancelled"], "cancelled"),
]


@pytest.mark.parametrize(("legs", "expected"), CASES, ids=lambda value: ",".join(value) or "none")
def test_plan_status_from_legs(legs: list[str], expected: str) -> None:
    assert plan_status_from_legs(legs) == expected


def test_the_order_of_the_legs_does_not_change_the_status() -> None:
    for legs, expected in CASES:
        assert plan_status_from_legs(list(reversed(legs))) == expected
