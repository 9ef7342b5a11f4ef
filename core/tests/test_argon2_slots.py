"""Concurrent Argon2id derivations in one process are bounded (memory and core contention)."""

from __future__ import annotations

import threading
import time

import pytest
from django.test import override_settings

import sealbox
from casework import services


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_derivations_run_at_once_than_the_process_allows(monkeypatch: pytest.MonkeyPatch, slots: int) -> None:
    running, peak, lock = 0, 0, threading.Lock()
    real = sealbox.derive_codename_secrets

    def observed(normalised: str, **kwargs: object) -> sealbox.CodenameSecrets:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)  # long enough for the other threads to arrive
        try:
            return real(normalised, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(sealbox, "derive_codename_secrets", observed)
    with override_settings(SP_ARGON2_PER_PROCESS=slots):
        threads = [threading.Thread(target=services.derive_secrets, args=(f"words {i}",)) for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert peak == slots
