"""Scopes per role: which cases a member may know exist, never what is in them."""

from __future__ import annotations

import pytest

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role, Team
from audit.models import Action, AuditEntry
from casework import scopes, services
from casework.models import Case
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff, open_case

CONTACT = "@contact-nobody-outside-sees"
FIRST_WORDS = "The first words of the scoped person."


def _case() -> Case:
    return open_case(body=FIRST_WORDS, contact_kind="signal", contact_value=CONTACT).case


def _team_cases(staff: Staff) -> str:
    response = staff.console(language="en").get("/team-cases/")
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def _assert_no_content(page: str) -> None:
    for text in (CONTACT, FIRST_WORDS, "Chechnya", "Leave the region"):
        assert text not in page


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.COORDINATOR, scopes.Scope.ALL),
        (Role.CASEWORKER, scopes.Scope.TEAM),
        (Role.VERIFIER, scopes.Scope.TEAM),
        (Role.LOGISTICS, scopes.Scope.OWN),
        (Role.ANALYST, scopes.Scope.NONE),
    ],
)
def test_each_role_has_its_scope_and_a_disabled_account_has_none(coordinator: Staff, role: str, scope: str) -> None:
    member = make_staff(f"a-{role}", role=role, invited_by=coordinator).member
    assert scopes.scope_for(member) == scope
    member.is_active = False
    assert scopes.scope_for(member) == scopes.Scope.NONE


def test_a_caseworker_sees_her_teams_case_without_its_key_but_not_its_content(
    coordinator: Staff, caseworker: Staff
) -> None:
    case = _case()
    services.case_member_remove(  # she leaves the case
        case=case,
        actor=caseworker.member,
        actor_private_key=staff_private_key_unlock(caseworker.member, PASSWORD),
        member=caseworker.member,
    )
    Case.objects.filter(pk=case.pk).update(under_duress_since=case.created_at)

    page = _team_cases(caseworker)

    row = page.split(case.public_id, 1)[1].split("</tr>", 1)[0]
    assert "you do not hold its key" in row and "DANGER-WORD LOGIN" in row and "In danger now" in row and "New" in row
    assert f'href="/cases/{case.public_id}/"' not in page
    _assert_no_content(page)
    assert caseworker.console().get(f"/cases/{case.public_id}/").status_code == 404
    entry = AuditEntry.objects.filter(action=Action.CASES_LIST_SCOPE).latest("sequence")
    assert (entry.actor_id, entry.details) == (caseworker.member.pk, {"scope": "team"})


def test_a_case_of_another_team_is_invisible_to_a_caseworker(
    coordinator: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    page = _team_cases(outsider)  # the Documentation team has no case

    assert person.case.public_id not in page
    assert "No cases." in page


def test_a_verifier_who_joined_the_team_later_sees_the_case_exists(coordinator: Staff, person: PersonAtRisk) -> None:
    on_call = Team.objects.get(is_on_call=True)
    verifier = make_staff("verifier", role=Role.VERIFIER, team=on_call, invited_by=coordinator)

    page = _team_cases(verifier)

    assert person.case.public_id in page and f'href="/cases/{person.case.public_id}/"' not in page
    _assert_no_content(page)


def test_a_case_key_holder_outside_the_team_finds_it_on_her_list(
    coordinator: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    services.case_member_add(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=staff_private_key_unlock(coordinator.member, PASSWORD),
        member=outsider.member,
    )

    assert f'href="/cases/{person.case.public_id}/"' in _team_cases(outsider)


def test_logistics_in_the_team_sees_only_cases_it_holds_a_key_for(coordinator: Staff, person: PersonAtRisk) -> None:
    on_call = Team.objects.get(is_on_call=True)
    logistics = make_staff("logistics", role=Role.LOGISTICS, team=on_call, invited_by=coordinator)

    assert person.case.public_id not in _team_cases(logistics)


def test_analysts_see_no_case_list(coordinator: Staff, person: PersonAtRisk) -> None:
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    client = analyst.console(language="en")

    assert client.get("/team-cases/").status_code == 403
    assert "/team-cases/" not in client.get("/account/").content.decode()


def test_coordinators_see_every_team_s_cases(coordinator: Staff, outsider: Staff, person: PersonAtRisk) -> None:
    elsewhere = _case()
    Case.objects.filter(pk=elsewhere.pk).update(team=Team.objects.get(name="Documentation"))

    page = _team_cases(coordinator)

    assert person.case.public_id in page and elsewhere.public_id in page
    _assert_no_content(page)
