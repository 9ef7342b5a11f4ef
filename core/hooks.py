"""Hook points: how a lower app lets the apps above it act on its events without importing them.

The app where an event happens declares a HookPoint for it (casework/hooks.py for cases,
accounts/teams.py for teams). An app above registers a function for it from its
AppConfig.ready(); the lower app runs the point where the event happens, inside the caller's
transaction. Functions run in ascending ``order``, then in the order they were registered, and
``run`` returns their results in that order. Nothing is looked up by name: a function is passed
in, and its type is checked like any other call's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Event = TypeVar("Event")
Result = TypeVar("Result")


@dataclass(frozen=True)
class _Registered(Generic[Event, Result]):
    order: int
    position: int
    function: Callable[[Event], Result]


class HookPoint(Generic[Event, Result]):
    """One kind of event, and the functions registered to run when it happens."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[_Registered[Event, Result]] = []

    def register(self, function: Callable[[Event], Result], *, order: int) -> None:
        """Run ``function`` whenever the event happens (once, however often this is called)."""
        if any(entry.function == function for entry in self._registered):
            return
        self._registered.append(_Registered(order, len(self._registered), function))
        self._registered.sort(key=lambda entry: (entry.order, entry.position))

    def run(self, event: Event) -> list[Result]:
        return [entry.function(event) for entry in self._registered]

    @property
    def functions(self) -> list[Callable[[Event], Result]]:
        """What runs, in the order it runs (for tests and for reading)."""
        return [entry.function for entry in self._registered]

    def __repr__(self) -> str:
        return f"<HookPoint {self.name}: {len(self._registered)} registered>"
