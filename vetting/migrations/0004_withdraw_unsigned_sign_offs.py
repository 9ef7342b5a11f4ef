"""Sign-offs made before they were signed can no longer count (only the verifier's password
opens the key that would sign them), so they are withdrawn now, certified as withdrawn: the
verifier can sign the case off again at once, and the case needs its two signed sign-offs.
Audit entries are not written by migrations; docs/crypto.md records this step."""

from __future__ import annotations

from django.conf import settings
from django.db import migrations
from django.utils import timezone

import sealbox


def withdraw_unsigned(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    SignOff = apps.get_model("vetting", "SignOff")
    now = timezone.now()
    for sign_off in SignOff.objects.filter(withdrawn_at__isnull=True, signature__isnull=True):
        certificate = sealbox.row_certificate(key, "vetting.sign-off", sign_off.pk, sign_off.verifier_id, "withdrawn")
        SignOff.objects.filter(pk=sign_off.pk).update(withdrawn_at=now, certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("vetting", "0003_sign_off_state_certificate")]

    operations = [migrations.RunPython(withdraw_unsigned, migrations.RunPython.noop)]
