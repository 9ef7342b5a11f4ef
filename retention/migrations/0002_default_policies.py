"""The retention policies a new instance starts with (docs/crypto.md, "Retention and
shredding"), certified with the row key derived from the instance secret. A coordinator
changes them on the retention page; a reason without a policy is kept until someone decides.

  safe                   180 days  (help ended well; little reason to keep what could hurt)
  declined                30 days  (the person did not want help from us)
  duplicate               30 days  (the other case holds the conversation)
  lost_contact           730 days  (the person may come back, or be detained: T9)
  suspected_infiltrator  730 days  (evidence for vetting others: T3)

The values are spelled out here, not imported, as the application's defaults may change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

import sealbox

DEFAULTS = {"safe": 180, "declined": 30, "duplicate": 30, "lost_contact": 730, "suspected_infiltrator": 730}


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    Policy = apps.get_model("retention", "RetentionPolicy")
    for reason, days in DEFAULTS.items():
        if Policy.objects.filter(reason=reason).exists():
            continue
        row = Policy.objects.create(reason=reason, keep_days=days)
        row.certificate = sealbox.row_certificate(key, "retention.policy", row.pk, reason, days)
        row.save(update_fields=["certificate"])


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
