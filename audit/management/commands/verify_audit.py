"""``manage.py verify_audit``: recompute the whole audit chain, check the head's MAC, and
optionally that a head written down off the server is still in the chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain import NotedHeadInvalid, find_noted_head, head_state, parse_noted_head, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the hash-chained audit log (the 'verify-audit' command of the design: Django "
        "command names cannot contain hyphens, so it is invoked as verify_audit). Exits non-zero "
        "naming the first bad sequence number if an entry was changed, deleted, inserted or "
        "reordered, or if the chain head does not name the last entry or its MAC does not hold. "
        "With --expect-head, also exits non-zero if a head written down earlier is no longer in "
        "the chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help=(
                "a head written down earlier, as SEQ:HASH or HASH (64 hexadecimal digits, or at least "
                "the first 32; spaces and dashes between groups are ignored): it must still be the "
                "entry hash at its place in the chain"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        noted = None
        if options["expect_head"] is not None:
            try:
                noted = parse_noted_head(options["expect_head"])
            except NotedHeadInvalid as invalid:
                raise CommandError(f"--expect-head: {invalid}") from None
        verdict = verify_chain()
        if not verdict.intact:
            raise CommandError(f"audit chain broken at sequence {verdict.first_bad}: {verdict.reason}")
        self.stdout.write(f"audit chain intact: {verdict.checked} entries")
        head = head_state()
        if head is not None and verdict.checked:
            # Worth writing down off the server now and then (the coordinators' page shows it
            # too): a chain rewritten by someone holding the server's secrets no longer reaches it.
            self.stdout.write(f"head: sequence {head.sequence}, hash {head.entry_hash}")
        if noted is not None:
            finding = find_noted_head(noted)
            if finding.sequence is None:
                raise CommandError(f"recorded head missing: {finding.reason}")
            later = verdict.checked - finding.sequence
            self.stdout.write(
                f"recorded head found: entry {finding.sequence} is in the chain, and {later} later entries "
                f"lead from it to the head (sequence {verdict.checked})"
            )
