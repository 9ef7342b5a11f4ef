"""Certify the safe houses (key version, new keys due), their sealings and stays that exist at
upgrade time.

From now on the application certifies each sealing of a house's keys (to a member, the
recovery key or a placed case's key) and each stay when it records, confirms or ends it, and
uses only certified ones (docs/crypto.md, "Certified rows"). Rows that exist were written
before, so this migration vouches for them once with the row key derived from the instance
secret, trusting the database as it is at the moment of upgrading. The statements are spelled
out here with sealbox rather than taken from the models, which may change.
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db import migrations

import sealbox


def certify_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    SafeHouse = apps.get_model("safehouses", "SafeHouse")
    for house in SafeHouse.objects.all().iterator(chunk_size=500):
        due = "rotation-due" if house.rotation_due else "-"
        certificate = sealbox.row_certificate(key, "safehouse", house.pk, house.key_version, due)
        SafeHouse.objects.filter(pk=house.pk).update(certificate=certificate)
    SafeHouseKey = apps.get_model("safehouses", "SafeHouseKey")
    for row in SafeHouseKey.objects.all().iterator(chunk_size=500):
        if row.for_recovery:
            holder = "recovery"
        elif row.member_id is not None:
            holder = f"member:{row.member_id}"
        else:
            holder = f"case-key:{row.case_key_id}"
        certificate = sealbox.row_certificate(key, "safehouse.key", row.safe_house_id, row.version, holder)
        SafeHouseKey.objects.filter(pk=row.pk).update(certificate=certificate)
    Placement = apps.get_model("safehouses", "Placement")
    for row in Placement.objects.select_related("case").iterator(chunk_size=500):
        ended = "" if row.ended_at is None else row.ended_at.astimezone(UTC).isoformat(timespec="microseconds")
        certificate = sealbox.row_certificate(
            key, "safehouse.placement", row.id.bytes, row.case.public_id, row.safe_house_id, row.status, ended
        )
        Placement.objects.filter(pk=row.pk).update(certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("safehouses", "0004_certified_sealings_and_stays")]

    operations = [migrations.RunPython(certify_existing, migrations.RunPython.noop)]
