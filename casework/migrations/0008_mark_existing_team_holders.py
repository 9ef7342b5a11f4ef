"""Record why existing key holders hold their case keys (casework.models.CaseHeldViaTeam).

Assumption (docs/crypto.md, "Teams and keys"): a member of a case's team who holds a wrap of
that case holds it because of the team. Before this table existed that was the only way a team
member got a key without being named (CaseNamedMember), and the old team_member_remove already
treated them so. Someone named on the case keeps their naming as well. Holders who are neither
in the case's team nor named get no row: they are kept when the case moves and are listed on
the team page as holding the key outside the team, as before.
"""

from django.db import migrations


def mark(apps, schema_editor):
    Case = apps.get_model("casework", "Case")
    CaseKeyWrap = apps.get_model("casework", "CaseKeyWrap")
    TeamMembership = apps.get_model("casework", "TeamMembership")
    CaseHeldViaTeam = apps.get_model("casework", "CaseHeldViaTeam")
    rows = []
    for case in Case.objects.exclude(team=None).only("pk", "team_id").iterator():
        in_team = TeamMembership.objects.filter(team_id=case.team_id).values("member_id")
        holders = (
            CaseKeyWrap.objects.filter(case_key__case=case, member_id__in=in_team)
            .values_list("member_id", flat=True)
            .distinct()
        )
        rows.extend(
            CaseHeldViaTeam(case_id=case.pk, member_id=member_id, team_id=case.team_id) for member_id in holders
        )
    CaseHeldViaTeam.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("casework", "0007_case_held_via_team")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
