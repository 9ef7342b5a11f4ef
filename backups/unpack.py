"""Opening a backup into a private staging directory, and checking it against its manifest.

age authenticates every 64 KiB chunk and marks the last one, so a changed byte or a cut file
fails decryption. pyrage.decrypt_io hands out what it has authenticated so far as it goes;
everything lands in a staging directory (mode 0700, inside the target's var directory) and
nothing is moved into place until the whole file has decrypted and matched its manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

import pyrage

from backups.archive import FORMAT, MANIFEST, VERSION
from backups.snapshot import POSTGRES_MEMBER, SQLITE_MEMBER

_BLOCK = 512
_NAME = re.compile(
    r"^(manifest\.json|database/(sqlite3|pg_dump)|secrets/(secret_key|pepper)"
    r"|files/[0-9a-f]{2}/[0-9a-f]{32}|onion/[0-9]{1,3}(/[A-Za-z0-9_][A-Za-z0-9._-]{0,63}){1,4})$"
)
DAMAGED = (
    "The backup file does not open: it was cut short, changed, or made for another key. "
    "Nothing was restored and nothing was written."
)


class RestoreRefused(Exception):
    """The restore stopped before writing anything; the message says why."""


class _TarSink(io.RawIOBase):
    """A writable file that unpacks a tar stream into ``root`` as it arrives (what
    pyrage.decrypt_io writes to). Only regular files with the names a backup has."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.error: Exception | None = None
        self._header = bytearray()
        self._current: BinaryIO | None = None
        self._left = 0
        self._pad = 0
        self._zero_blocks = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            return self._write(memoryview(data).cast("B"))
        except Exception as exc:
            self.error = self.error or exc
            raise

    def _write(self, view: memoryview) -> int:
        count = len(view)
        while view:
            if self._left:
                take = min(self._left, len(view))
                if self._current is not None:  # None only for a member of size 0, never here
                    self._current.write(view[:take])
                self._left -= take
                view = view[take:]
                if not self._left:
                    self._close_member()
            elif self._pad:
                take = min(self._pad, len(view))
                self._pad -= take
                view = view[take:]
            else:
                take = _BLOCK - len(self._header)
                self._header += view[:take]
                view = view[take:]
                if len(self._header) == _BLOCK:
                    self._begin(bytes(self._header))
                    self._header.clear()
        return count

    def _begin(self, block: bytes) -> None:
        if block == b"\0" * _BLOCK:
            self._zero_blocks += 1
            return
        if self._zero_blocks:
            raise RestoreRefused("the backup holds data after its end")
        info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
        if info.type != tarfile.REGTYPE or not _NAME.match(info.name) or ".." in info.name.split("/"):
            raise RestoreRefused("the backup holds a member no backup has")
        path = self.root / info.name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._current = path.open("xb")
        self._left, self._pad = info.size, -info.size % _BLOCK
        if not self._left:
            self._close_member()

    def _close_member(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None

    def finish(self) -> None:
        self._close_member()
        if self._left or self._pad or self._header or self._zero_blocks < 2:
            raise RestoreRefused("the backup ends in the middle")


def identities_read(path: Path) -> list[pyrage.x25519.Identity]:
    """The age identities in an age-keygen key file (comment lines start with #)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RestoreRefused(f"the identity file cannot be read: {exc.strerror}") from None
    identities = []
    for line in (line.strip() for line in lines):
        if line and not line.startswith("#"):
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise RestoreRefused("the identity file holds a line that is not an age identity") from None
    if not identities:
        raise RestoreRefused("the identity file holds no age identity (AGE-SECRET-KEY-1...)")
    return identities


def unpack(archive: Path, identities: list[pyrage.x25519.Identity], staging: Path) -> dict[str, Any]:
    """Decrypt ``archive`` into ``staging`` and check it; returns the manifest."""
    sink = _TarSink(staging)
    try:
        with Path(archive).open("rb") as source:
            pyrage.decrypt_io(source, sink, identities)
        sink.finish()
    except RestoreRefused:
        raise
    except (pyrage.DecryptError, OSError, ValueError, tarfile.TarError):
        if isinstance(sink.error, RestoreRefused):
            raise sink.error from None
        raise RestoreRefused(DAMAGED) from None
    manifest = _manifest_read(staging)
    validate(staging, manifest)
    return manifest


def _manifest_read(staging: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RestoreRefused("the backup has no readable manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreRefused("this file is not a Safe Passage backup")
    if manifest.get("version") != VERSION:
        raise RestoreRefused(f"this backup has format version {manifest.get('version')}; this server reads {VERSION}")
    return manifest


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return digest.hexdigest()


def validate(staging: Path, manifest: dict[str, Any]) -> None:
    """The staged files are exactly what the manifest lists, with their sizes."""
    database = manifest["database"]
    if database["member"] not in {SQLITE_MEMBER, POSTGRES_MEMBER}:
        raise RestoreRefused("the manifest names no database dump")
    dump = staging / database["member"]
    if not dump.is_file() or dump.stat().st_size != database["size"] or _file_sha256(dump) != database["sha256"]:
        raise RestoreRefused("the database dump does not match the manifest")
    for name in manifest["secrets"]:
        if not (staging / "secrets" / name).is_file():
            raise RestoreRefused(f"the backup lacks the secret {name}")
    staged = {path.name: path.stat().st_size for path in (staging / "files").glob("*/*")}
    if staged != manifest["blobs"]:
        missing = len(set(manifest["blobs"]) - set(staged))
        raise RestoreRefused(f"the file store in the backup does not match its manifest ({missing} files missing)")
