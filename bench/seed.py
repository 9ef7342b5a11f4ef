"""Seed a fresh benchmark instance through the real services, as a person and a coordinator would.

Run by bench/run.py in a subprocess with the benchmark environment (``python -m bench.seed``):
a first coordinator (setup link, enrolment, TOTP, recovery key) so the hotline accepts
requests, then one case opened from intake with a codename this script chooses. It prints one
JSON line with that codename for the load generator; nothing else keeps it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django_otp.oath import TOTP

    import sealbox
    from accounts import services as account_services
    from casework import services
    from casework.models import Urgency

    token = account_services.first_coordinator_link_create()
    if token is None:
        sys.exit("the benchmark database already has a coordinator: it must be fresh")
    password = secrets.token_urlsafe(18)
    enrolment = account_services.staff_enrol(token=token, username="bench-coordinator", password=password)
    device = enrolment.device
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    if not account_services.totp_confirm(device, f"{code:0{device.digits}d}"):
        sys.exit("TOTP confirmation failed")
    if account_services.recovery_key_create(created_by=enrolment.member) is None:
        sys.exit("a recovery key already exists")

    codename = sealbox.generate_codename("ru")
    services.case_open_from_intake(
        codename=codename,
        duress_word=sealbox.danger_word_candidates(codename, 1)[0],
        urgency=Urgency.DANGER_NOW,
        details=services.CaseDetails(region="chechnya", help_kinds=["leave_region"], language="ru"),
        body="Benchmark case: the first message of a person asking for help.",
        attachments=[],
    )
    print(json.dumps({"codename": codename}))


if __name__ == "__main__":
    main()
