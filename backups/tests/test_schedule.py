"""Scheduled backups by the worker: written under a temporary name and renamed when whole,
the newest SP_BACKUP_KEEP kept, older ones and ones past the age limit deleted; a failure is
audited by its error class and the coordinators are told that a backup failed, nothing more.

The attacker is a disk that fills or a directory that goes away: a backup that did not finish
must never look like one that did, and somebody must hear about it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from backups.schedule import (
    BACKUP_JOB,
    FAILED_NOTIFY_JOB,
    backup_cutoff,
    backup_file_name,
    backup_scheduled,
    backups_prune,
)
from backups.tests.conftest import AgeKey
from casework.lifecycle import ClosingReason
from core.checks import check_backup_recipient
from jobs.models import Job
from jobs.services import periodic_kinds
from notifications.models import Channel
from notifications.services import preference_set
from notifications.tests.test_notifications import SmtpInbox, smtp  # noqa: F401  (the aiosmtpd fixture)
from retention.policies import policy_set, shortest_retention_period
from tests.personas import Staff


def _old_backups(directory: Path, now: datetime, days: list[int]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / backup_file_name(now - timedelta(days=day)) for day in days]
    for path in paths:
        path.write_bytes(b"an older backup")
    return paths


def test_pruning_keeps_the_newest_and_deletes_past_the_cutoff(tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    paths = _old_backups(tmp_path, now, [0, 1, 2, 3, 4])
    other = tmp_path / "notes.txt"
    other.write_text("not a backup")
    assert sorted(backups_prune(tmp_path, keep=3, older_than=None)) == sorted(paths[3:])
    assert sorted(backups_prune(tmp_path, keep=3, older_than=now - timedelta(days=1, hours=1))) == [paths[2]]
    assert sorted(tmp_path.iterdir()) == sorted([*paths[:2], other])


@pytest.mark.django_db
def test_the_cutoff_is_the_shorter_of_the_age_limit_and_the_shortest_retention(
    coordinator: Staff, settings: Any
) -> None:
    """A case shredded after the shortest retention period must not live on in backups much
    longer than that: backups older than it are deleted, whatever SP_BACKUP_MAX_AGE_DAYS says."""
    now = timezone.now()
    settings.SP_BACKUP_MAX_AGE_DAYS = None
    shortest = shortest_retention_period()
    assert shortest is not None  # the default policies (declined and duplicate: 30 days)
    assert backup_cutoff(now) == now - shortest
    for reason in ClosingReason.values:
        policy_set(reason=reason, keep_days=None if reason != ClosingReason.SAFE else 90, actor=coordinator.member)
    assert backup_cutoff(now) == now - timedelta(days=90)
    settings.SP_BACKUP_MAX_AGE_DAYS = 14
    assert backup_cutoff(now) == now - timedelta(days=14)
    settings.SP_BACKUP_MAX_AGE_DAYS = 365
    assert backup_cutoff(now) == now - timedelta(days=90)
    policy_set(reason=ClosingReason.SAFE, keep_days=None, actor=coordinator.member)
    assert backup_cutoff(now) == now - timedelta(days=365)
    settings.SP_BACKUP_MAX_AGE_DAYS = None
    assert backup_cutoff(now) is None


@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_a_scheduled_backup_whole_and_prunes(
    coordinator: Staff, age_key: AgeKey, tmp_path: Path, settings: Any
) -> None:
    settings.SP_BACKUP_DIR, settings.SP_BACKUP_KEEP = tmp_path / "backups", 2
    now = timezone.now()
    old = _old_backups(settings.SP_BACKUP_DIR, now, [1, 2, 3])
    assert BACKUP_JOB in periodic_kinds()
    call_command("worker", "--once")
    written = sorted(settings.SP_BACKUP_DIR.iterdir())
    assert len(written) == 2 and old[0] in written, written
    fresh = next(path for path in written if path not in old)
    assert fresh.name.startswith("safepassage-") and fresh.suffix == ".age"
    assert fresh.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert (fresh.stat().st_mode & 0o777) == 0o600
    assert AuditEntry.objects.filter(action="backup_written", details__scheduled=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_backup_that_fails_half_way_leaves_no_file_under_either_name(
    coordinator: Staff, age_key: AgeKey, tmp_path: Path, settings: Any
) -> None:
    """An onion key file whose name the archive cannot carry fails the backup after the
    database has gone into the stream: neither the final nor the temporary name remains."""
    onion = tmp_path / "onion"
    onion.mkdir()
    (onion / ("k" * 120)).write_bytes(b"key")
    settings.SP_ONION_KEY_DIRS = [onion]
    settings.SP_BACKUP_DIR = tmp_path / "backups"
    assert backup_scheduled() is None
    assert list(settings.SP_BACKUP_DIR.iterdir()) == []
    assert not list(Path(settings.VAR_DIR).glob(".backup-*"))
    failure = AuditEntry.objects.get(action="backup_failed")
    assert failure.details == {"error": "EncryptError"}  # pyrage hands on what the stream raised as its own


@pytest.mark.django_db(transaction=True)
def test_a_failed_backup_tells_the_coordinators_and_nothing_more(
    coordinator: Staff,
    age_key: AgeKey,
    tmp_path: Path,
    settings: Any,
    smtp: SmtpInbox,  # noqa: F811
) -> None:
    preference_set(member=coordinator.member, channel=Channel.EMAIL, address="coord@example.org", language="en")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.SP_BACKUP_DIR = blocker / "backups"  # cannot be made: a failed backup
    call_command("worker", "--once")
    assert AuditEntry.objects.filter(action="backup_failed").count() == 1
    assert Job.objects.filter(kind=FAILED_NOTIFY_JOB).count() == 1
    call_command("worker", "--once")
    assert [rcpt for rcpt, _ in smtp.messages] == [["coord@example.org"]]
    text = smtp.texts()[0]
    assert "A scheduled backup failed" in text and str(blocker) not in text and "NotADirectory" not in text


@pytest.mark.django_db(transaction=True)
def test_no_scheduled_backup_without_a_recipient_or_when_off(coordinator: Staff, tmp_path: Path, settings: Any) -> None:
    settings.SP_BACKUP_DIR = tmp_path / "backups"
    settings.SP_BACKUP_RECIPIENT = ""
    assert backup_scheduled() is None
    settings.SP_BACKUP_RECIPIENT, settings.SP_BACKUP_INTERVAL_HOURS = "age1unused", 0
    assert backup_scheduled() is None
    assert not settings.SP_BACKUP_DIR.exists()
    assert not AuditEntry.objects.filter(action__startswith="backup").exists()


def test_the_deploy_check_warns_in_production_without_a_recipient(settings: Any) -> None:
    settings.PRODUCTION, settings.SP_BACKUP_RECIPIENT = True, ""
    assert [warning.id for warning in check_backup_recipient(None)] == ["core.W010"]
    settings.SP_BACKUP_RECIPIENT = "age1" + "q" * 58
    assert check_backup_recipient(None) == []
