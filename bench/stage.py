"""The stage a benchmark run plays on: a fresh var dir, a production environment, a database
(SQLite in the var dir, or a PostgreSQL database created and dropped for the run), migrations,
seed data, and a gunicorn process serving the intake face on a free loopback port."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import HOST, Browser
from core.management.commands.serve import gunicorn_argv

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_DATABASE = "bench_safepassage"
UPLOAD_LIMIT = 256 * 1024 * 1024
GUNICORN_WORKERS = 2
# High so that the login benchmarks measure Argon2, not the global pause (see intake/throttle.py).
LOGIN_BUDGET = 1_000_000
# High so that the upload benchmark's files are all taken (see intake/throttle.py).
UPLOAD_BUDGET_BYTES = 1 << 40


@dataclass
class Database:
    engine: str  # "sqlite" or "postgresql"
    pg_host: str = "127.0.0.1"
    pg_user: str = "postgres"

    def env(self, var_dir: Path) -> dict[str, str]:
        if self.engine == "sqlite":
            return {"SP_DB_ENGINE": "sqlite", "SP_SQLITE_PATH": str(var_dir / "safepassage.sqlite3")}
        return {
            "SP_DB_ENGINE": "postgresql",
            "SP_DB_HOST": self.pg_host,
            "SP_DB_USER": self.pg_user,
            "SP_DB_NAME": PG_DATABASE,
        }

    def _admin(self, sql: str) -> None:
        import psycopg  # only the PostgreSQL run needs it

        with psycopg.connect(host=self.pg_host, user=self.pg_user, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create(self) -> None:
        if self.engine == "postgresql":
            self._admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            self._admin(f"CREATE DATABASE {PG_DATABASE}")

    def drop(self) -> None:
        if self.engine == "postgresql":
            self._admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")

    def describe(self) -> str:
        if self.engine == "sqlite":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version} (WAL) in the run's var dir"
        import psycopg

        with psycopg.connect(host=self.pg_host, user=self.pg_user, dbname="postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'} on {self.pg_host}, database {PG_DATABASE} (created and dropped)"


def production_env(var_dir: Path, database_env: dict[str, str]) -> dict[str, str]:
    """The environment of every process of a run: production posture, fresh secrets, this run's
    var dir and database, and no SP_* or DJANGO_* variable inherited from the caller's shell."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SP_", "DJANGO_"))}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SP_ENV": "production",
        "SP_SECRET_KEY": secrets.token_urlsafe(50),
        "SP_PEPPER": secrets.token_hex(32),
        "SP_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SP_HTTPS": "false",
        "SP_SSL_REDIRECT": "false",
        "SP_HSTS_SECONDS": "0",
        "SP_VAR_DIR": str(var_dir),
        "SP_FILE_STORE": str(var_dir / "files"),
        "SP_ATTACHMENT_MAX_BYTES": str(UPLOAD_LIMIT),
        "SP_LOGIN_BUDGET": str(LOGIN_BUDGET),
        "SP_UPLOAD_BUDGET_BYTES": str(UPLOAD_BUDGET_BYTES),
        "SP_LOG_LEVEL": "WARNING",
        **database_env,
    }


class Stage:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.var_dir = OUT / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        self.env: dict[str, str] = {}
        self.codename = ""
        self.server: subprocess.Popen[bytes] | None = None
        self.port = 0

    def prepare(self) -> None:
        self.var_dir.mkdir(parents=True, mode=0o700)
        self.env = production_env(self.var_dir, self.database.env(self.var_dir))
        self.database.create()
        self._manage("migrate", "--noinput", "-v", "0")
        self._manage("check", "--deploy", "--fail-level", "ERROR")
        seeded = self._run("-m", "bench.seed")
        self.codename = json.loads(seeded.strip().splitlines()[-1])["codename"]

    def _manage(self, *args: str) -> None:
        self._run("manage.py", *args)

    def _run(self, *args: str) -> str:
        """Run one Python step of the set-up quietly; show its output only if it fails."""
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise RuntimeError(f"set-up step `{' '.join(args)}` failed with exit code {done.returncode}")
        return done.stdout

    def start_server(self) -> None:
        self.port = _free_port()
        log = (self.var_dir / "gunicorn.log").open("ab")
        # Exactly what `make run` serves (threaded workers, no access log, scrubbing error log).
        command = gunicorn_argv("intake", f"http://{HOST}:{self.port}", GUNICORN_WORKERS)
        self.server = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.server.returncode}; see {self.var_dir}/gunicorn.log")
            try:
                browser = Browser(self.port, timeout=5)
                status = browser.get("/").status
                browser.close()
                if status == 200 and len(self.worker_pids()) == GUNICORN_WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master process we started."""
        if self.server is None:
            return []
        master = self.server.pid
        children = []
        for task in Path(f"/proc/{master}/task").glob("*/children"):
            children += [int(pid) for pid in task.read_text().split()]
        return sorted(children)

    def server_pids(self) -> list[int]:
        """Master and workers: every process whose CPU time counts as the server's."""
        return ([self.server.pid] if self.server else []) + self.worker_pids()

    def stop_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        self.server.send_signal(signal.SIGTERM)  # only the master we started; it stops its workers
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(timeout=10)

    def tear_down(self, *, keep: bool) -> None:
        self.stop_server()
        self.database.drop()
        if not keep:
            shutil.rmtree(self.var_dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
