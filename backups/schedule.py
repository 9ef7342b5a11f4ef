"""Scheduled backups by the worker, and deleting old ones.

Every SP_BACKUP_INTERVAL_HOURS (0: never) the worker writes ``safepassage-YYYYmmddTHHMMSSZ.age``
into SP_BACKUP_DIR (under a temporary name, renamed when complete: backups/archive.py), then
keeps the newest SP_BACKUP_KEEP and deletes any older than backup_cutoff(). Without a
recipient it writes nothing (the deploy check core.W010 warns in production). A failure is
logged and audited by its error class only, and the coordinators are told that a backup
failed, nothing more.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.teams import coordinators
from audit.models import Action
from audit.services import audit_record
from backups.archive import backup_write
from jobs.models import Job
from jobs.services import job_enqueue, job_handler, periodic_job
from jobs.worker import error_label
from notifications.delivery import Notice, deliver
from notifications.models import Event
from retention.policies import shortest_retention_period

logger = logging.getLogger(__name__)
BACKUP_JOB = "backups.scheduled"
FAILED_NOTIFY_JOB = "backups.failed_notify"
_NAME = re.compile(r"^safepassage-(\d{8}T\d{6}Z)\.age$")


def backup_file_name(at: datetime) -> str:
    return f"safepassage-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.age"


def backup_taken_at(path: Path) -> datetime | None:
    found = _NAME.match(path.name)
    return None if found is None else datetime.strptime(found.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def backup_cutoff(now: datetime) -> datetime | None:
    """Backups taken before this are deleted (None: none by age). The one place the limit is
    decided: the shorter of SP_BACKUP_MAX_AGE_DAYS and the shortest retention period in force,
    so a case shredded on the server is gone from every backup at most that long afterwards."""
    limits = [period for period in (shortest_retention_period(),) if period is not None]
    if settings.SP_BACKUP_MAX_AGE_DAYS is not None:
        limits.append(timedelta(days=settings.SP_BACKUP_MAX_AGE_DAYS))
    return now - min(limits) if limits else None


def backups_prune(directory: Path, *, keep: int, older_than: datetime | None) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory``, and any taken before
    ``older_than``; returns the deleted paths. Other files are left alone."""
    dated = sorted(
        ((taken, path) for path in Path(directory).glob("safepassage-*.age") if (taken := backup_taken_at(path))),
        reverse=True,
    )
    doomed = [path for index, (taken, path) in enumerate(dated) if index >= keep or (older_than and taken < older_than)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def backup_audit(*, scheduled: bool, manifest: dict[str, Any]) -> None:
    details = {"scheduled": scheduled, "tables": len(manifest["tables"]), "files": len(manifest["blobs"])}
    with transaction.atomic():
        audit_record(actor=None, action=Action.BACKUP_WRITTEN, details=details)


def backup_scheduled(now: datetime | None = None) -> Path | None:
    """Write one scheduled backup and prune; returns its path, or None when off or it failed."""
    if not settings.SP_BACKUP_INTERVAL_HOURS or not settings.SP_BACKUP_RECIPIENT:
        return None
    now = now or timezone.now()
    directory = Path(settings.SP_BACKUP_DIR)
    path = directory / backup_file_name(now)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        manifest = backup_write(path)
    except Exception as exc:
        backup_failed(exc)
        return None
    backup_audit(scheduled=True, manifest=manifest)
    backups_prune(directory, keep=settings.SP_BACKUP_KEEP, older_than=backup_cutoff(now))
    return path


def backup_failed(exc: Exception) -> None:
    """Log and audit the failure by its class only, and queue the coordinators' notice."""
    logger.error("scheduled backup failed: %s", error_label(exc))
    with transaction.atomic():
        audit_record(actor=None, action=Action.BACKUP_FAILED, details={"error": type(exc).__name__[:40]})
        job_enqueue(FAILED_NOTIFY_JOB, {})


def _every_seconds() -> int:
    # Off (0) still needs a slot length: the job then finds nothing to do.
    return int(settings.SP_BACKUP_INTERVAL_HOURS or 24) * 3600


@periodic_job(BACKUP_JOB, every_seconds=_every_seconds)
def backup_scheduled_job(job: Job) -> None:
    backup_scheduled()


@job_handler(FAILED_NOTIFY_JOB)
def backup_failed_notify(job: Job) -> None:
    link = settings.SP_CONSOLE_URL.rstrip("/") + "/"
    deliver(job, coordinators(), Notice(event=str(Event.BACKUP_FAILED), public_id="", link=link))
