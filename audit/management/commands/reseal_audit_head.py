"""``manage.py reseal_audit_head``: give the audit head its MAC again after it failed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import ResealRefused, audit_head_reseal


class Command(BaseCommand):
    help = (
        "After verify_audit reported that the chain head's MAC does not hold (the head was written "
        "or deleted outside the application, perhaps to hide entries cut off the end), and after "
        "the coordinators compared the heads they wrote down (verify_audit --expect-head): make "
        "the head name the last entry again with a valid MAC. Refused while any entry fails to "
        "verify. The reseal is itself written to the log, so it hides nothing from its readers; "
        "entries that were removed stay removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--confirm", action="store_true", help="reseal (without it, nothing is changed)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["confirm"]:
            raise CommandError(
                "nothing changed: compare the heads written down off the server first "
                "(verify_audit --expect-head), then run again with --confirm"
            )
        try:
            entry = audit_head_reseal()
        except ResealRefused as refused:
            raise CommandError(str(refused)) from None
        if entry is None:
            self.stdout.write("the chain head holds: nothing to reseal")
            return
        self.stdout.write(f"head resealed: sequence {entry.sequence}, hash {entry.entry_hash}")
