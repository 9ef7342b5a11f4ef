"""Shred the closed cases that are due now (and finish shreddings a killed worker left).

The worker runs this sweep by itself (retention.policies.retention_sweep_job); this is for an
operator, or a cron entry as a second line behind it. Safe to run at any time: a shredding is
done once, and a case on hold, before its time or without a policy in force is left alone.
With --list, only names the cases that are due (public ids), and shreds nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from casework.models import Case
from retention import policies


class Command(BaseCommand):
    help = "Shred the closed cases whose retention time has passed (or, with --list, name them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", action="store_true", help="name the cases that are due; shred nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            now = timezone.now()
            closed = Case.objects.filter(status=Case.Status.CLOSED, tombstone__isnull=True).order_by("pk")
            for case in closed.iterator():
                due = policies.shred_due(case)
                if due.at is not None and due.at <= now and not policies.hold_state(case).held:
                    self.stdout.write(f"{case.public_id} due since {due.at:%Y-%m-%d}")
            return
        finished, shredded = policies.retention_sweep()
        self.stdout.write(f"shreddings finished: {finished}; cases shredded: {shredded}")
