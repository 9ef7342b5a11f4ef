"""``manage.py intake_status``: whether the intake accepts requests, and if not, what must
still be done first (casework.services.intake_readiness). `make run` prints it at start-up;
with ``--check`` the exit status is 1 while the intake is closed, for scripts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, no_translations

from casework.services import intake_readiness


class Command(BaseCommand):
    help = "Say whether the intake accepts requests now, and if not, what must still be done."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="exit with status 1 while the intake is closed")

    @no_translations  # in the operator's terminal, like the rest of `make run`
    def handle(self, *args: Any, **options: Any) -> None:
        readiness = intake_readiness()
        if readiness.accepts_requests:
            self.stdout.write("The intake accepts requests.")
            return
        self.stdout.write("The intake does not accept requests yet. Still to do:")
        for reason in readiness.missing:
            self.stdout.write(f"  - {reason}")
        if options["check"]:
            raise CommandError("the intake is closed", returncode=1)
