"""Teams and need-to-know: who reads a case because of the team it belongs to.

A case's readers are the members of its team (given the key when they join the team, or when
the case is moved to the team) plus anyone named on the case page individually. Keys are only
ever wrapped by someone holding them: when the coordinator acting here does not hold a case's
key, the wrap is recorded as pending (PendingWrap) and any holder of the key completes it
later with one button (pending_wraps_complete).

Leaving a team takes the member off every case of the team they hold a key for, except cases
they were named on individually (CaseNamedMember): that naming was a separate decision, taken
on the case page, and is undone there. Each case they leave gets a new key version, so nothing
written afterwards opens with any key they kept. This succeeds even when they were the last
reader (only the recovery key is left, as when an account is disabled): keeping someone who
must go on a case is worse than a case that needs the recovery procedure. The result names
those cases.

Moving a case to another team gives the new team's members the key; it takes nobody off the
case. Whoever still holds the key without being in the new team is listed, to be removed on
the case page if they no longer need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys, services
from casework.models import Case, CaseKeyWrap, CaseNamedMember, PendingWrap, Team, TeamMembership
from vetting import services as vetting_services

TeamRefused = services.MembershipRefused


@dataclass
class TeamChange:
    """What a team change did to each case, by reference (for the coordinator's page)."""

    wrapped: list[str] = field(default_factory=list)  # given the key now
    pending: list[str] = field(default_factory=list)  # owed the key: a holder must hand it on
    rotated: list[str] = field(default_factory=list)  # taken off, new key version
    kept_named: list[str] = field(default_factory=list)  # named on the case individually: kept
    unreadable: list[str] = field(default_factory=list)  # nobody but the recovery key reads it now
    others_holding: list[str] = field(default_factory=list)  # holders outside the (new) team


def _coordinator_only(actor: StaffMember) -> None:
    if not actor.is_coordinator:
        raise TeamRefused(_("Only a coordinator can change teams."))


def team_create(*, actor: StaffMember, name: str) -> Team:
    _coordinator_only(actor)
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name)
            # The id only: a team's name may say where the organisation works.
            audit_record(actor=actor, action=Action.TEAM_CREATE, details={"team": team.pk})
    except IntegrityError:
        raise TeamRefused(_("A team with this name already exists.")) from None
    return team


def _holds_current_key(case: Case, member: StaffMember) -> bool:
    return CaseKeyWrap.objects.filter(case_key__case=case, case_key__version=case.key_version, member=member).exists()


def _give_key_or_owe_it(
    case: Case, team: Team, actor: StaffMember, actor_private_key: bytes, member: StaffMember, change: TeamChange
) -> None:
    """Wrap every key version of ``case`` for ``member`` if ``actor`` holds the current one;
    otherwise record that the wrap is owed."""
    if member.role not in services.CASE_READER_ROLES or _holds_current_key(case, member):
        return
    if not _holds_current_key(case, actor):
        PendingWrap.objects.get_or_create(case=case, member=member, defaults={"team": team})
        change.pending.append(case.public_id)
        return
    services.case_member_add(case=case, actor=actor, actor_private_key=actor_private_key, member=member, via_team=team)
    change.wrapped.append(case.public_id)


def team_member_add(*, team: Team, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> TeamChange:
    """Put ``member`` in ``team`` and give them the key of every case of the team (or owe it)."""
    _coordinator_only(actor)
    if not member.is_active:
        raise TeamRefused(_("This account is disabled."))
    change = TeamChange()
    with transaction.atomic():
        _membership, created = TeamMembership.objects.get_or_create(team=team, member=member)
        if not created:
            raise TeamRefused(_("This person is already in the team."))
        for case in Case.objects.select_for_update().filter(team=team).order_by("pk"):
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


def team_member_remove(*, team: Team, actor: StaffMember, actor_private_key: bytes, member: StaffMember) -> TeamChange:
    """Take ``member`` out of ``team`` and off its cases (except those they are named on), with
    a new key version for each case they leave."""
    _coordinator_only(actor)
    change = TeamChange()
    with transaction.atomic():
        deleted, _rows = TeamMembership.objects.filter(team=team, member=member).delete()
        if not deleted:
            raise TeamRefused(_("This person is not in the team."))
        PendingWrap.objects.filter(team=team, member=member).delete()
        # Locked in one order, so two coordinators changing teams at once cannot deadlock.
        for case in Case.objects.select_for_update().filter(team=team).order_by("pk"):
            if not CaseKeyWrap.objects.filter(case_key__case=case, member=member).exists():
                continue
            if CaseNamedMember.objects.filter(case=case, member=member).exists():
                change.kept_named.append(case.public_id)
                continue
            try:
                opened = keys.case_private_keys(case, actor, actor_private_key)
            except keys.NoAccess:
                opened = {}
            new_key = services._case_rotate_without(case, member, opened)
            vetting_services.sign_offs_withdraw_for_removed(case=case, member=member, actor=actor, reason="team")
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
    """Make ``team`` the case's team and give its members the key (or owe it to them)."""
    _coordinator_only(actor)
    change = TeamChange()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.team_id == team.pk:
            raise TeamRefused(_("The case is already with this team."))
        previous = locked.team_id
        locked.team = team
        locked.save(update_fields=["team"])
        services.case_revision_bump(locked)
        members = list(team.members.filter(is_active=True).order_by("pk"))
        for member in members:
            _give_key_or_owe_it(locked, team, actor, actor_private_key, member, change)
        in_team = {member.pk for member in members}
        change.others_holding = [holder.username for holder in keys.current_holders(locked) if holder.pk not in in_team]
        audit_record(
            actor=actor,
            action=Action.CASE_TEAM_ASSIGN,
            case=locked,
            details={"team": team.pk, "previous": previous, "pending": len(change.pending)},
        )
    case.team = team
    return change


def pending_wraps_visible_to(member: StaffMember) -> QuerySet[PendingWrap]:
    """Owed wraps, each with ``can_complete`` (``member`` holds the case's current key).
    Coordinators see all of them, to know which cases still wait for a key holder; everyone
    else sees only those they can complete (cases they already read)."""
    holds = CaseKeyWrap.objects.filter(
        case_key__case=OuterRef("case"), case_key__version=OuterRef("case__key_version"), member=member
    )
    rows = PendingWrap.objects.select_related("case", "member", "team").annotate(can_complete=Exists(holds))
    if not member.is_coordinator:
        rows = rows.filter(can_complete=True)
    return rows.order_by("-can_complete", "case__created_at", "pk")


def pending_wraps_complete(*, actor: StaffMember, actor_private_key: bytes) -> int:
    """Hand on every owed key ``actor`` holds. Owed wraps that no longer make sense (the member
    was disabled or changed role) are dropped. Returns how many members got a key."""
    done = 0
    with transaction.atomic():
        case_ids = PendingWrap.objects.values("case_id").distinct()
        for case in Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"):
            if not _holds_current_key(case, actor):
                continue
            for pending in PendingWrap.objects.filter(case=case).select_related("member", "team").order_by("pk"):
                member = pending.member
                if not member.is_active or member.role not in services.CASE_READER_ROLES:
                    pending.delete()
                    continue
                if _holds_current_key(case, member):
                    pending.delete()
                    continue
                services.case_member_add(
                    case=case, actor=actor, actor_private_key=actor_private_key, member=member, via_team=pending.team
                )
                done += 1
        if done:
            audit_record(actor=actor, action=Action.PENDING_WRAPS_COMPLETE, details={"members": done})
    return done
