"""The local store lists and sweeps unfinished files, and measures the disk it lives on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from blobstore import LocalBlobStore


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "store")


def _abandoned_partial(store: LocalBlobStore, *, age_seconds: float) -> str:
    """A partial file as a killed process leaves it: its writer never finished nor cleaned up."""
    name = store.new_name()
    partial = store.root / name[:2] / f"{name}.partial"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"ciphertext")
    past = time.time() - age_seconds
    os.utime(partial, (past, past))
    return name


def test_finished_names_leave_out_partial_files_unless_asked(store: LocalBlobStore) -> None:
    with store.writer(finished := store.new_name()) as handle:
        handle.write(b"ciphertext")
    unfinished = _abandoned_partial(store, age_seconds=0)
    assert list(store.names()) == [finished]
    assert sorted(store.names(include_partial=True)) == sorted([finished, f"{unfinished}.partial"])
    assert list(store.partial_names()) == [f"{unfinished}.partial"]


def test_stale_partials_are_removed_and_fresh_ones_kept(store: LocalBlobStore) -> None:
    stale = _abandoned_partial(store, age_seconds=3600)
    fresh = _abandoned_partial(store, age_seconds=5)
    with store.writer(finished := store.new_name()) as handle:
        handle.write(b"ciphertext")
    os.utime(store.root / finished[:2] / finished, (0, 0))  # an old finished blob is never swept

    assert store.remove_stale_partials(older_than_seconds=300) == 1
    assert list(store.partial_names()) == [f"{fresh}.partial"]
    assert f"{stale}.partial" not in set(store.names(include_partial=True))
    assert list(store.names()) == [finished]


def test_a_store_not_yet_created_measures_its_nearest_existing_parent(store: LocalBlobStore) -> None:
    assert not store.root.exists()
    assert store.free_bytes() > 0
    assert abs(store.free_bytes() - LocalBlobStore(store.root.parent).free_bytes()) < 64 * 1024 * 1024


def _finished_blob(store: LocalBlobStore, *, age_seconds: float) -> str:
    with store.writer(name := store.new_name()) as handle:
        handle.write(b"ciphertext")
    past = time.time() - age_seconds
    os.utime(store.root / name[:2] / name, (past, past))
    return name


def test_old_finished_blobs_no_record_names_are_removed_and_the_rest_kept(store: LocalBlobStore) -> None:
    named = [_finished_blob(store, age_seconds=3600) for _ in range(3)]
    orphans = [_finished_blob(store, age_seconds=3600) for _ in range(3)]
    fresh_orphan = _finished_blob(store, age_seconds=5)  # its request may still be running
    stray = store.root / "ab" / "not-a-blob"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"something else")
    os.utime(stray, (0, 0))
    asked: list[list[str]] = []

    def referenced(names: list[str]) -> set[str]:
        asked.append(names)
        return set(names) & set(named)

    assert store.remove_unreferenced(300, referenced, batch=2) == len(orphans)
    assert sorted(store.names()) == sorted([*named, fresh_orphan, stray.name]), "a file not named like a blob stays"
    assert all(len(names) <= 2 for names in asked)
    assert fresh_orphan not in {name for names in asked for name in names}, "a fresh blob is not even looked up"
