"""Teams and memberships (from casework), the on-call rota and the case state history (from
triage) moved to other apps with their tables (accounts 0012, casework 0014 and 0015, triage 0002
and 0003): rows written before the move are the same rows afterwards, and certificates made
before it still hold (the certified table names "team" and "team.member" did not change)."""

from __future__ import annotations

from datetime import timedelta

from django.apps.registry import Apps
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

import sealbox
from accounts.models import OnCallShift, Team, TeamMembership
from accounts.teams import on_call_members
from casework.models import Case, CaseStateChange
from core.certificates import certified, certify
from tests.personas import Staff, open_case


def _before_the_move() -> Apps:
    """The models as they were before the move, over today's tables."""
    loader = MigrationExecutor(connection).loader
    return loader.project_state([("casework", "0013_attachment_originals"), ("triage", "0001_initial")]).apps


def _row_certificate(table: str, *parts: object) -> bytes:
    """Made the way casework 0011 certified the rows it found: spelled out with sealbox."""
    key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.ROW_CERTIFICATE_KEY_PURPOSE)
    return sealbox.row_certificate(key, table, *parts)


def test_the_moved_models_keep_their_tables_and_certified_names() -> None:
    assert Team._meta.db_table == "casework_team"
    assert TeamMembership._meta.db_table == "casework_teammembership"
    assert OnCallShift._meta.db_table == "triage_oncallshift"
    assert CaseStateChange._meta.db_table == "triage_casestatechange"
    assert (Team.CERTIFIED_AS, TeamMembership.CERTIFIED_AS) == ("team", "team.member")


def test_a_team_and_a_membership_certified_before_the_move_still_hold(caseworker: Staff) -> None:
    before = _before_the_move()
    old_team_model = before.get_model("casework", "Team")
    old_membership_model = before.get_model("casework", "TeamMembership")
    old_team = old_team_model.objects.create(name="Certified before the move", is_on_call=False)
    old_team_model.objects.filter(pk=old_team.pk).update(certificate=_row_certificate("team", old_team.pk, "-"))
    old_membership = old_membership_model.objects.create(team_id=old_team.pk, member_id=caseworker.member.pk)
    old_certificate = _row_certificate("team.member", old_team.pk, caseworker.member.pk)
    old_membership_model.objects.filter(pk=old_membership.pk).update(certificate=old_certificate)

    team = Team.objects.get(pk=old_team.pk)
    membership = TeamMembership.objects.get(pk=old_membership.pk)

    assert certified(team)
    assert certified(membership)
    assert (membership.team, membership.member) == (team, caseworker.member)
    assert team in caseworker.member.teams.all()
    # And the application certifies a membership today exactly as it did before the move.
    assert certify(membership) == old_certificate


def test_a_planted_membership_still_does_not_hold_after_the_move(caseworker: Staff) -> None:
    before = _before_the_move()
    old_team = before.get_model("casework", "Team").objects.create(name="Planted", is_on_call=True)
    before.get_model("casework", "TeamMembership").objects.create(team_id=old_team.pk, member_id=caseworker.member.pk)

    assert not certified(TeamMembership.objects.get(team_id=old_team.pk))


def test_a_shift_and_a_state_change_written_before_the_move_are_read_after_it(caseworker: Staff) -> None:
    before = _before_the_move()
    now = timezone.now()
    before.get_model("triage", "OnCallShift").objects.create(
        member_id=caseworker.member.pk, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    case = open_case().case
    before.get_model("triage", "CaseStateChange").objects.create(
        case_id=case.pk, from_state="new", to_state="triaged", by_id=caseworker.member.pk, at=now
    )

    assert on_call_members(now) == [caseworker.member]
    change = CaseStateChange.objects.get(case=case)
    assert (change.from_state, change.to_state, change.by) == (Case.Status.NEW, Case.Status.TRIAGED, caseworker.member)
