"""Teams and need-to-know: joining a team gives the key of its cases (or owes it, until a key
holder hands it on), leaving it takes the key away and rotates it."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

import sealbox
from accounts.keyring import staff_private_key_unlock
from accounts.models import Role, Team
from audit.models import Action, AuditEntry
from casework import keys, services, teams
from casework.models import (
    Case,
    CaseHeldViaTeam,
    CaseKey,
    CaseKeyWrap,
    CaseNamedMember,
    Message,
    MessageKey,
    PendingWrap,
)
from core.certificates import certify
from tests.personas import PASSWORD, PersonAtRisk, Staff, open_case

CONTACT = "@contact-of-the-team-case"


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def _new_team(coordinator: Staff, name: str = "Team B", keep: tuple[Staff, ...] = ()) -> Team:
    """A new team; ``keep`` join it at once, so a case moved to it keeps them as readers (a
    move takes off whoever held the key only through the case's previous team)."""
    response = coordinator.console().post("/teams/", {"name": name})
    assert response.status_code == 302, response.content[:2000]
    team = Team.objects.get(name=name)
    assert response["Location"] == f"/teams/{team.pk}/"
    for member in keep:
        _join(coordinator, team, member)
    return team


def _move(coordinator: Staff, case: Case, team: Team) -> str:
    response = coordinator.console(language="en").post(f"/teams/{team.pk}/cases/", {"case": case.public_id})
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def _join(coordinator: Staff, team: Team, member: Staff) -> str:
    response = coordinator.console(language="en").post(f"/teams/{team.pk}/members/", {"member": member.member.pk})
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def _versions(member: Staff, case: Case) -> set[int]:
    return set(
        CaseKeyWrap.objects.filter(member=member.member, case_key__case=case).values_list(
            "case_key__version", flat=True
        )
    )


def test_joining_a_team_wraps_every_key_version_of_its_cases(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(body="Written under the first key.", contact_kind="signal", contact_value=CONTACT)
    team = _new_team(coordinator, keep=(coordinator, caseworker))
    _move(coordinator, person.case, team)
    services.case_member_remove(
        case=person.case,
        actor=caseworker.member,
        actor_private_key=_private_key(caseworker),
        member=caseworker.member,
    )  # she leaves the case: version 2 exists now
    person.intake().post("/conversation/", {"message": "Written under the second key."})

    page = _join(coordinator, team, outsider)

    assert "Given the case key now" in page and person.case.public_id in page
    assert _versions(outsider, person.case) == {1, 2}
    assert not CaseNamedMember.objects.filter(member=outsider.member).exists()  # there because of the team
    case_page = outsider.console().get(f"/cases/{person.case.public_id}/").content.decode()
    for text in ("Written under the first key.", "Written under the second key.", CONTACT):
        assert text in case_page
    entry = AuditEntry.objects.filter(action=Action.TEAM_MEMBER_ADD).latest("sequence")
    assert entry.details == {"team": team.pk, "member": outsider.member.pk, "wrapped": 1, "pending": 0}
    assert AuditEntry.objects.filter(action=Action.CASE_MEMBER_ADD, details__team=team.pk).count() == 1


def test_a_key_the_coordinator_does_not_hold_is_owed_until_a_holder_hands_it_on(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(contact_kind="signal", contact_value=CONTACT)
    services.case_member_remove(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=_private_key(coordinator),
        member=coordinator.member,
    )
    team = _new_team(coordinator, keep=(caseworker,))
    _move(coordinator, person.case, team)  # the caseworker holds it already: nothing owed

    page = _join(coordinator, team, outsider)

    assert "still need someone who does to hand it on" in page and person.case.public_id in page
    assert not _versions(outsider, person.case)
    assert PendingWrap.objects.filter(case=person.case, member=outsider.member, team=team).exists()
    overview = coordinator.console(language="en").get("/pending-keys/").content.decode()
    assert person.case.public_id in overview and "waiting for someone who holds the key" in overview
    assert "Hand on every key I hold" not in overview
    assert outsider.console().get(f"/cases/{person.case.public_id}/").status_code == 404

    holder = caseworker.console(language="en")
    listed = holder.get("/pending-keys/").content.decode()
    assert "outsider" in listed and "you hold this key" in listed
    response = holder.post("/pending-keys/")

    assert (response.status_code, response["Location"]) == (302, "/pending-keys/")
    assert _versions(outsider, person.case) == {1, 2}
    assert not PendingWrap.objects.exists()
    assert CONTACT in outsider.console().get(f"/cases/{person.case.public_id}/").content.decode()
    entry = AuditEntry.objects.filter(action=Action.PENDING_WRAPS_COMPLETE).latest("sequence")
    assert (entry.actor_id, entry.details) == (caseworker.member.pk, {"members": 1})


def test_someone_without_the_key_completes_nothing(coordinator: Staff, caseworker: Staff, outsider: Staff) -> None:
    person = open_case()
    services.case_member_remove(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=_private_key(coordinator),
        member=coordinator.member,
    )
    team = _new_team(coordinator, keep=(caseworker,))
    _move(coordinator, person.case, team)
    _join(coordinator, team, outsider)

    assert coordinator.console().post("/pending-keys/").status_code == 302

    assert PendingWrap.objects.filter(member=outsider.member).count() == 1
    assert not _versions(outsider, person.case)


def test_leaving_a_team_rotates_its_cases_so_nothing_new_opens_with_any_key_kept(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(body="The first words of the person.", contact_kind="signal", contact_value=CONTACT)
    case = person.case
    team = _new_team(coordinator, keep=(coordinator, caseworker))
    _move(coordinator, case, team)
    _join(coordinator, team, outsider)
    # Everything the outsider could have copied while in the team.
    her_private_key = _private_key(outsider)
    kept = keys.case_private_keys(case, outsider.member, her_private_key)
    assert list(kept) == [CaseKey.objects.get(case=case, version=1).pk]

    response = coordinator.console(language="en").post(f"/teams/{team.pk}/members/{outsider.member.pk}/remove/")

    assert response.status_code == 200
    assert "each with a new case key" in response.content.decode()
    case.refresh_from_db()
    assert (case.key_version, case.details_key_version) == (2, 2)
    assert not CaseKeyWrap.objects.filter(member=outsider.member).exists()
    assert not team.members.filter(pk=outsider.member.pk).exists()
    assert person.intake().post("/conversation/", {"message": "Written after she left."}).status_code == 302
    from_person = Message.objects.filter(case=case, sender=Message.Sender.PERSON).latest("created_at")
    from_staff = services.message_post_from_staff(
        case=case,
        member=coordinator.member,
        member_private_key=coordinator.private_key,
        signing_key=coordinator.signing_key,
        body="A reply after.",
    )
    for message in (from_person, from_staff):
        wrap = MessageKey.objects.select_related("case_key").get(message=message, case_key__isnull=False)
        assert wrap.case_key.version == 2
        for old in [*kept.values(), her_private_key]:
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(message.id))
    for old in kept.values():
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old, bytes(case.details_ct), ctx=keys.details_ctx(case))
    with pytest.raises(keys.NoAccess):
        keys.case_private_keys(case, outsider.member, her_private_key)
    assert outsider.console().get(f"/cases/{case.public_id}/").status_code == 404
    page = caseworker.console().get(f"/cases/{case.public_id}/").content.decode()
    assert "Written after she left." in page and CONTACT in page
    removed = AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).latest("sequence")
    assert removed.details == {"member": outsider.member.pk, "key_version": 2, "reason": "team", "team": team.pk}
    left = AuditEntry.objects.filter(action=Action.TEAM_MEMBER_REMOVE).latest("sequence")
    assert left.details == {"team": team.pk, "member": outsider.member.pk, "cases": 1}


def test_someone_also_named_on_the_case_keeps_it_when_leaving_the_team(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(contact_kind="signal", contact_value=CONTACT)
    team = _new_team(coordinator, keep=(coordinator, caseworker))
    _move(coordinator, person.case, team)
    _join(coordinator, team, outsider)
    named = coordinator.console().post(f"/cases/{person.case.public_id}/members/", {"member": outsider.member.pk})
    assert named.status_code == 400  # she already reads it: naming her needs her off it first
    services.case_member_remove(
        case=person.case, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    assert (
        coordinator.console()
        .post(f"/cases/{person.case.public_id}/members/", {"member": outsider.member.pk})
        .status_code
        == 302
    )
    version = Case.objects.get(pk=person.case.pk).key_version

    response = coordinator.console(language="en").post(f"/teams/{team.pk}/members/{outsider.member.pk}/remove/")

    assert "given their key by name" in response.content.decode()
    assert Case.objects.get(pk=person.case.pk).key_version == version
    assert CONTACT in outsider.console().get(f"/cases/{person.case.public_id}/").content.decode()


def test_leaving_a_team_takes_the_last_reader_off_and_says_only_the_recovery_key_is_left(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    team = _new_team(coordinator, keep=(coordinator, caseworker))
    _move(coordinator, person.case, team)
    _join(coordinator, team, outsider)
    for member in (coordinator, caseworker):  # each leaves the case
        services.case_member_remove(
            case=person.case, actor=member.member, actor_private_key=_private_key(member), member=member.member
        )

    response = coordinator.console(language="en").post(f"/teams/{team.pk}/members/{outsider.member.pk}/remove/")

    page = response.content.decode()
    assert "except with the organisation recovery key" in page and person.case.public_id in page
    case = Case.objects.get(pk=person.case.pk)
    assert keys.current_holders(case) == []
    assert CaseKeyWrap.objects.filter(
        case_key__case=case, case_key__version=case.key_version, for_recovery=True
    ).exists()


def test_moving_a_case_names_who_still_holds_its_key_outside_the_team(
    coordinator: Staff, caseworker: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    services.case_member_add(
        case=person.case, actor=caseworker.member, actor_private_key=_private_key(caseworker), member=outsider.member
    )  # named on the case: not a team's doing, so a move keeps her
    team = _new_team(coordinator, keep=(caseworker,))

    page = _move(coordinator, person.case, team)

    assert "Outside this team and still holding the case key" in page and "outsider" in page
    assert "held its key only through its previous team): coordinator" in page
    case = Case.objects.get(pk=person.case.pk)
    assert case.team_id == team.pk and case.key_version == 2
    assert {holder.username for holder in keys.current_holders(case)} == {"caseworker", "outsider"}
    entry = AuditEntry.objects.filter(action=Action.CASE_TEAM_ASSIGN).latest("sequence")
    assert entry.case_public_id == case.public_id and entry.details["team"] == team.pk
    assert (entry.details["removed"], entry.details["key_version"]) == (1, 2)


def _holds_any(staff: Staff, case: Case) -> bool:
    return CaseKeyWrap.objects.filter(member=staff.member, case_key__case=case).exists()


def _nothing_new_opens_for(staff: Staff, kept: dict[int, bytes], person: PersonAtRisk, writer: Staff) -> None:
    """Everything written after ``staff`` was taken off (by the person, by staff, the details)
    fails to open with their own private key and with every case key they could have copied."""
    case = Case.objects.get(pk=person.case.pk)
    own = _private_key(staff)
    with pytest.raises(keys.NoAccess):
        keys.case_private_keys(case, staff.member, own)
    assert person.intake().post("/conversation/", {"message": "Written after the change."}).status_code == 302
    from_person = Message.objects.filter(case=case, sender=Message.Sender.PERSON).latest("created_at")
    from_staff = services.message_post_from_staff(
        case=case,
        member=writer.member,
        signing_key=writer.signing_key,
        member_private_key=writer.private_key,
        body="A reply after the change.",
    )
    for message in (from_person, from_staff):
        wrap = MessageKey.objects.select_related("case_key").get(message=message, case_key__isnull=False)
        assert wrap.case_key.version == case.key_version and wrap.case_key.pk not in kept
        for old in [*kept.values(), own]:
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(message.id))
    assert case.details_key_version == case.key_version
    for old in [*kept.values(), own]:
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old, bytes(case.details_ct), ctx=keys.details_ctx(case))
    assert staff.console().get(f"/cases/{case.public_id}/").status_code == 404
    assert "Written after the change." in writer.console().get(f"/cases/{case.public_id}/").content.decode()


def test_a_key_owed_to_the_old_team_is_dropped_when_the_case_moves_away(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    """Security review F1: an owed wrap of team A must not be handed on once the case is with B."""
    person = open_case()
    case = person.case
    services.case_member_remove(
        case=case, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=coordinator.member
    )  # the coordinator leaves: he no longer holds the key, so adding to a team only owes it
    team_a = _new_team(coordinator, "Team A", keep=(caseworker,))
    team_b = _new_team(coordinator, "Team B", keep=(caseworker,))  # she is in both
    _move(coordinator, case, team_a)
    assert person.case.public_id in _join(coordinator, team_a, outsider)
    assert PendingWrap.objects.filter(case=case, member=outsider.member, team=team_a).exists()

    page = _move(coordinator, case, team_b)  # need-to-know changed; the outsider stays in team A only

    assert "no longer owed: 1" in page
    assert not PendingWrap.objects.filter(case=case).exists()
    entry = AuditEntry.objects.filter(action=Action.CASE_TEAM_ASSIGN).latest("sequence")
    assert (entry.details["previous"], entry.details["pending_dropped"]) == (team_a.pk, 1)
    assert caseworker.console().post("/pending-keys/").status_code == 302  # "Hand on every key I hold"
    assert not _holds_any(outsider, case)
    assert outsider.console().get(f"/cases/{case.public_id}/").status_code == 404


def _as_the_application_writes_it(row: PendingWrap) -> None:
    """An owed key recorded by some route other than the one under test (certified, as every
    row the application writes)."""
    certify(row)
    row.save()


def _team_set_by_the_application(case: Case, team: Team) -> None:
    """The case's team changed by a route other than case_team_assign (no rotation, owed keys
    left as they were), certified as the application certifies every change of the case row."""
    with transaction.atomic():
        keys.case_recertify(Case.objects.select_for_update().get(pk=case.pk), team=team)


@pytest.mark.parametrize("stale", ["case_moved", "left_team", "disabled", "role_changed"])
def test_handing_on_skips_and_drops_an_owed_key_that_no_longer_makes_sense(
    coordinator: Staff, caseworker: Staff, outsider: Staff, stale: str
) -> None:
    """Owed rows that got stale by any route (not only through case_team_assign) are dropped."""
    person = open_case()
    case = person.case
    team_a = _new_team(coordinator, "Team A", keep=(coordinator, caseworker))
    _move(coordinator, case, team_a)
    _join(coordinator, team_a, outsider)
    services.case_member_remove(
        case=case, actor=outsider.member, actor_private_key=_private_key(outsider), member=outsider.member
    )
    _as_the_application_writes_it(PendingWrap(case=case, member=outsider.member, team=team_a))
    if stale == "case_moved":
        _team_set_by_the_application(case, Team.objects.get(name="Documentation"))
    elif stale == "left_team":
        team_a.members.remove(outsider.member)
    elif stale == "disabled":
        type(outsider.member).objects.filter(pk=outsider.member.pk).update(is_active=False)
    else:
        type(outsider.member).objects.filter(pk=outsider.member.pk).update(role=Role.ANALYST)

    assert teams.pending_wraps_complete(actor=caseworker.member, actor_private_key=_private_key(caseworker)) == 0

    assert not PendingWrap.objects.exists()
    assert not _holds_any(outsider, case)


def test_handing_on_still_completes_a_key_owed_to_the_case_s_own_team(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    team_a = _new_team(coordinator, "Team A", keep=(coordinator, caseworker))
    _move(coordinator, person.case, team_a)
    _join(coordinator, team_a, outsider)
    services.case_member_remove(
        case=person.case, actor=outsider.member, actor_private_key=_private_key(outsider), member=outsider.member
    )
    _as_the_application_writes_it(PendingWrap(case=person.case, member=outsider.member, team=team_a))

    assert teams.pending_wraps_complete(actor=caseworker.member, actor_private_key=_private_key(caseworker)) == 1

    assert CaseHeldViaTeam.objects.filter(case=person.case, member=outsider.member, team=team_a).exists()
    assert not CaseNamedMember.objects.filter(member=outsider.member).exists()


def test_moving_a_case_takes_off_who_held_it_only_through_the_old_team(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    """Security review F2: a key obtained through team A does not survive the case moving to B."""
    person = open_case(contact_kind="signal", contact_value=CONTACT)
    case = person.case
    team_a = _new_team(coordinator, "Team A", keep=(coordinator, caseworker))
    team_b = _new_team(coordinator, "Team B", keep=(caseworker,))
    _move(coordinator, case, team_a)
    _join(coordinator, team_a, outsider)
    kept = keys.case_private_keys(case, outsider.member, _private_key(outsider))  # all she could copy

    page = _move(coordinator, case, team_b)

    assert "Taken off these cases, each with a new case key" in page and case.public_id in page
    moved = Case.objects.get(pk=case.pk)
    assert moved.key_version == 2
    assert {holder.username for holder in keys.current_holders(moved)} == {"caseworker"}
    assert not CaseHeldViaTeam.objects.filter(case=case).exclude(team=team_b).exists()
    assert CaseHeldViaTeam.objects.filter(case=case, member=caseworker.member, team=team_b).exists()
    removed = AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).order_by("sequence")
    assert {(entry.details["member"], entry.details["team"]) for entry in removed} == {
        (coordinator.member.pk, team_a.pk),
        (outsider.member.pk, team_a.pk),
    }
    _nothing_new_opens_for(outsider, kept, person, caseworker)
    # Leaving team A afterwards changes nothing more on the case.
    teams.team_member_remove(
        team=team_a, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    assert not _holds_any(outsider, case) and Case.objects.get(pk=case.pk).key_version == 2


def test_a_move_that_would_leave_nobody_reading_the_case_is_refused(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    team = _new_team(coordinator)  # nobody in it: everyone holds the key through the on-call team
    before = {holder.username for holder in keys.current_holders(person.case)}

    response = coordinator.console(language="en").post(f"/teams/{team.pk}/cases/", {"case": person.case.public_id})
    in_russian = coordinator.console(language="ru").post(f"/teams/{team.pk}/cases/", {"case": person.case.public_id})

    assert response.status_code == 400
    assert "Moving the case would leave nobody able to read it" in response.content.decode()
    assert in_russian.status_code == 400
    assert "После переноса кейс не сможет прочитать никто" in in_russian.content.decode()
    case = Case.objects.get(pk=person.case.pk)
    assert case.team_id == Team.objects.get(is_on_call=True).pk and case.key_version == 1
    assert {holder.username for holder in keys.current_holders(case)} == before
    assert not AuditEntry.objects.filter(action=Action.CASE_TEAM_ASSIGN).exists()


def test_leaving_a_team_takes_the_member_off_its_cases_wherever_they_are_now(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    """The case left team A by another route than a move (no rotation then): leaving team A
    still finds it, because the key was recorded as held through team A."""
    person = open_case()
    case = person.case
    team_a = _new_team(coordinator, "Team A", keep=(coordinator, caseworker))
    _move(coordinator, case, team_a)
    _join(coordinator, team_a, outsider)
    kept = keys.case_private_keys(case, outsider.member, _private_key(outsider))
    _team_set_by_the_application(case, Team.objects.get(name="Documentation"))

    change = teams.team_member_remove(
        team=team_a, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )

    assert change.rotated == [case.public_id]
    assert not _holds_any(outsider, case)
    _nothing_new_opens_for(outsider, kept, person, caseworker)


def test_joining_a_team_when_already_named_on_its_case_keeps_it_after_leaving(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(contact_kind="signal", contact_value=CONTACT)
    team = _new_team(coordinator, keep=(coordinator, caseworker))
    _move(coordinator, person.case, team)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    wraps = CaseKeyWrap.objects.filter(member=outsider.member).count()

    page = _join(coordinator, team, outsider)

    assert "Saved. No case key had to change." in page
    assert CaseKeyWrap.objects.filter(member=outsider.member).count() == wraps  # nothing wrapped twice
    assert CaseNamedMember.objects.filter(case=person.case, member=outsider.member).exists()
    assert CaseHeldViaTeam.objects.filter(case=person.case, member=outsider.member, team=team).exists()
    change = teams.team_member_remove(
        team=team, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    assert change.kept_named == [person.case.public_id] and not change.rotated
    assert Case.objects.get(pk=person.case.pk).key_version == 1
    assert CONTACT in outsider.console().get(f"/cases/{person.case.public_id}/").content.decode()


def test_a_member_of_two_teams_leaving_one_keeps_only_the_other_team_s_cases(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    first, second = open_case(), open_case()
    team_a = _new_team(coordinator, "Team A", keep=(coordinator, caseworker, outsider))
    team_b = _new_team(coordinator, "Team B", keep=(coordinator, caseworker, outsider))
    _move(coordinator, first.case, team_a)
    _move(coordinator, second.case, team_b)
    kept = keys.case_private_keys(first.case, outsider.member, _private_key(outsider))

    change = teams.team_member_remove(
        team=team_a, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )

    assert change.rotated == [first.case.public_id]
    _nothing_new_opens_for(outsider, kept, first, caseworker)
    assert _versions(outsider, second.case) == {1}
    assert outsider.console().get(f"/cases/{second.case.public_id}/").status_code == 200
    # A case of team B moving to team A (which she left) takes her off that one too.
    kept_second = keys.case_private_keys(second.case, outsider.member, _private_key(outsider))
    _move(coordinator, second.case, team_a)
    _nothing_new_opens_for(outsider, kept_second, second, caseworker)


def test_disabling_an_account_takes_it_off_every_case_whatever_the_reason(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    via_team, named = open_case(), open_case()
    team = _new_team(coordinator, keep=(coordinator, caseworker, outsider))
    _move(coordinator, via_team.case, team)
    services.case_member_add(
        case=named.case, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    kept = {
        person.case.pk: keys.case_private_keys(person.case, outsider.member, _private_key(outsider))
        for person in (via_team, named)
    }

    assert (
        services.staff_disable(
            actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
        )
        == 2
    )

    assert not CaseKeyWrap.objects.filter(member=outsider.member).exists()
    assert not CaseHeldViaTeam.objects.filter(member=outsider.member).exists()
    assert not CaseNamedMember.objects.filter(member=outsider.member).exists()
    outsider.member.refresh_from_db()
    for person in (via_team, named):
        case = Case.objects.get(pk=person.case.pk)
        opened = keys.case_private_keys(case, caseworker.member, _private_key(caseworker))
        assert case.key_version == 2 and keys.details_open(case, opened) is not None
        from_staff = services.message_post_from_staff(
            case=case,
            member=caseworker.member,
            signing_key=caseworker.signing_key,
            member_private_key=caseworker.private_key,
            body="After she was disabled.",
        )
        wrap = MessageKey.objects.get(message=from_staff, case_key__isnull=False)
        for old in [*kept[case.pk].values(), _private_key(outsider)]:
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(from_staff.id))
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old, bytes(case.details_ct), ctx=keys.details_ctx(case))
    # A later move does not hand anything to the disabled account either.
    teams.case_team_assign(
        case=named.case, team=team, actor=coordinator.member, actor_private_key=_private_key(coordinator)
    )
    assert not CaseKeyWrap.objects.filter(member=outsider.member).exists()


def test_existing_team_holders_are_recorded_as_holding_through_the_team(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    """Migration 0008: a team member holding a key of the team's case holds it through the team;
    holders outside the team get no reason recorded."""
    migration = importlib.import_module("casework.migrations.0008_mark_existing_team_holders")
    person = open_case()
    services.case_member_add(
        case=person.case, actor=caseworker.member, actor_private_key=_private_key(caseworker), member=outsider.member
    )
    CaseHeldViaTeam.objects.all().delete()

    # The models as they were at 0008 (teams were casework's then), over today's tables.
    state = MigrationExecutor(connection).loader.project_state(("casework", "0008_mark_existing_team_holders"))
    migration.mark(state.apps, None)

    on_call = Team.objects.get(is_on_call=True)
    assert set(CaseHeldViaTeam.objects.values_list("member__username", "team_id")) == {
        ("coordinator", on_call.pk),
        ("caseworker", on_call.pk),
    }


@pytest.mark.parametrize("name", ["Chechnya desk", "Грозный", "  СПб  группа "])
def test_a_team_name_that_names_a_place_is_refused(coordinator: Staff, name: str) -> None:
    response = coordinator.console(language="en").post("/teams/", {"name": name})

    assert response.status_code == 400
    assert "Do not name a place" in response.content.decode()
    assert not Team.objects.filter(name__icontains=name.strip()[:4]).exists()


def test_a_team_name_is_unique_and_kept_out_of_the_audit_log(coordinator: Staff) -> None:
    assert coordinator.console().post("/teams/", {"name": " Team  C "}).status_code == 302
    team = Team.objects.get(name="Team C")  # spaces collapsed
    response = coordinator.console(language="en").post("/teams/", {"name": "Team C"})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.TEAM_CREATE)
    assert entry.details == {"team": team.pk}


def test_only_coordinators_change_teams(coordinator: Staff, caseworker: Staff, outsider: Staff) -> None:
    team = Team.objects.get(name="Documentation")
    client = caseworker.console()
    assert client.get("/teams/").status_code == 403
    assert client.post(f"/teams/{team.pk}/members/", {"member": caseworker.member.pk}).status_code == 403
    assert client.post(f"/teams/{team.pk}/members/{outsider.member.pk}/remove/").status_code == 403
    assert team.members.filter(pk=outsider.member.pk).exists()
