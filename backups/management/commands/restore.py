"""``manage.py restore FILE --identity KEYFILE``: restore a backup into an empty target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.restore import RestoreCheckFailed, restore
from backups.unpack import RestoreRefused


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database and an empty file store, then check migrations, the "
        "audit chain, the rows of every table and every file against the backup's manifest. A file that "
        "is cut short or changed is refused before anything is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file")
        parser.add_argument("--identity", required=True, type=Path, metavar="KEYFILE", help="the age identity file")
        parser.add_argument(
            "--secrets-dir",
            type=Path,
            default=None,
            help="where to write the instance secrets (needed in production; default: var/secrets)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = restore(options["file"], options["identity"], secrets_dir=options["secrets_dir"])
        except RestoreRefused as refused:
            raise CommandError(str(refused)) from None
        except RestoreCheckFailed as failed:
            raise CommandError(f"restored, but the check failed: {failed}") from None
        self.stdout.write(
            f"restored: {restored.tables} tables, {restored.rows} rows, {restored.blobs} files; "
            f"audit chain intact ({restored.audit_entries} entries)"
        )
        self.stdout.write(f"instance secrets written to {restored.secrets_dir} (secret key, pepper)")
        for onion in restored.manifest["onion"]:
            self.stdout.write(
                f"onion service keys of {onion['directory']}: {restored.secrets_dir / 'onion' / str(onion['index'])}"
            )
