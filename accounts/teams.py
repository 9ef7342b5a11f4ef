"""Who is on call: the team new cases go to and its readers, the members on the rota now, and
the coordinators (the top of every escalation). Reads only; teams are changed by
casework.teams (a team change moves case keys) and the rota by triage.services.

An account that joins its team at sign-up (accounts.services.staff_enrol) may be owed the keys
of the team's open cases: casework registers for team_joined_at_enrolment to record them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts import permissions
from accounts.models import OnCallShift, StaffMember, Team, TeamMembership
from core.certificates import certified
from core.hooks import HookPoint

logger = logging.getLogger(__name__)


def on_call_team() -> Team | None:
    """The team new cases go to: the first team marked on call whose certificate holds (a
    database writer who marks another team on call does not redirect new cases to it)."""
    for team in Team.objects.filter(is_on_call=True).order_by("pk"):
        if certified(team):
            return team
        logger.error("team %s is marked on call but its certificate does not hold; not used", team.pk)
    return None


def on_call_readers(team: Team) -> list[StaffMember]:
    """Members of ``team`` given a new case's key: a certified membership, an active account
    of a role that reads new cases (coordinators and caseworkers, not verifiers: they are given
    it when vetting starts) whose state is certified (trusted_box_key checks the rest)."""
    memberships = TeamMembership.objects.filter(
        team=team, member__is_active=True, member__role__in=permissions.NEW_CASE_READER_ROLES
    ).select_related("member")
    readers = []
    for membership in memberships:
        if certified(membership) and certified(membership.member):
            readers.append(membership.member)
        else:
            logger.warning("team %s: membership of staff member %s is not certified", team.pk, membership.member_id)
    return readers


def on_call_members(now: datetime) -> list[StaffMember]:
    """Members whose shift covers ``now`` and who may be on call as they are now: a shift stops
    counting when its member is disabled or changes to a role that does not see the case list
    (accounts.permissions.can_be_on_call), however the shift got there."""
    ids = OnCallShift.objects.filter(starts_at__lte=now, ends_at__gt=now).values("member_id")
    members = StaffMember.objects.filter(pk__in=ids, is_active=True).order_by("pk")
    return [member for member in members if permissions.can_be_on_call(member)]


def coordinators_active() -> QuerySet[StaffMember]:
    """Every active coordinator, as a query a form can offer as choices."""
    return StaffMember.objects.filter(role__in=permissions.COORDINATOR_ROLES, is_active=True)


def coordinators() -> list[StaffMember]:
    return list(coordinators_active().order_by("pk"))


@dataclass(frozen=True)
class TeamJoined:
    team: Team
    member: StaffMember  # just enrolled, their membership certified


# Run by staff_enrol in its transaction (core.hooks.HookPoint).
team_joined_at_enrolment: HookPoint[TeamJoined, None] = HookPoint("team joined at enrolment")
