"""Searching what a seized server gives up (database, file store, logs, sessions) for secrets
in every encoding they could plausibly be stored in. Shared by the canary, no-address-logging
and keys-at-rest tests."""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection

# ---------------------------------------------------------------------------------------------
# Searching raw bytes for a secret in every encoding it could plausibly be stored in
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    label: str  # which input the secret came from, for the failure message
    form: str  # how it is encoded
    data: bytes


def _base64_pieces(raw: bytes) -> Iterator[tuple[str, bytes]]:
    """The parts of a base64 text that depend only on ``raw``, wherever ``raw`` starts.

    A secret starting at byte offset k (mod 3) of the encoded data shares its first 6-bit
    groups with the bytes before it; those characters are dropped, as is the last partial group.
    """
    for offset in range(3):
        usable = len(raw) - (len(raw) + offset) % 3
        encoded = base64.b64encode(b"\0" * offset + raw[:usable])
        piece = encoded[math.ceil(8 * offset / 6) :]
        # Say so when the piece covers only a prefix: two secrets sharing it both match.
        form = f"base64@{offset}" + (f" (first {usable} bytes)" if usable < len(raw) else "")
        yield form, piece
        urlsafe = piece.replace(b"+", b"-").replace(b"/", b"_")
        if urlsafe != piece:
            yield f"urlsafe-{form}", urlsafe


def needles_for(label: str, text: str) -> list[Needle]:
    raw = text.encode()
    forms: dict[str, bytes] = {
        "utf-8": raw,
        "utf-16-le": text.encode("utf-16-le"),
        "hex": raw.hex().encode(),
    }
    if not text.isascii():
        escaped = json.dumps(text)[1:-1].encode()
        forms["json-escaped"] = escaped
        forms["json-escaped-upper"] = re.sub(rb"\\u([0-9a-f]{4})", lambda m: b"\\u" + m.group(1).upper(), escaped)
    forms.update(_base64_pieces(raw))
    return [Needle(label, form, data) for form, data in forms.items()]


def needles_for_key(label: str, key: bytes) -> list[Needle]:
    """A binary secret (a key): raw, hex in either case, and base64 at every alignment."""
    forms = {"raw": key, "hex": key.hex().encode(), "HEX": key.hex().upper().encode()}
    forms.update(_base64_pieces(key))
    return [Needle(label, form, data) for form, data in forms.items()]


def find_needles(haystack: bytes, needles: Iterable[Needle]) -> list[Needle]:
    return [needle for needle in needles if needle.data in haystack]


@dataclass(frozen=True)
class Finding:
    needle: Needle
    place: str

    def __str__(self) -> str:
        return f"{self.needle.label!r} found as {self.needle.form} in {self.place}"


def search_places(places: Iterable[tuple[str, bytes]], needles: list[Needle]) -> list[Finding]:
    return [Finding(needle, place) for place, haystack in places for needle in find_needles(haystack, needles)]


# ---------------------------------------------------------------------------------------------
# The places a seized server gives up
# ---------------------------------------------------------------------------------------------


def database_places() -> list[tuple[str, bytes]]:
    """The raw store of the engine in use: SQLite's files as they are, or a pg_dump."""
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        assert database.is_file(), f"the test database is not a file: {database}"
        paths = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        return [(f"SQLite file {path.name}", path.read_bytes()) for path in paths if path.exists()]
    assert connection.vendor == "postgresql", connection.vendor
    return [("pg_dump of the test database", pg_dump())]


def pg_dump() -> bytes:
    conf = connection.settings_dict
    command = ["pg_dump", "--no-password", "-h", conf["HOST"] or "127.0.0.1", "-U", conf["USER"] or "postgres"]
    if conf["PORT"]:
        command += ["-p", str(conf["PORT"])]
    env = {**os.environ, **({"PGPASSWORD": conf["PASSWORD"]} if conf["PASSWORD"] else {})}
    result = subprocess.run([*command, conf["NAME"]], capture_output=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def backup_places(archive: Path, identity: object) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """A backup file (backups/archive.py) as written, and what it holds once decrypted with the
    offline identity: each member, the PostgreSQL dump turned back into plain SQL text (the
    custom format compresses table data)."""
    import io
    import tarfile
    import tempfile

    import pyrage

    raw = archive.read_bytes()
    members = []
    with tarfile.open(fileobj=io.BytesIO(pyrage.decrypt(raw, [identity])), mode="r:") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None, member.name
            data = handle.read()
            if member.name == "database/pg_dump":
                with tempfile.NamedTemporaryFile() as dump:
                    dump.write(data)
                    dump.flush()
                    result = subprocess.run(["pg_restore", "--file=-", dump.name], capture_output=True, check=True)
                data = result.stdout
            members.append((f"backup member {member.name}", data))
            members.append((f"backup member name {member.name}", member.name.encode()))
    return [(f"backup file {archive.name}", raw)], members


def file_places(root: Path, *, skip: Iterable[Path] = ()) -> list[tuple[str, bytes]]:
    """Every file's contents, and its path (a file name is data too)."""
    skipped = {path.resolve() for path in skip}
    places = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.resolve() not in skipped:
            places.append((f"file {path}", path.read_bytes()))
            places.append((f"file name {path}", str(path.relative_to(root)).encode()))
    return places


def session_places() -> list[tuple[str, bytes]]:
    """Session rows decoded as the session engine reads them (they may be compressed)."""
    store = SessionStore()
    places = []
    for row in Session.objects.all():
        decoded = store.decode(row.session_data)
        places.append((f"decoded session {row.session_key[:6]}…", repr(decoded).encode()))
        places.append((f"decoded session {row.session_key[:6]}… as JSON", json.dumps(decoded).encode()))
    return places


def log_record_places(records: Iterable[logging.LogRecord]) -> list[tuple[str, bytes]]:
    """Each record's message and every attribute, since another formatter may print any of them."""
    places = []
    for record in records:
        where = f"log record {record.name}:{record.levelname}"
        attributes = {key: value for key, value in vars(record).items() if key not in {"msg", "args"}}
        places.append((where, f"{record.getMessage()}\n{record.msg!r}\n{record.args!r}\n{attributes!r}".encode()))
    return places


class LogFile:
    """The part of settings.SP_LOG_FILE written since the test began (canaries are new)."""

    def __init__(self) -> None:
        assert settings.SP_LOG_FILE, "the test settings must log to a file"
        self.path = Path(settings.SP_LOG_FILE)
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def places(self) -> list[tuple[str, bytes]]:
        for handler in logging.getLogger().handlers:
            handler.flush()
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            return [(f"log file {self.path.name}", handle.read())]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG for every logger, including those that do not propagate to the root,
    and SQL statements with their parameters logged too."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    isolated = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in isolated:
        logger.addHandler(caplog.handler)
    debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield caplog
    finally:
        connection.force_debug_cursor = debug_cursor
        for logger in isolated:
            logger.removeHandler(caplog.handler)
