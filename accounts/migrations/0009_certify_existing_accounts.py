"""Certify every staff account's role and active state, and the recovery key, as they are at
upgrade time.

From now on the application certifies these rows itself (enrolment, disabling, confirming the
recovery key) and checks them before sealing anything to a member or the recovery key
(docs/crypto.md, "Certified rows"). Rows that exist were written before, so this migration
vouches for them once with the row key derived from the instance secret, trusting the database
as it is at the moment of upgrading, as accounts 0007 did for the X25519 keys. The statement
is built here with sealbox (a frozen, Django-free core) and spelled out rather than taken from
the models, which may change. Reversing keeps the certificates (harmless without the checks).
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

import sealbox


def certify_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    StaffMember = apps.get_model("accounts", "StaffMember")
    members = StaffMember.objects.filter(account_certificate__isnull=True).only("pk", "role", "is_active")
    for member in members.iterator(chunk_size=500):
        state = "active" if member.is_active else "disabled"
        certificate = sealbox.row_certificate(key, "staff.account", member.pk, member.role, state)
        StaffMember.objects.filter(pk=member.pk).update(account_certificate=certificate)
    RecoveryKey = apps.get_model("accounts", "RecoveryKey")
    for recovery in RecoveryKey.objects.filter(certificate__isnull=True):
        certificate = sealbox.row_certificate(key, "recovery.key", recovery.slot, bytes(recovery.public_key))
        RecoveryKey.objects.filter(pk=recovery.pk).update(certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_account_and_recovery_certificates")]

    operations = [migrations.RunPython(certify_existing, migrations.RunPython.noop)]
