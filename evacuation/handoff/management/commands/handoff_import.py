"""Open a hand-off packet from a partner into a new case, from the command line.

    manage.py handoff_import PACKET_FILE --from "Partner name" --as COORDINATOR_USERNAME

The organisation's hand-off private keys are sealed to coordinators' keys only, so the command
asks for the coordinator's password (never on the command line) to open them. Messages are
printed in English and Russian. Exit status 1 and nothing written when the packet is refused.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

import sealbox
from accounts import permissions
from accounts.keyring import staff_private_key_unlock
from accounts.models import StaffMember
from evacuation.handoff import services
from evacuation.handoff.models import Partner


def _both(render: Any) -> str:
    parts = []
    for language in ("en", "ru"):
        with translation.override(language):
            parts.append(str(render()))
    return " / ".join(parts)


class Command(BaseCommand):
    help = "Check a hand-off packet from a partner and open it into a new case."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("packet", help="the packet file the partner sent")
        parser.add_argument("--from", dest="partner", required=True, help="the partner's name as recorded here")
        parser.add_argument("--as", dest="username", required=True, help="a coordinator holding the hand-off keys")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = Partner.objects.filter(name__iexact=options["partner"].strip()).first()
        if partner is None:
            raise CommandError("No partner with this name. / Партнёра с таким названием нет.")
        member = StaffMember.objects.filter(username=options["username"], is_active=True).first()
        if member is None or not permissions.can_hand_off(member):
            raise CommandError("No active coordinator with this username. / Нет активного координатора с таким именем.")
        try:
            raw = Path(options["packet"]).read_bytes()
        except OSError:
            raise CommandError("The packet file cannot be read. / Файл пакета не читается.") from None
        password = getpass.getpass("Password / Пароль: ")
        try:
            private_key = staff_private_key_unlock(member, password)
        except sealbox.CryptoError:
            raise CommandError("Wrong password. / Неверный пароль.") from None
        try:
            # Refusals are made in English (the message ids), then said in both languages.
            with translation.override("en"):
                case = services.handoff_import(actor=member, actor_private_key=private_key, partner=partner, raw=raw)
        except services.HandoffRefused as exc:
            message = exc.args[0]
            raise CommandError(_both(lambda: translation.gettext(message))) from None
        self.stdout.write(
            _both(
                lambda: translation.gettext("The packet was checked and opened into a new case for the on-call team.")
            )
            + f" {case.public_id}"
        )
