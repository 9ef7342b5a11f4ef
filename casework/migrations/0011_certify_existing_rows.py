"""Certify the casework rows that decide who reads what is written next, as they are at
upgrade time: teams (which one is on call), team memberships, cases (state, team, duress,
reply credential, key version), case key versions, their wraps, the reasons members hold them,
keys owed, and person credentials.

From now on the application certifies these rows where it writes them and checks them before
sealing to or handing on a key (docs/crypto.md, "Certified rows"). Rows that exist were written
before, so this migration vouches for them once with the row key derived from the instance
secret, trusting the database as it is at the moment of upgrading (as casework 0006 did for
messages). The statements are spelled out here with sealbox rather than taken from the models,
which may change. Reversing keeps the certificates (harmless without the checks).
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db import migrations

import sealbox


def _time(value):  # type: ignore[no-untyped-def]
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def certify_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)

    def cert(table, *parts):  # type: ignore[no-untyped-def]
        return sealbox.row_certificate(key, table, *parts)

    get = apps.get_model
    Team, TeamMembership = get("casework", "Team"), get("casework", "TeamMembership")
    for team in Team.objects.filter(certificate__isnull=True):
        Team.objects.filter(pk=team.pk).update(certificate=cert("team", team.pk, "on-call" if team.is_on_call else "-"))
    for row in TeamMembership.objects.filter(certificate__isnull=True).iterator(chunk_size=500):
        TeamMembership.objects.filter(pk=row.pk).update(certificate=cert("team.member", row.team_id, row.member_id))

    Case = get("casework", "Case")
    public_ids = {}
    current_versions = {}
    for case in Case.objects.only(
        "pk", "public_id", "status", "team_id", "under_duress_since", "reply_credential_id", "key_version"
    ).iterator(chunk_size=500):
        public_ids[case.pk] = case.public_id
        current_versions[case.pk] = case.key_version
        certificate = cert(
            "case",
            case.pk,
            case.public_id,
            case.status,
            "" if case.team_id is None else str(case.team_id),
            _time(case.under_duress_since),
            "" if case.reply_credential_id is None else str(case.reply_credential_id),
            case.key_version,
        )
        Case.objects.filter(pk=case.pk).update(certificate=certificate)

    CaseKey, CaseKeyWrap = get("casework", "CaseKey"), get("casework", "CaseKeyWrap")
    held = {}
    for key_id, member_id in CaseKeyWrap.objects.filter(member__isnull=False).values_list("case_key_id", "member_id"):
        held.setdefault(key_id, set()).add(member_id)
    versions = {}
    for row in CaseKey.objects.only("pk", "case_id", "version", "public_key").iterator(chunk_size=500):
        versions[row.pk] = (public_ids[row.case_id], row.version)
        retired = row.version < current_versions[row.case_id]
        holders = "," + "".join(f"{member_id}," for member_id in sorted(held.get(row.pk, ())))
        certificate = cert(
            "case.key",
            public_ids[row.case_id],
            row.version,
            bytes(row.public_key),
            "retired" if retired else "current",
            holders,
        )
        CaseKey.objects.filter(pk=row.pk).update(retired=retired, holders=holders, certificate=certificate)
    for row in CaseKeyWrap.objects.only("pk", "case_key_id", "member_id", "for_recovery").iterator(chunk_size=500):
        public_id, version = versions[row.case_key_id]
        holder = "recovery" if row.for_recovery else str(row.member_id)
        CaseKeyWrap.objects.filter(pk=row.pk).update(certificate=cert("case.key.wrap", public_id, version, holder))

    for name, table, with_team in (
        ("CaseNamedMember", "case.named", False),
        ("CaseHeldViaTeam", "case.via-team", True),
        ("PendingWrap", "case.pending", True),
    ):
        model = get("casework", name)
        for row in model.objects.all().iterator(chunk_size=500):
            parts = [public_ids[row.case_id], row.member_id] + ([row.team_id] if with_team else [])
            model.objects.filter(pk=row.pk).update(certificate=cert(table, *parts))

    PersonCredential = get("casework", "PersonCredential")
    for row in PersonCredential.objects.all().iterator(chunk_size=500):
        certificate = cert(
            "person.credential",
            public_ids[row.case_id],
            row.lookup_id,
            bytes(row.public_key),
            "duress" if row.is_duress else "real",
            "revoked" if row.revoked_at is not None else "live",
        )
        PersonCredential.objects.filter(pk=row.pk).update(certificate=certificate)


class Migration(migrations.Migration):
    dependencies = [("casework", "0010_certified_rows")]

    operations = [migrations.RunPython(certify_existing, migrations.RunPython.noop)]
