"""A consistent snapshot of the whole database, and what the manifest says about it.

Generic: tables come from the database's own catalogue, never from a feature app's models.
SQLite: the online backup API copies the live file page by page into a private file (a copy
that another connection changes meanwhile is started again by SQLite itself). PostgreSQL: one
REPEATABLE READ transaction exports its snapshot, ``pg_dump --snapshot`` dumps exactly that
snapshot, and the row counts, migrations and audit head are read in the same transaction.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections

SQLITE_MEMBER = "database/sqlite3"
POSTGRES_MEMBER = "database/pg_dump"
# Rows Django itself writes into a freshly migrated database: a target holding only these is empty.
BOOKKEEPING_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})


class SnapshotFailed(RuntimeError):
    pass


class _Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


@dataclass
class Snapshot:
    path: Path  # the dump: an SQLite database file, or a pg_dump archive in its custom format
    member: str
    vendor: str
    migrations: list[list[str]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    audit_head: dict[str, Any] | None = None


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_counts(cursor: _Cursor, tables: Sequence[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608  (a catalogue name, quoted)
        counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations(cursor: _Cursor) -> list[list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[str(app), str(name)] for app, name in cursor.fetchall()]


def audit_head(cursor: _Cursor) -> dict[str, Any] | None:
    table = apps.get_model("audit", "AuditHead")._meta.db_table
    cursor.execute(f"SELECT sequence, entry_hash FROM {quote(table)} ORDER BY slot")  # noqa: S608
    row = cursor.fetchone()
    return None if row is None else {"sequence": int(row[0]), "entry_hash": str(row[1])}


def _describe(snapshot: Snapshot, cursor: _Cursor, tables: Sequence[str]) -> Snapshot:
    snapshot.tables = table_counts(cursor, tables)
    snapshot.migrations = applied_migrations(cursor) if "django_migrations" in tables else []
    head_table = apps.get_model("audit", "AuditHead")._meta.db_table
    snapshot.audit_head = audit_head(cursor) if head_table in tables else None
    return snapshot


def sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [str(name) for (name,) in rows.fetchall()]


def _sqlite_snapshot(workdir: Path) -> Snapshot:
    target = workdir / "database.sqlite3"
    source_path = str(connection.settings_dict["NAME"])
    with closing(sqlite3.connect(source_path, timeout=60)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        snapshot = Snapshot(path=target, member=SQLITE_MEMBER, vendor="sqlite")
        return _describe(snapshot, copy.cursor(), sqlite_tables(copy))


def pg_command(program: str, settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The client program with the connection of ``settings_dict``, and its environment (the
    password goes through PGPASSWORD, never the command line)."""
    command = [program]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            command += [option, str(settings_dict[key])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return command, env


def run_pg(command: list[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client; its error output is not repeated (it can quote row data)."""
    result = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SnapshotFailed(f"{Path(command[0]).name} failed with exit status {result.returncode}")


def _postgres_snapshot(workdir: Path) -> Snapshot:
    dump = workdir / "database.pg_dump"
    db = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        db.set_autocommit(False)
        with db.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            exported = str(cursor.fetchone()[0])
            command, env = pg_command("pg_dump", db.settings_dict)
            command += ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={exported}"]
            run_pg([*command, "--file", str(dump), "--dbname", str(db.settings_dict["NAME"])], env)
            snapshot = Snapshot(path=dump, member=POSTGRES_MEMBER, vendor="postgresql")
            _describe(snapshot, cursor, db.introspection.table_names(cursor))
        db.rollback()
    finally:
        db.close()
    return snapshot


@contextmanager
def database_snapshot(workdir: Path) -> Iterator[Snapshot]:
    """The snapshot's dump lives in ``workdir`` (a private directory the caller removes)."""
    if connection.vendor == "sqlite":
        yield _sqlite_snapshot(workdir)
    elif connection.vendor == "postgresql":
        yield _postgres_snapshot(workdir)
    else:
        raise SnapshotFailed(f"backups know SQLite and PostgreSQL, not {connection.vendor}")
