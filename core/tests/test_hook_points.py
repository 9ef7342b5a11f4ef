"""core.hooks.HookPoint: registered functions run in ascending order, then in the order they
were registered, once each however often they are registered."""

from __future__ import annotations

from core.hooks import HookPoint


def test_functions_run_by_order_then_by_registration_and_their_results_come_back_in_that_order() -> None:
    point: HookPoint[int, str] = HookPoint("test")

    def late(event: int) -> str:
        return f"late {event}"

    def first(event: int) -> str:
        return f"first {event}"

    def second(event: int) -> str:
        return f"second {event}"

    point.register(late, order=20)
    point.register(first, order=10)
    point.register(second, order=10)

    assert point.run(7) == ["first 7", "second 7", "late 7"]
    assert point.functions == [first, second, late]


def test_a_function_registered_twice_runs_once() -> None:
    point: HookPoint[list[str], None] = HookPoint("test")

    def note(seen: list[str]) -> None:
        seen.append("noted")

    point.register(note, order=10)
    point.register(note, order=10)
    seen: list[str] = []
    point.run(seen)

    assert seen == ["noted"]


def test_nothing_registered_runs_nothing() -> None:
    assert HookPoint[int, int]("empty").run(1) == []
