"""The services' refusals are read in English here (the console's default language is Russian;
tests/test_console_language.py checks the Russian)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
