"""The controllable clock for this app's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from evacuation.checkins.tests.helpers import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Patches ``django.utils.timezone.now``, which the worker, the services and the sweep read."""
    fake = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", fake)
    yield fake
