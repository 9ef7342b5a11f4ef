"""Writing a backup: one tar stream, encrypted to the offline age recipient as it is made.

The stream is produced member by member (the database dump, the instance secrets, the onion
service keys, every blob of the file store, the manifest last) in pieces of at most 1 MiB and
handed to age (pyrage.encrypt_io), which encrypts in 64 KiB chunks as it reads: no blob and
no dump is ever held in memory whole (docs/crypto.md "Backups" gives the measurement). The
tar is the ordinary format, so ``age -d -i key.txt FILE | tar -x`` opens it too.

The file is written under a temporary name (``.partial``), synced, then renamed: a backup file
under its final name is always whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyrage
from django.conf import settings
from django.utils import timezone

from backups.snapshot import Snapshot, database_snapshot

FORMAT = "safepassage-backup"
VERSION = 1
MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".partial"
_PIECE = 1024 * 1024
_BLOCK = 512
NO_RECIPIENT = (
    "No backup recipient is set (SP_BACKUP_RECIPIENT), so nothing was written. On a machine away from "
    "this server, run `age-keygen -o backup-key.txt`, keep that file offline, and set "
    "SP_BACKUP_RECIPIENT to the public key it prints (age1...)."
)


class BackupRefused(Exception):
    """Nothing was written; the message says why, in plain words, without any data."""


def recipient_parse(text: str) -> pyrage.x25519.Recipient:
    if not text:
        raise BackupRefused(NO_RECIPIENT)
    try:
        return pyrage.x25519.Recipient.from_str(text)
    except pyrage.RecipientError:
        raise BackupRefused("SP_BACKUP_RECIPIENT is not an age public key (age1...): nothing was written") from None


def _header(name: str, size: int) -> bytes:
    if len(name.encode()) >= 100:
        raise ValueError("member names stay below 100 bytes (plain ustar headers)")
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, 0o600, 0, tarfile.REGTYPE
    return info.tobuf(format=tarfile.GNU_FORMAT, encoding="utf-8", errors="strict")


def _padding(size: int) -> bytes:
    return b"\0" * (-size % _BLOCK)


def _bytes_member(name: str, data: bytes) -> Iterator[bytes]:
    yield _header(name, len(data))
    yield data
    yield _padding(len(data))


def _file_member(name: str, path: Path, digest: Any = None) -> Iterator[bytes]:
    """The member's bytes read a piece at a time. Raises FileNotFoundError before its header
    when the file is gone (a blob deleted meanwhile)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        yield _header(name, size)
        left = size
        while left:
            piece = handle.read(min(_PIECE, left))
            if not piece:
                raise OSError(f"{name} became shorter while it was read")
            if digest is not None:
                digest.update(piece)
            left -= len(piece)
            yield piece
    yield _padding(size)


@dataclass
class _Stream:
    snapshot: Snapshot
    blobs: dict[str, int] = field(default_factory=dict)
    onion: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def members(self) -> Iterator[bytes]:
        digest = hashlib.sha256()
        yield from _file_member(self.snapshot.member, self.snapshot.path, digest)
        database = {"member": self.snapshot.member, "size": self.snapshot.path.stat().st_size}
        database["sha256"] = digest.hexdigest()
        yield from _bytes_member("secrets/secret_key", settings.SECRET_KEY.encode())
        yield from _bytes_member("secrets/pepper", settings.SP_PEPPER.hex().encode())
        yield from self._onion_members()
        yield from self._blob_members()
        self.manifest = self._manifest(database)
        yield from _bytes_member(MANIFEST, json.dumps(self.manifest, sort_keys=True, indent=1).encode())
        yield b"\0" * (2 * _BLOCK)

    def _onion_members(self) -> Iterator[bytes]:
        for index, directory in enumerate(settings.SP_ONION_KEY_DIRS):
            files = sorted(path for path in Path(directory).rglob("*") if path.is_file())
            names = [str(path.relative_to(directory)) for path in files]
            self.onion.append({"index": index, "directory": str(directory), "files": names})
            for path, relative in zip(files, names, strict=True):
                yield from _file_member(f"onion/{index}/{relative}", path)

    def _blob_members(self) -> Iterator[bytes]:
        # Finished blobs only (no suffix); a blob deleted between the listing and its reading
        # is left out, and the manifest lists exactly what the file holds.
        for path in _blob_paths(Path(settings.SP_FILE_STORE)):
            pieces = _file_member(f"files/{path.parent.name}/{path.name}", path)
            try:
                header = next(pieces)
            except FileNotFoundError:
                continue
            yield header
            yield from pieces
            self.blobs[path.name] = tarfile.TarInfo.frombuf(header, "utf-8", "strict").size

    def _manifest(self, database: dict[str, Any]) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "vendor": self.snapshot.vendor,
            "database": database,
            "migrations": self.snapshot.migrations,
            "tables": self.snapshot.tables,
            "audit_head": self.snapshot.audit_head,
            "blobs": self.blobs,
            "secrets": ["secret_key", "pepper"],
            "onion": self.onion,
        }


def _blob_paths(root: Path) -> Iterator[Path]:
    """The store's finished blobs, one folder listed at a time (a folder holds 1/256 of them)."""
    if not root.is_dir():
        return
    for folder in sorted(entry.path for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)):
        for name in sorted(entry.name for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False)):
            if "." not in name:
                yield Path(folder) / name


class _PullReader(io.RawIOBase):
    """A readable file over an iterator of byte strings (what pyrage.encrypt_io pulls from)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            try:
                self._left = memoryview(next(self._pieces))
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup_write(output: Path, *, recipient: str | None = None) -> dict[str, Any]:
    """Write one encrypted backup to ``output``; returns its manifest. Raises BackupRefused
    (nothing written) without a usable recipient; any other failure removes the partial file."""
    age_recipient = recipient_parse(settings.SP_BACKUP_RECIPIENT if recipient is None else recipient)
    output = Path(output).absolute()
    partial = output.with_name(output.name + PARTIAL_SUFFIX)
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    workdir = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.VAR_DIR))  # mode 0700
    try:
        with database_snapshot(workdir) as snapshot:
            stream = _Stream(snapshot)
            with partial.open("wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                pyrage.encrypt_io(io.BufferedReader(_PullReader(stream.members()), _PIECE), handle, [age_recipient])
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, output)
        _sync_directory(output.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return stream.manifest
