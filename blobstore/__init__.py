"""Storage for encrypted files. Plain Python: no Django import.

It only ever holds ciphertext (sealbox streams). Local directories by default; an
S3-compatible store can implement the same three operations.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


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
    def writer(self, name: str) -> Iterator[BinaryIO]:
        """Write a blob; it appears under its name only once fully written and synced."""
        final = self._path(name)
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = final.with_suffix(".partial")
        handle = partial.open("xb")
        try:
            yield handle
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
        self._path(name).with_suffix(".partial").unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        for path in self.root.glob("*/*"):
            if not path.suffix:
                yield path.name
