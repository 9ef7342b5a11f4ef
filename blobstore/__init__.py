"""Storage for encrypted files. Plain Python: no Django import.

It only ever holds ciphertext (sealbox streams). Local directories by default; an
S3-compatible store can implement the same operations.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Protocol

PARTIAL_SUFFIX = ".partial"


class BlobSink(Protocol):
    """What ``LocalBlobStore.writer`` hands out: write the blob's bytes into it."""

    def write(self, data: bytes, /) -> int: ...


class _EarlyWriteback:
    """A file that asks the kernel to start writing its data to disk every few MiB.

    The final fsync then has little left to wait for, so disk writes overlap with receiving
    and encrypting the rest of an upload; the written pages also leave the page cache."""

    STEP = 8 * 1024 * 1024

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._written = 0
        self._flushed_to = 0

    def write(self, data: bytes) -> int:
        count = self._handle.write(data)
        self._written += count
        if self._written - self._flushed_to >= self.STEP and hasattr(os, "posix_fadvise"):
            self._handle.flush()
            os.posix_fadvise(
                self._handle.fileno(), self._flushed_to, self._written - self._flushed_to, os.POSIX_FADV_DONTNEED
            )
            self._flushed_to = self._written
        return count

    def fileno(self) -> int:
        return self._handle.fileno()


class BlobNotFound(Exception):
    pass


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def new_name() -> str:
        return secrets.token_hex(16)

    def _path(self, name: str) -> Path:
        if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("not a blob name")
        return self.root / name[:2] / name

    @contextmanager
    def writer(self, name: str) -> Iterator[BlobSink]:
        """Write a blob; it appears under its name only once fully written and synced."""
        final = self._path(name)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = final.with_suffix(PARTIAL_SUFFIX)
        handle = partial.open("xb")
        try:
            yield _EarlyWriteback(handle)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(partial, final)
        except BaseException:
            handle.close()
            partial.unlink(missing_ok=True)
            raise

    def open(self, name: str) -> BinaryIO:
        try:
            return self._path(name).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)
        self._path(name).with_suffix(PARTIAL_SUFFIX).unlink(missing_ok=True)

    def names(self, *, include_partial: bool = False) -> Iterator[str]:
        """Finished blobs by name; with include_partial, also the file names of blobs still
        being written (or orphaned by a killed process), suffix included."""
        for path in self.root.glob("*/*"):
            if not path.suffix:
                yield path.name
            elif include_partial and path.suffix == PARTIAL_SUFFIX:
                yield path.name

    def partial_names(self) -> Iterator[str]:
        return (path.name for path in self.root.glob(f"*/*{PARTIAL_SUFFIX}"))

    def remove_stale_partials(self, older_than_seconds: float) -> int:
        """Delete partial blobs untouched for longer than any request may take to write one.

        A writer removes its partial file on every error it sees, but a process that is killed
        (a worker timeout, a crash, a power cut) leaves it behind: ciphertext of a file nobody
        recorded, with no key anywhere, filling the disk. Returns how many were removed."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob(f"*/*{PARTIAL_SUFFIX}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # finished or removed meanwhile by its own writer
                continue
        return removed

    def remove_unreferenced(
        self, older_than_seconds: float, referenced: Callable[[list[str]], Collection[str]], *, batch: int = 500
    ) -> int:
        """Delete finished blobs untouched for longer than any request may take that no record
        names. ``referenced`` is asked about the old names a batch at a time and answers with
        those a record names.

        A process killed after a file was written but before the record naming it was committed
        leaves a finished blob behind whose key died with the request: ciphertext nobody can
        read, filling the disk. A blob younger than the cutoff is never touched, whatever the
        records say: its request may still be running. Returns how many were removed."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        old = self._finished_older_than(cutoff)
        while names := list(islice(old, batch)):
            keep = set(referenced(names))
            for name in names:
                if name not in keep:
                    self._path(name).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _finished_older_than(self, cutoff: float) -> Iterator[str]:
        for path in self.root.glob("*/*"):
            if path.suffix or path.parent.name != path.name[:2]:
                continue
            try:
                self._path(path.name)
                if path.stat().st_mtime < cutoff:
                    yield path.name
            except (ValueError, FileNotFoundError):  # not a blob's name, or removed meanwhile
                continue

    def free_bytes(self) -> int:
        """Free space on the file system that holds the store. The root may not exist yet (it
        is made by the first write), so the nearest existing parent is measured."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        return shutil.disk_usage(path).free
