"""``manage.py case_recertify PUBLIC_ID``: vouch again for a case row whose certificate fails."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework import keys


class Command(BaseCommand):
    help = (
        "After the console refused a case because its row no longer carries its certificate "
        "(docs/crypto.md, 'Certified rows'), and after someone compared what the row says now "
        "(state, team, duress time, the credential replies go to, the current key version, all "
        "printed without --confirm) with the audit log and the people on the case: certify the "
        "row as it is. Whoever runs it vouches for those values; the re-certification is itself "
        "written to the audit log. Key versions, wraps and credentials are not touched: a case "
        "refused because of one of those stays refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("public_id", help="the case reference, as staff see it")
        parser.add_argument("--confirm", action="store_true", help="certify (without it, only show)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            shown = keys.case_recertify_after_review(options["public_id"], confirm=options["confirm"])
        except keys.CaseNotFound:
            raise CommandError("no case with this reference") from None
        for name, value in shown.items():
            self.stdout.write(f"{name}: {value}")
        if not options["confirm"]:
            self.stdout.write("nothing changed: compare these with the audit log, then run again with --confirm")
