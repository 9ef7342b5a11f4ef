from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import first_coordinator_link_create


class Command(BaseCommand):
    help = "Print a one-time link to set up the first coordinator account (if there is none yet)."

    def handle(self, *args: Any, **options: Any) -> None:
        token = first_coordinator_link_create()
        if token is None:
            self.stdout.write(f"A coordinator account exists already: log in at {settings.SP_CONSOLE_URL}/login/")
            return
        hours = settings.SP_SETUP_HOURS
        self.stdout.write(f"One-time setup link for the first coordinator (valid {hours} h):")
        self.stdout.write(f"  {settings.SP_CONSOLE_URL}/signup/{token}/")
