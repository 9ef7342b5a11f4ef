"""Benchmark 9: backup and restore of the casework world (PostgreSQL).

Fills the database ``bench_backup`` with bench/casework_data.py (the world of benchmark 5), writes
a file store with one blob per attachment row (random bytes, each the row's size divided by
SP_BENCH_BLOB_DIVISOR, default 10, so that the store fits the disk three times), then in one run:

- the baseline: ``pg_dump --format=custom`` of the database plus ``shutil.copytree`` of the store,
  measured before the backup and again after the restore; the ratios use the faster of the two;
- ``manage.py backup`` (encrypted to a fresh age recipient), its time and peak RSS (wait4 of the
  process: the largest of it and its children, pg_dump included);
- ``manage.py restore`` into a new empty database ``bench_backup_restore`` and an empty var
  directory, with every check it runs (migrations, audit chain, row counts, blob sizes);
- for reference, ``pg_restore`` of the baseline dump into another empty database plus a copy.

    SP_BENCH_CASES=100000 SP_BENCH_MESSAGES=1000000 python -m bench.backup_restore [--write]

Without --write it prints its section; with it, the section replaces its own in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.casework_scale import _admin, _server_version, postgres_available, size_from_env
from bench.stage import OUT, ROOT, production_env

PG_DATABASE = "bench_backup"
RESTORE_DATABASE = "bench_backup_restore"
REFERENCE_DATABASE = "bench_backup_pg_restore"
TITLE = "## 9. Backup and restore (PostgreSQL)"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
MIB = 1024 * 1024


@dataclass
class Timed:
    seconds: float
    max_rss_kib: int


@dataclass
class BackupResult:
    cases: int
    messages: int
    server: str
    rows: int
    blobs: int
    store_bytes: int
    divisor: int
    database_bytes: int
    backup_bytes: int
    pg_dump: Timed
    copy_seconds: float
    pg_dump_after: float  # the baseline again, after the restore (warm caches)
    copy_after: float
    load: str  # load averages at the start and at the end
    backup: Timed
    restore: Timed
    pg_restore_seconds: float
    restore_output: str


def _run_rss(command: list[str], env: dict[str, str]) -> tuple[Timed, str]:
    """Run and time ``command``, with its own peak RSS (wait4: it and its waited-for children).
    Its output goes to files, so neither pipe can fill while the other is read."""
    began = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        sys.stderr.write(output + errors)
        raise RuntimeError(f"`{' '.join(command[1:4])}` failed with exit code {process.returncode}")
    return Timed(seconds, usage.ru_maxrss), output


def _fill_store(store: Path, host: str, user: str, divisor: int) -> tuple[int, int]:
    """One blob per attachment row, of the row's size / divisor; returns (blobs, bytes)."""
    import psycopg

    count = total = 0
    with psycopg.connect(host=host, user=user, dbname=PG_DATABASE) as conn:
        rows = conn.execute("SELECT blob_name, size FROM casework_attachment ORDER BY blob_name").fetchall()
    for name, size in rows:
        folder = store / name[:2]
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        left = max(int(size) // divisor, 1)
        with (folder / name).open("wb") as handle:
            while left:
                piece = os.urandom(min(left, MIB))
                handle.write(piece)
                left -= len(piece)
        count, total = count + 1, total + max(int(size) // divisor, 1)
    return count, total


def _key(directory: Path) -> tuple[str, Path]:
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    path = directory / "backup-key.txt"
    path.write_text(f"{identity}\n", encoding="utf-8")
    return str(identity.to_public()), path


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _pg(program: str, host: str, user: str) -> list[str]:
    return [program, "--host", host, "--username", user]


def _baseline(work: Path, store: Path, host: str, user: str) -> tuple[Timed, float, Path]:
    dump = work / "baseline.pg_dump"
    timed, _ = _run_rss(
        [*_pg("pg_dump", host, user), "--format=custom", "--file", str(dump), PG_DATABASE], dict(os.environ)
    )
    began = time.monotonic()
    shutil.copytree(store, work / "store-copy")
    copied = time.monotonic() - began
    shutil.rmtree(work / "store-copy")
    return timed, copied, dump


def _reference_restore(dump: Path, work: Path, store: Path, host: str, user: str) -> float:
    _admin(host, user, f"DROP DATABASE IF EXISTS {REFERENCE_DATABASE} WITH (FORCE)")
    _admin(host, user, f"CREATE DATABASE {REFERENCE_DATABASE}")
    began = time.monotonic()
    command = [*_pg("pg_restore", host, user), "--no-owner", "--single-transaction", "--exit-on-error"]
    _run_rss([*command, "--dbname", REFERENCE_DATABASE, str(dump)], dict(os.environ))
    shutil.copytree(store, work / "store-copy")
    seconds = time.monotonic() - began
    shutil.rmtree(work / "store-copy")
    _admin(host, user, f"DROP DATABASE IF EXISTS {REFERENCE_DATABASE} WITH (FORCE)")
    return seconds


def _database_bytes(host: str, user: str) -> int:
    import psycopg

    with psycopg.connect(host=host, user=user, dbname=PG_DATABASE) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _generate(env: dict[str, str], cases: int, messages: int, say: Any) -> None:
    _run_rss([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    say(f"9. generating {cases:,} cases and {messages:,} messages in {PG_DATABASE}")
    _run_rss([sys.executable, "-m", "bench.casework_data", "--cases", str(cases), "--messages", str(messages)], env)


def run(*, host: str, user: str, keep: bool, say: Any) -> BackupResult:
    cases, messages = size_from_env()
    divisor = int(os.environ.get("SP_BENCH_BLOB_DIVISOR", "10"))
    work = OUT / f"backup-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    source, target = work / "source", work / "target"
    for directory in (source, target):
        directory.mkdir(parents=True, mode=0o700)
    recipient, identity = _key(work)
    load_before = _load()
    database = {"SP_DB_ENGINE": "postgresql", "SP_DB_HOST": host, "SP_DB_USER": user}
    env = production_env(source, {**database, "SP_DB_NAME": PG_DATABASE, "SP_BACKUP_RECIPIENT": recipient})
    for name in (PG_DATABASE, RESTORE_DATABASE):
        _admin(host, user, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(host, user, f"CREATE DATABASE {name}")
    try:
        _generate(env, cases, messages, say)
        say(f"9. writing the file store (attachment sizes / {divisor})")
        blobs, store_bytes = _fill_store(source / "files", host, user, divisor)
        say(f"9. {blobs:,} blobs, {store_bytes / MIB:,.0f} MiB; baseline pg_dump + copy")
        dump_timed, copy_seconds, dump = _baseline(work, source / "files", host, user)
        say("9. manage.py backup")
        archive = work / "backup.age"
        backup, _ = _run_rss([sys.executable, "manage.py", "backup", "--output", str(archive)], env)
        say("9. manage.py restore into an empty database and var directory")
        restore_env = {**env, "SP_VAR_DIR": str(target), "SP_FILE_STORE": str(target / "files")}
        restore_env["SP_DB_NAME"] = RESTORE_DATABASE
        command = [sys.executable, "manage.py", "restore", str(archive), "--identity", str(identity)]
        restored, output = _run_rss([*command, "--secrets-dir", str(target / "secrets")], restore_env)
        say("9. reference: pg_restore + copy")
        reference = _reference_restore(dump, work, source / "files", host, user)
        say("9. baseline again (warm caches)")
        dump_after, copy_after, _ = _baseline(work, source / "files", host, user)
        manifest_rows = int(output.split(" rows,")[0].rsplit(" ", 1)[-1]) if " rows," in output else 0
        return BackupResult(
            cases=cases,
            messages=messages,
            server=_server_version(host, user),
            rows=manifest_rows,
            blobs=blobs,
            store_bytes=store_bytes,
            divisor=divisor,
            database_bytes=_database_bytes(host, user),
            backup_bytes=archive.stat().st_size,
            pg_dump=dump_timed,
            copy_seconds=copy_seconds,
            pg_dump_after=dump_after.seconds,
            copy_after=copy_after,
            load=f"{load_before} → {_load()}",
            backup=backup,
            restore=restored,
            pg_restore_seconds=reference,
            restore_output=output.strip(),
        )
    finally:
        if not keep:
            for name in (PG_DATABASE, RESTORE_DATABASE):
                _admin(host, user, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            shutil.rmtree(work, ignore_errors=True)


def section(result: BackupResult) -> list[str]:
    first = result.pg_dump.seconds + result.copy_seconds
    again = result.pg_dump_after + result.copy_after
    baseline = min(first, again)
    return [
        TITLE,
        "",
        f"PostgreSQL {result.server}, the world of benchmark 5 (`bench.casework_data`, {result.cases:,} cases, "
        f"{result.messages:,} messages; database {result.database_bytes / MIB:,.0f} MiB, {result.rows:,} rows) and a "
        f"file store of {result.blobs:,} blobs, one per attachment row, each of random bytes at its row's size / "
        f"{result.divisor} ({result.store_bytes / MIB:,.0f} MiB). Backup file: {result.backup_bytes / MIB:,.0f} MiB. "
        f"Load average (1, 5, 15 min) at the start and the end: {result.load}.",
        "",
        "| Step | Seconds | ÷ baseline | Peak RSS |",
        "|---|---|---|---|",
        f"| baseline, before the backup: `pg_dump --format=custom` + `shutil.copytree` of the store | "
        f"{result.pg_dump.seconds:.1f} + {result.copy_seconds:.1f} = {first:.1f} | {first / baseline:.2f} | "
        f"{result.pg_dump.max_rss_kib / 1024:.0f} MiB (pg_dump) |",
        f"| baseline, after the restore (warm caches) | {result.pg_dump_after:.1f} + {result.copy_after:.1f} = "
        f"{again:.1f} | {again / baseline:.2f} | — |",
        f"| `manage.py backup` (snapshot, pg_dump, tar, age encryption, fsync) | {result.backup.seconds:.1f} | "
        f"{result.backup.seconds / baseline:.2f} | {result.backup.max_rss_kib / 1024:.0f} MiB |",
        f"| `manage.py restore` (decrypt into staging, check, pg_restore, move, every check) | {result.restore.seconds:.1f} "
        f"| {result.restore.seconds / baseline:.2f} | {result.restore.max_rss_kib / 1024:.0f} MiB |",
        f"| reference: `pg_restore` + copy of the store | {result.pg_restore_seconds:.1f} | "
        f"{result.pg_restore_seconds / baseline:.2f} | — |",
        "",
        f"Restore said: `{result.restore_output.splitlines()[0] if result.restore_output else ''}`. The ratios divide by "
        "the faster baseline pass. Peak RSS is `wait4`'s for the command: the largest of the Python process and its "
        "children (pg_dump, pg_restore).",
        "",
    ]


def _write(lines: list[str]) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    block = "\n".join(lines)
    if TITLE in text:
        head, rest = text.split(TITLE, 1)
        after = rest.find("\n## ")
        text = head + block + ("\n" + rest[after + 1 :] if after != -1 else "")
    else:
        marker = "## Notes from the investigation"
        text = text.replace(marker, block + "\n" + marker, 1) if marker in text else text + "\n" + block
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_restore", description=__doc__.split("\n")[0])
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--write", action="store_true", help="put the section into bench/RESULTS.md")
    args = parser.parse_args(argv)
    if not postgres_available(args.pg_host, args.pg_user):
        raise SystemExit(f"no PostgreSQL at {args.pg_host} for user {args.pg_user}")
    began = time.monotonic()
    result = run(
        host=args.pg_host,
        user=args.pg_user,
        keep=args.keep,
        say=lambda text: print(f"[backup {time.monotonic() - began:6.1f}s] {text}", flush=True),
    )
    lines = section(result)
    print("\n".join(lines))
    print(json.dumps({"result": result.__dict__}, default=lambda o: o.__dict__), file=sys.stderr)
    if args.write:
        _write(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
