"""Sweep the check-in schedules now and make sure the periodic sweep job is queued.

The worker runs the sweep by itself; this is for an operator, or a cron entry as a second
line behind the job chain. It is safe to run at any time: a sweep makes each ladder step once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evacuation.checkins import ladder


class Command(BaseCommand):
    help = "Sweep the check-in schedules now and queue the next periodic sweep."

    def handle(self, *args: Any, **options: Any) -> None:
        ladder.sweep_ensure_scheduled()
        made = ladder.sweep()
        self.stdout.write(f"{made} missed check-in step(s) queued")
