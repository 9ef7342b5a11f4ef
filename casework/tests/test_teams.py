"""Teams and need-to-know: joining a team gives the key of its cases (or owes it, until a key
holder hands it on), leaving it takes the key away and rotates it."""

from __future__ import annotations

import pytest

import sealbox
from accounts.keyring import staff_private_key_unlock
from audit.models import Action, AuditEntry
from casework import keys, services
from casework.models import Case, CaseKey, CaseKeyWrap, CaseNamedMember, Message, MessageKey, PendingWrap, Team
from tests.personas import PASSWORD, PersonAtRisk, Staff, open_case

CONTACT = "@contact-of-the-team-case"


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def _new_team(coordinator: Staff, name: str = "Team B") -> Team:
    response = coordinator.console().post("/teams/", {"name": name})
    assert response.status_code == 302, response.content[:2000]
    team = Team.objects.get(name=name)
    assert response["Location"] == f"/teams/{team.pk}/"
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
    team = _new_team(coordinator)
    _move(coordinator, person.case, team)
    services.case_member_remove(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=_private_key(coordinator),
        member=caseworker.member,
    )  # version 2 exists now
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
        actor=caseworker.member,
        actor_private_key=_private_key(caseworker),
        member=coordinator.member,
    )
    team = _new_team(coordinator)
    _move(coordinator, person.case, team)  # nobody in the team yet: nothing owed

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
        actor=caseworker.member,
        actor_private_key=_private_key(caseworker),
        member=coordinator.member,
    )
    team = _new_team(coordinator)
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
    team = _new_team(coordinator)
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
    team = _new_team(coordinator)
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
    team = _new_team(coordinator)
    _move(coordinator, person.case, team)
    _join(coordinator, team, outsider)
    for member in (coordinator, caseworker):
        services.case_member_remove(
            case=person.case, actor=outsider.member, actor_private_key=_private_key(outsider), member=member.member
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
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    team = _new_team(coordinator)

    page = _move(coordinator, person.case, team)

    assert "Outside this team and still holding the case key" in page and "caseworker" in page
    case = Case.objects.get(pk=person.case.pk)
    assert case.team_id == team.pk and case.revision == 1
    entry = AuditEntry.objects.filter(action=Action.CASE_TEAM_ASSIGN).latest("sequence")
    assert entry.case_public_id == case.public_id and entry.details["team"] == team.pk


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
