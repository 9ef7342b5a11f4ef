"""Restoring a backup into an empty var directory and an empty database, then checking it.

Order: refuse a non-empty target; decrypt and check the whole file in a staging directory
(backups/unpack.py); check the target again; load the database, move the files and write the
secrets; then check the result: migrations, the audit chain (audit.chain.verify_chain with
the restored pepper), the row count of every table and every blob with its size.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

from audit.chain import verify_chain
from audit.models import Action
from audit.services import audit_record
from backups.snapshot import (
    BOOKKEEPING_TABLES,
    POSTGRES_MEMBER,
    applied_migrations,
    audit_head,
    pg_command,
    run_pg,
    table_counts,
)
from backups.unpack import RestoreRefused, identities_read, unpack

DEV_SECRET_FILES = {"secret_key": "django_secret_key", "pepper": "pepper"}


class RestoreCheckFailed(Exception):
    """The data was restored but does not match the manifest."""


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    secrets_dir: Path
    tables: int
    rows: int
    blobs: int
    audit_entries: int


def target_problems() -> list[str]:
    """Why the configured database and file store are not an empty target ([] when they are)."""
    problems = []
    store = Path(settings.SP_FILE_STORE)
    if store.exists() and any(path.is_file() for path in store.rglob("*")):
        problems.append(f"the file store {store} is not empty")
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in BOOKKEEPING_TABLES]
        full = [table for table, count in table_counts(cursor, tables).items() if count]
    if full:
        shown = ", ".join(full[:5]) + (" and others" if len(full) > 5 else "")
        problems.append(f"the database holds rows ({shown})")
    return problems


def _refuse_unless_empty() -> None:
    problems = target_problems()
    if problems:
        raise RestoreRefused(
            "The target is not empty: " + "; ".join(problems) + ". A restore goes only into an empty "
            "database and an empty file store. Nothing was written."
        )


def secrets_destination(secrets_dir: Path | None) -> Path:
    if secrets_dir is not None:
        return Path(secrets_dir)
    if settings.PRODUCTION:
        raise RestoreRefused(
            "In production the instance secrets come from the environment: name a directory for them "
            "with --secrets-dir (then point SP_SECRET_KEY_FILE and SP_PEPPER_FILE at its files). Nothing was written."
        )
    return Path(settings.VAR_DIR) / "secrets"


def _database_load(staging: Path, manifest: dict[str, Any]) -> None:
    dump = staging / manifest["database"]["member"]
    connections.close_all()
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(dump)) as source, closing(sqlite3.connect(connection.settings_dict["NAME"])) as db:
            source.backup(db)
        return
    if manifest["database"]["member"] != POSTGRES_MEMBER:
        raise RestoreRefused("the backup's database dump is not a PostgreSQL one")
    command, env = pg_command("pg_restore", connection.settings_dict)
    command += ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    run_pg([*command, "--dbname", str(connection.settings_dict["NAME"]), str(dump)], env)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _files_place(staging: Path, manifest: dict[str, Any], secrets_dir: Path) -> None:
    store = Path(settings.SP_FILE_STORE)
    for blob in (staging / "files").glob("*/*"):
        (store / blob.parent.name).mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(blob, store / blob.parent.name / blob.name)
    for name, file_name in DEV_SECRET_FILES.items():
        _write_private(secrets_dir / file_name, (staging / "secrets" / name).read_bytes())
    for onion in manifest["onion"]:
        for relative in onion["files"]:
            source = staging / "onion" / str(onion["index"]) / relative
            _write_private(secrets_dir / "onion" / str(onion["index"]) / relative, source.read_bytes())


@contextmanager
def instance_secrets(secrets_dir: Path) -> Iterator[None]:
    """This process works with the restored secret key and pepper while inside."""
    saved = settings.SECRET_KEY, settings.SP_PEPPER
    settings.SECRET_KEY = (secrets_dir / DEV_SECRET_FILES["secret_key"]).read_text(encoding="utf-8").strip()
    settings.SP_PEPPER = bytes.fromhex((secrets_dir / DEV_SECRET_FILES["pepper"]).read_text(encoding="utf-8"))
    try:
        yield
    finally:
        settings.SECRET_KEY, settings.SP_PEPPER = saved


def restored_check(manifest: dict[str, Any]) -> tuple[int, int]:
    """Compare the restored database and file store with the manifest; returns (rows, audit
    entries checked). Raises RestoreCheckFailed naming the first difference."""
    with connection.cursor() as cursor:
        if applied_migrations(cursor) != manifest["migrations"]:
            raise RestoreCheckFailed("the applied migrations differ from the backup's")
        counts = table_counts(cursor, connection.introspection.table_names(cursor))
        head = audit_head(cursor) if manifest["audit_head"] is not None else None
    if counts != manifest["tables"]:
        differing = sorted(set(counts.items()) ^ set(manifest["tables"].items()))
        raise RestoreCheckFailed(f"row counts differ from the backup's in {differing[0][0]}")
    if head != manifest["audit_head"]:
        raise RestoreCheckFailed("the audit head differs from the backup's")
    verdict = verify_chain()
    if not verdict.intact:
        raise RestoreCheckFailed(f"audit chain broken at sequence {verdict.first_bad}: {verdict.reason}")
    store = Path(settings.SP_FILE_STORE)
    for name, size in manifest["blobs"].items():
        path = store / name[:2] / name
        if not path.is_file() or path.stat().st_size != size:
            raise RestoreCheckFailed(f"the file {name} is missing or has the wrong size")
    return sum(counts.values()), verdict.checked


def restore(archive: Path, identity_file: Path, *, secrets_dir: Path | None = None) -> Restored:
    """Restore ``archive`` (see the module's docstring). RestoreRefused: nothing was written."""
    destination = secrets_destination(secrets_dir)
    identities = identities_read(identity_file)
    _refuse_unless_empty()
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.VAR_DIR))  # mode 0700
    try:
        manifest = unpack(archive, identities, staging)
        if manifest["vendor"] != connection.vendor:
            raise RestoreRefused(
                f"this backup holds a {manifest['vendor']} database and this server uses {connection.vendor}"
            )
        _refuse_unless_empty()
        _database_load(staging, manifest)
        _files_place(staging, manifest, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with instance_secrets(destination):
        rows, entries = restored_check(manifest)
        with transaction.atomic():
            details = {"tables": len(manifest["tables"]), "files": len(manifest["blobs"])}
            audit_record(actor=None, action=Action.BACKUP_RESTORED, details=details)
    return Restored(manifest, destination, len(manifest["tables"]), rows, len(manifest["blobs"]), entries)
