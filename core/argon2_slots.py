"""A bound on concurrent Argon2id derivations in one server process.

Each derivation holds 64 MiB and keeps a core busy for a fifth of a second. Threaded workers
could otherwise run many at once: memory grows with every waiting login, and derivations
sharing a core and its memory bandwidth all finish later. Queueing them instead keeps each as
fast as the hardware allows and the process's memory bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings


@cache
def _slots(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)


@contextmanager
def argon2_slot() -> Iterator[None]:
    slots = _slots(settings.SP_ARGON2_PER_PROCESS)
    with slots:
        yield
