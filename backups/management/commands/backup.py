"""``manage.py backup --output FILE``: one encrypted backup (backups/archive.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.archive import BackupRefused, backup_write
from backups.schedule import backup_audit


class Command(BaseCommand):
    help = (
        "Write one backup file: a consistent snapshot of the database, the file store and the instance "
        "secrets, encrypted to the age recipient SP_BACKUP_RECIPIENT (open it with the offline identity: "
        "manage.py restore FILE --identity KEYFILE, or age -d -i KEYFILE FILE | tar -x)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, metavar="FILE", help="where to write the backup")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_write(options["output"])
        except BackupRefused as refused:
            raise CommandError(str(refused)) from None
        backup_audit(scheduled=False, manifest=manifest)
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"backup written: {options['output']} ({len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['blobs'])} files)"
        )
