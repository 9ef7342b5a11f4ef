"""Certify the sign-up links that exist at upgrade time (trusting the database as it is then,
as accounts 0009 did for the accounts); from now on a link is certified when it is made and
checked before it makes an account (docs/crypto.md, "Certified rows")."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db import migrations

import sealbox


def certify_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    SignupLink = apps.get_model("accounts", "SignupLink")
    for link in SignupLink.objects.filter(certificate__isnull=True).iterator(chunk_size=500):
        certificate = sealbox.row_certificate(
            key,
            "signup.link",
            link.token_hash,
            link.purpose,
            link.role,
            "" if link.team_id is None else str(link.team_id),
            link.expires_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "" if link.created_by_id is None else str(link.created_by_id),
        )
        SignupLink.objects.filter(pk=link.pk).update(certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_signup_link_certificate")]

    operations = [migrations.RunPython(certify_existing, migrations.RunPython.noop)]
