"""Certify the X25519 public key of every staff account that exists at upgrade time.

Accounts enrolled from now on get their certificate at enrolment (accounts.services.staff_enrol),
and no case key is wrapped to a public key whose certificate fails (accounts.keyring.
trusted_box_key). Rows that already exist were enrolled before keys were certified, so this
migration vouches for them once, with the key derived from the instance secret. Like
casework/migrations/0006_tag_existing_messages.py, it trusts the database as it is at the moment
of upgrading: a key swapped in before the upgrade is certified with the rest. From then on, a
key written by a database writer has no valid certificate.

The certificate is made here with the same sealbox function the application uses (sealbox is
a frozen, Django-free core), not with accounts.keyring, which may change with the models.
Existing certificates are left alone; reversing keeps the certificates (they are harmless
without the code that checks them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

import sealbox


def certify_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    StaffMember = apps.get_model("accounts", "StaffMember")
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.BOX_CERTIFICATE_KEY_PURPOSE)
    pending = StaffMember.objects.filter(box_key_certificate__isnull=True).only("pk", "public_key")
    for member in pending.iterator(chunk_size=500):
        public_key = bytes(member.public_key or b"")
        if len(public_key) != sealbox.KEY_BYTES:
            continue  # no usable key: nothing can be wrapped to it anyway
        certificate = sealbox.box_key_certificate(key, member.pk, public_key)
        StaffMember.objects.filter(pk=member.pk).update(box_key_certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_box_key_certificate")]

    operations = [migrations.RunPython(certify_existing, migrations.RunPython.noop)]
