"""Teams and need-to-know: who reads a case because of the team it belongs to.

A case's readers are the members of its team plus anyone named on the case page individually.
Why each one holds the key is recorded: CaseNamedMember (named on the case) and
CaseHeldViaTeam (given it as a member of a team: when joining the team, when the case moved
to the team, or at intake as the on-call team). Someone may hold it for both reasons. Keys are
only ever wrapped by someone holding them: when the coordinator acting here does not hold a
case's key, the wrap is recorded as owed (PendingWrap) and any holder of the key completes it
later with one button (pending_wraps_complete). An owed wrap is only handed on while the case
is still with that team and the member is still in it, active and in a role owed the case in
its state; otherwise it is dropped. Who is owed what (accounts.permissions.is_owed_team_case_key):
coordinators and caseworkers every case of their team, verifiers a case only while it is being
vetted. Keys are recorded as owed on every way into a team (sign-up from an invitation,
team_joined_at_enrolment; a coordinator adding someone, team_member_add; only the team's open
cases) and to a case's team (case_team_assign), and to the team's verifiers when vetting starts
(vetting_started: whoever starts it holds the key and hands it on at once). Key holders see what
they can hand on at once: pending_wraps_visible_to, keys_to_hand_on (the navigation's count).

Leaving a team takes the member off every case they hold because of that team, wherever the
case is now, and off every case of the team they hold with no recorded reason; cases they
were named on individually are kept (that naming was a separate decision, taken on the case
page, and is undone there). Each case they leave gets a new key version, so nothing written
afterwards opens with any key they kept. This succeeds even when they were the last reader
(only the recovery key is left, as when an account is disabled): keeping someone who must go
on a case is worse than a case that needs the recovery procedure. The result names those
cases.

Moving a case to another team gives the new team's members the key (or owes it), drops the
keys still owed to other teams' members, and takes off, with one new key version, everyone who
held the key only because of another team (members of the new team keep it, now because of
the new team). The move is refused if that would leave nobody but the recovery key: put one of
them in the new team first, or name someone on the case page. Holders with no recorded reason
(given it before reasons were recorded, see migration 0008) are kept and listed, to be removed on the case page if
they no longer need it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.keyring import trusted_box_key
from accounts.models import StaffMember, Team, TeamMembership
from accounts.teams import TeamJoined
from audit.models import Action
from audit.services import audit_record
from casework import hooks, keys, services
from casework.models import Case, CaseHeldViaTeam, CaseKeyWrap, CaseNamedMember, PendingWrap
from casework.sealed import holds_current_key, lock_case
from core.certificates import certified, certified_only, certify

TeamRefused = services.MembershipRefused
logger = logging.getLogger(__name__)


@dataclass
class TeamChange:
    """What a team change did to each case, by reference (for the coordinator's page)."""

    wrapped: list[str] = field(default_factory=list)  # given the key now
    pending: list[str] = field(default_factory=list)  # owed the key: a holder must hand it on
    rotated: list[str] = field(default_factory=list)  # taken off, new key version
    kept_named: list[str] = field(default_factory=list)  # named on the case individually: kept
    unreadable: list[str] = field(default_factory=list)  # nobody but the recovery key reads it now
    others_holding: list[str] = field(default_factory=list)  # holders outside the (new) team
    kept_other_team: list[str] = field(default_factory=list)  # hold it through the case's current team
    removed: list[str] = field(default_factory=list)  # usernames taken off a moved case
    pending_dropped: int = 0  # keys owed to another team's members, no longer owed


def _coordinator_only(actor: StaffMember) -> None:
    if not permissions.can_manage_teams(actor):
        raise TeamRefused(_("Only a coordinator can change teams."))


def team_create(*, actor: StaffMember, name: str) -> Team:
    _coordinator_only(actor)
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name)
            certify(team)
            team.save(update_fields=["certificate"])
            # The id only: a team's name may say where the organisation works.
            audit_record(actor=actor, action=Action.TEAM_CREATE, details={"team": team.pk})
    except IntegrityError:
        raise TeamRefused(_("A team with this name already exists.")) from None
    return team


_Reason = TypeVar("_Reason", CaseNamedMember, CaseHeldViaTeam, PendingWrap, TeamMembership)


def _record(row: _Reason) -> _Reason:
    certify(row)
    row.save(force_insert=True)
    return row


def _team_readers(team: Team) -> list[StaffMember]:
    """Active members of ``team`` by certified membership."""
    memberships = TeamMembership.objects.filter(team=team, member__is_active=True).select_related("member")
    return sorted((row.member for row in certified_only(memberships.order_by("pk"))), key=lambda m: m.pk)


def _owed(member: StaffMember, case: Case) -> bool:
    return permissions.is_owed_team_case_key(member, case_state=case.status)


def _may_be_owed_team_keys(member: StaffMember) -> bool:
    """Of a role owed some of a team's cases (coordinators, caseworkers, verifiers)."""
    return permissions.can_hold_case_key(member, case_verified=False)


def _owe(case: Case, team: Team, member: StaffMember, change: TeamChange) -> None:
    if not PendingWrap.objects.filter(case=case, member=member).exists():
        _record(PendingWrap(case=case, member=member, team=team))
    change.pending.append(case.public_id)


def _give_key_or_owe_it(
    case: Case,
    team: Team,
    actor: StaffMember | None,
    actor_private_key: bytes | None,
    member: StaffMember,
    change: TeamChange,
) -> None:
    """Wrap every key version of ``case`` for ``member`` if ``actor`` holds the current one;
    otherwise record that the wrap is owed. Nothing when ``member`` is not owed the case in its
    state (a verifier, before vetting starts)."""
    if not _owed(member, case):
        return
    if holds_current_key(case, member):
        # Already reads it (named, or from before): they now hold it through the team as well.
        if not certified_only(CaseHeldViaTeam.objects.filter(case=case, member=member, team=team)):
            CaseHeldViaTeam.objects.filter(case=case, member=member, team=team).delete()
            _record(CaseHeldViaTeam(case=case, member=member, team=team))
        return
    if trusted_box_key(member) is None:
        # Moving a case gives the key to a whole team: one untrusted key must not stop the
        # others getting it (team_member_add refuses such a member before it gets here).
        logger.warning("Staff member %s: public key certificate does not hold; case key not given.", member.pk)
        return
    if actor is None or actor_private_key is None or not holds_current_key(case, actor):
        _owe(case, team, member, change)
        return
    try:
        services.case_member_add(
            case=case, actor=actor, actor_private_key=actor_private_key, member=member, via_team=team
        )
    except keys.NoAccess:  # the actor's key does not open it after all: someone else hands it on
        _owe(case, team, member, change)
        return
    change.wrapped.append(case.public_id)


def team_member_add(*, team: Team, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> TeamChange:
    """Put ``member`` in ``team`` and give them the key of every case of the team (or owe it)."""
    _coordinator_only(actor)
    if not member.is_active:
        raise TeamRefused(_("This account is disabled."))
    if _may_be_owed_team_keys(member) and trusted_box_key(member) is None:
        raise TeamRefused(services.untrusted_key_message())
    change = TeamChange()
    with transaction.atomic():
        if TeamMembership.objects.filter(team=team, member=member).exists():
            raise TeamRefused(_("This person is already in the team."))
        _record(TeamMembership(team=team, member=member))
        for case in _open_cases_locked(team):
            _give_key_or_owe_it(case, team, actor, actor_private_key, member, change)
        audit_record(
            actor=actor,
            action=Action.TEAM_MEMBER_ADD,
            details={
                "team": team.pk,
                "member": member.pk,
                "wrapped": len(change.wrapped),
                "pending": len(change.pending),
            },
        )
    return change


def _open_cases_locked(team: Team) -> QuerySet[Case]:
    """The team's cases a new member may be owed, locked in one order (closed cases are not:
    their work is done)."""
    return Case.objects.select_for_update().filter(team=team).exclude(status=Case.Status.CLOSED).order_by("pk")


def keys_owed_on_enrolment(joined: TeamJoined) -> None:
    """Registered with accounts.teams.team_joined_at_enrolment (team_joined_at_enrolment)."""
    team_joined_at_enrolment(team=joined.team, member=joined.member)


def team_joined_at_enrolment(*, team: Team, member: StaffMember) -> int:
    """``member`` has just joined ``team`` by signing up from an invitation (accounts.services.
    staff_enrol, in its transaction): record the keys of the team's open cases they are owed.
    They hold none, and nobody who does is at hand, so each is owed until a key holder hands it
    on ("Access waiting to be handed on"). Returns how many."""
    change = TeamChange()
    if not _may_be_owed_team_keys(member):
        return 0
    for case in _open_cases_locked(team):
        if not keys.case_trusted(case):  # changed outside the console: owes nobody anything
            logger.warning("case %s: certificate does not hold; no key recorded as owed", case.pk)
            continue
        _give_key_or_owe_it(case, team, None, None, member, change)
    return len(change.pending)


def vetting_started(*, case: Case, actor: StaffMember, actor_private_key: bytes | None) -> TeamChange:
    """Vetting has just started on ``case`` (locked and certified in its new state by the
    caller, casework.lifecycle.case_transition): the members of its team owed it only now, its
    verifiers, get the key. ``actor`` started it and holds the key: with their private key it is
    handed on at once; without it, each is owed until a key holder hands it on. Members owed it
    before (caseworkers, coordinators) are left as they are: one who is not holding it was taken
    off deliberately, or is owed it already."""
    change = TeamChange()
    if case.team_id is None:
        return change
    team = Team.objects.get(pk=case.team_id)
    for member in _team_readers(team):
        if permissions.can_read_new_cases(member):
            continue
        _give_key_or_owe_it(case, team, actor, actor_private_key, member, change)
    return change


def _in_team(member: StaffMember, team_id: int | None) -> bool:
    return team_id is not None and bool(certified_only(TeamMembership.objects.filter(team_id=team_id, member=member)))


def team_member_remove(*, team: Team, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> TeamChange:
    """Take ``member`` out of ``team`` and off every case they hold because of it, wherever the
    case is now, and off the team's cases they hold for no recorded reason; cases they are named
    on, or hold through the case's current team, are kept. One new key version per case left."""
    _coordinator_only(actor)
    change = TeamChange()
    with transaction.atomic():
        deleted, _rows = TeamMembership.objects.filter(team=team, member=member).delete()
        if not deleted:
            raise TeamRefused(_("This person is not in the team."))
        PendingWrap.objects.filter(team=team, member=member).delete()
        via_team = CaseHeldViaTeam.objects.filter(team=team, member=member).values("case_id")
        # Locked in one order, so two coordinators changing teams at once cannot deadlock.
        for case in Case.objects.select_for_update().filter(Q(team=team) | Q(pk__in=via_team)).order_by("pk"):
            CaseHeldViaTeam.objects.filter(case=case, member=member, team=team).delete()
            if not CaseKeyWrap.objects.filter(case_key__case=case, member=member).exists():
                continue
            if certified_only(CaseNamedMember.objects.filter(case=case, member=member)):
                change.kept_named.append(case.public_id)
                continue
            if (
                case.team_id is not None
                and _in_team(member, case.team_id)
                and certified_only(CaseHeldViaTeam.objects.filter(case=case, member=member, team_id=case.team_id))
            ):
                change.kept_other_team.append(case.public_id)
                continue
            try:
                opened = keys.case_private_keys(case, actor, actor_private_key)
            except keys.NoAccess:
                opened = {}
            new_key = services._case_rotate_without(case, member, opened)
            hooks.member_taken_off.run(hooks.MemberTakenOff(case=case, member=member, actor=actor, reason="team"))
            change.rotated.append(case.public_id)
            if not keys.current_holders(case):
                change.unreadable.append(case.public_id)
            audit_record(
                actor=actor,
                action=Action.CASE_MEMBER_REMOVE,
                case=case,
                details={"member": member.pk, "key_version": new_key.version, "reason": "team", "team": team.pk},
            )
        audit_record(
            actor=actor,
            action=Action.TEAM_MEMBER_REMOVE,
            details={"team": team.pk, "member": member.pk, "cases": len(change.rotated)},
        )
    return change


def case_team_assign(*, case: Case, team: Team, actor: StaffMember, actor_private_key: bytes) -> TeamChange:
    """Make ``team`` the case's team: its members get the key (or are owed it), keys owed to
    other teams' members are dropped, and whoever held the key only through another team is
    taken off with one new key version. Refused if nobody but the recovery key would be left."""
    _coordinator_only(actor)
    change = TeamChange()
    with transaction.atomic():
        locked = lock_case(case)
        if locked.team_id == team.pk:
            raise TeamRefused(_("The case is already with this team."))
        previous = locked.team_id
        change.pending_dropped, _rows = PendingWrap.objects.filter(case=locked).exclude(team=team).delete()
        keys.case_recertify(locked, team=team)
        services.case_revision_bump(locked)
        members = _team_readers(team)
        for member in members:
            _give_key_or_owe_it(locked, team, actor, actor_private_key, member, change)
        # Reasons that pointed at another team no longer hold: the case is not with it now.
        CaseHeldViaTeam.objects.filter(case=locked).exclude(team=team).delete()
        # Who stays is decided by certified reasons only: named on the case, or holding it
        # through the new team. Everyone else who holds a key leaves, whether their reason
        # pointed at another team or was removed from the database to keep them on.
        still_reason = {row.member_id for row in certified_only(CaseNamedMember.objects.filter(case=locked))}
        still_reason |= {row.member_id for row in certified_only(CaseHeldViaTeam.objects.filter(case=locked))}
        holding = set(
            CaseKeyWrap.objects.filter(case_key__case=locked).exclude(member=None).values_list("member_id", flat=True)
        )
        holding |= {member.pk for member in keys.current_holders(locked)}  # hidden wraps spare nobody
        leaving = list(StaffMember.objects.filter(pk__in=holding - still_reason).order_by("pk"))
        new_version = None
        if leaving:
            gone = {member.pk for member in leaving}
            if not any(holder.pk not in gone for holder in keys.current_holders(locked)):
                raise TeamRefused(
                    _(
                        "Moving the case would leave nobody able to read it: everyone who holds its key "
                        "holds it only through its current team. First add one of them to the new team, "
                        "or give someone the key by name on the case page."
                    )
                )
            try:
                opened = keys.case_private_keys(locked, actor, actor_private_key)
            except keys.NoAccess:
                opened = {}
            new_key = services._case_rotate_without_all(locked, leaving, opened)
            new_version = new_key.version
            change.rotated.append(locked.public_id)
            change.removed = [member.username for member in leaving]
            for member in leaving:
                audit_record(
                    actor=actor,
                    action=Action.CASE_MEMBER_REMOVE,
                    case=locked,
                    details={"member": member.pk, "key_version": new_version, "reason": "team", "team": previous},
                )
        in_team = {member.pk for member in members}
        change.others_holding = [holder.username for holder in keys.current_holders(locked) if holder.pk not in in_team]
        audit_record(
            actor=actor,
            action=Action.CASE_TEAM_ASSIGN,
            case=locked,
            details={
                "team": team.pk,
                "previous": previous,
                "pending": len(change.pending),
                "pending_dropped": change.pending_dropped,
                "removed": len(leaving),
                "key_version": locked.key_version,
            },
        )
    case.team = team
    case.certificate = locked.certificate
    case.key_version = locked.key_version
    case.details_key_version = locked.details_key_version
    case.revision = locked.revision
    return change


def _still_owed(pending: PendingWrap, case: Case) -> bool:
    """Whether an owed wrap still makes sense: made by the application (certified), for the
    team the case is with, to a member still in it (certified membership) and owed the case in
    its state. A row a database writer put in for anyone else (a non-member, a verifier before
    vetting, a member of another team) is not."""
    member = pending.member
    return (
        certified(pending)
        and pending.team_id == case.team_id
        and _in_team(member, pending.team_id)
        and _owed(member, case)
    )


def pending_wraps_visible_to(member: StaffMember, *, team: Team | None = None) -> list[PendingWrap]:
    """Owed wraps that could be handed on now, each with ``can_complete`` (``member`` holds
    the case's current key) and ``key_trusted`` (the recipient's key may be given one).
    Coordinators see all of them, to know which cases still wait for a key holder; everyone
    else sees only those they can complete (cases they already read). Rows that would not be
    handed on (see _still_owed; a case whose row does not hold its certificate; a member who
    holds the key already) are left out: pending_wraps_complete drops them."""
    holds = CaseKeyWrap.objects.filter(
        case_key__case=OuterRef("case"), case_key__version=OuterRef("case__key_version"), member=member
    )
    rows = PendingWrap.objects.select_related("case", "member", "team").annotate(can_complete=Exists(holds))
    if team is not None:
        rows = rows.filter(team=team)
    if not permissions.can_see_all_cases(member):
        rows = rows.filter(can_complete=True)
    listed: list[PendingWrap] = []
    for row in rows.order_by("-can_complete", "case__created_at", "pk"):
        if not keys.case_trusted(row.case) or not _still_owed(row, row.case):
            continue
        if holds_current_key(row.case, row.member):
            continue
        row.key_trusted = trusted_box_key(row.member) is not None  # type: ignore[attr-defined]  # for the callers
        listed.append(row)
    return listed


def keys_to_hand_on(member: StaffMember) -> int:
    """How many owed keys ``member`` could hand on now (the count in the navigation)."""
    if not permissions.can_see_case_list(member):
        return 0
    rows = PendingWrap.objects.filter(
        Exists(
            CaseKeyWrap.objects.filter(
                case_key__case=OuterRef("case"), case_key__version=OuterRef("case__key_version"), member=member
            )
        )
    )
    if not rows.exists():  # the common case: one query per page
        return 0
    return len([row for row in pending_wraps_visible_to(member) if row.can_complete and row.key_trusted])  # type: ignore[attr-defined]  # set above


def keys_owed_to(member: StaffMember) -> int:
    """How many case keys ``member`` waits for (their inbox says so, instead of only "No cases")."""
    rows = PendingWrap.objects.filter(member=member).select_related("case", "member")
    return sum(1 for row in rows if keys.case_trusted(row.case) and _still_owed(row, row.case))


def pending_wraps_complete(*, actor: StaffMember, actor_private_key: bytes) -> int:
    """Hand on every owed key ``actor`` holds. Owed wraps that no longer make sense are dropped:
    the case is no longer with that team, the member left the team, was disabled or changed to
    a role not owed the case in its state (a verifier once vetting is over), or the row was not
    made by the application. Returns how many members got a key."""
    done = 0
    with transaction.atomic():
        case_ids = PendingWrap.objects.values("case_id").distinct()
        for case in Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"):
            if not holds_current_key(case, actor) or not keys.case_trusted(case):
                continue
            owed = PendingWrap.objects.filter(case=case).select_related("case", "member", "team").order_by("pk")
            for pending in owed:
                member = pending.member
                if not _still_owed(pending, case) or holds_current_key(case, member):
                    pending.delete()
                    continue
                if trusted_box_key(member) is None:  # stays owed; a coordinator must look at it
                    logger.warning("Staff member %s: public key certificate does not hold; key still owed.", member.pk)
                    continue
                services.case_member_add(
                    case=case, actor=actor, actor_private_key=actor_private_key, member=member, via_team=pending.team
                )
                done += 1
        if done:
            audit_record(actor=actor, action=Action.PENDING_WRAPS_COMPLETE, details={"members": done})
    return done
