"""Who may take someone off a case (T3, T12): a coordinator anyone, the case's caseworker only
verifiers and logistics staff, everyone else only themselves; never the last caseworker or
coordinator reading it, and never so that the one doing it is left as its only reader.

The attacker throughout is a turned staff member holding the case key who tries to make the case
theirs alone (take every other holder off, after which nobody could give the key back)."""

from __future__ import annotations

import html

import pytest
from django.utils import translation

from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import keys, services
from casework.lifecycle import State, case_transition
from casework.models import Case
from tests.personas import Staff, make_staff, open_case
from vetting import services as vetting_services

ROLE_REFUSED = "Your role cannot take other people off a case. Ask a coordinator or the case's caseworker."
ROLE_REFUSED_RU = (
    "Ваша роль не позволяет снимать других сотрудников с кейса. Обратитесь к координатору или куратору кейса."
)
RANK_REFUSED = "A caseworker can take only verifiers and logistics staff off a case. Ask a coordinator."
SOLE_REFUSED = "You would be the only one left who can read this case. Give someone else access to it first."
SOLE_REFUSED_RU = "Вы остались бы единственным, кто может читать этот кейс. Сначала дайте доступ к нему кому-то ещё."
LAST_READER_REFUSED = (
    "A caseworker or coordinator must keep reading this case: this is the last one. "
    "Give another caseworker or coordinator access first."
)


@pytest.fixture
def verifier(coordinator: Staff) -> Staff:
    return make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)


@pytest.fixture
def logistics(coordinator: Staff) -> Staff:
    return make_staff("logistics", role=Role.LOGISTICS, invited_by=coordinator)


@pytest.fixture
def second_caseworker(coordinator: Staff) -> Staff:
    return make_staff("caseworker-two", invited_by=coordinator)


@pytest.fixture
def case(coordinator: Staff, caseworker: Staff, verifier: Staff) -> Case:
    """Held by the on-call team's coordinator and caseworker, and the verifier the caseworker
    gave it to by name (verifiers are not given new cases)."""
    case = open_case(body="Please help me.").case
    services.case_member_add(
        case=case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=verifier.member
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def verified(case: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, logistics: Staff) -> Case:
    """The case vetted, verified and given to the logistics member by the caseworker."""
    case_transition(case=case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(case=case, member=caseworker.member, to_state=State.VETTING)
    for signer in (verifier, coordinator):
        vetting_services.sign_off_create(
            case=case,
            member=signer.member,
            member_private_key=signer.private_key,
            signing_key=signer.signing_key,
            reason="checked",
        )
    case_transition(case=case, member=verifier.member, to_state=State.VERIFIED)
    case.refresh_from_db()
    services.case_member_add(
        case=case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=logistics.member
    )
    case.refresh_from_db()
    return case


def _remove(case: Case, actor: Staff, member: Staff) -> None:
    services.case_member_remove(
        case=case, actor=actor.member, actor_private_key=actor.private_key, member=member.member
    )


def _refused(case: Case, actor: Staff, member: Staff) -> str:
    with translation.override("en"), pytest.raises(services.MembershipRefused) as refused:
        _remove(case, actor, member)
    return str(refused.value)


def _holders(case: Case) -> set[str]:
    return {holder.username for holder in keys.current_holders(Case.objects.get(pk=case.pk))}


def _nothing_changed(case: Case, holders: set[str], version: int) -> None:
    assert _holders(case) == holders
    assert Case.objects.get(pk=case.pk).key_version == version
    assert not AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE, case_public_id=case.public_id).exists()


def _post_remove(case: Case, actor: Staff, member: Staff, language: str) -> tuple[int, str]:
    response = actor.console(language=language).post(
        f"/cases/{case.public_id}/members/{member.member.pk}/remove/", {"confirm": "on"}
    )
    return response.status_code, response.content.decode()


def _holders_section(page: str) -> str:
    return html.unescape(page.split('id="holders"', 1)[1].split("</section>", 1)[0])


# --- refused ------------------------------------------------------------------------------------


def test_a_verifier_cannot_take_anyone_else_off_a_case(
    case: Case, coordinator: Staff, caseworker: Staff, verifier: Staff
) -> None:
    """Attacker: a turned verifier holding the key, trying to become the case's only reader."""
    for other in (caseworker, coordinator):
        assert _refused(case, verifier, other) == ROLE_REFUSED
    status, page = _post_remove(case, verifier, caseworker, "ru")
    assert status == 400
    assert ROLE_REFUSED_RU in _holders_section(page)
    _nothing_changed(case, {"coordinator", "caseworker", "verifier"}, 1)


def test_a_logistics_member_cannot_take_anyone_off_a_verified_case(
    verified: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, logistics: Staff
) -> None:
    """Attacker: a turned logistics member given the key of a verified case (where the safe-house
    address is), trying to shut the team out of it."""
    version = verified.key_version
    for other in (caseworker, coordinator, verifier):
        assert _refused(verified, logistics, other) == ROLE_REFUSED
    status, page = _post_remove(verified, logistics, caseworker, "en")
    assert status == 400 and ROLE_REFUSED in _holders_section(page)
    _nothing_changed(verified, {"coordinator", "caseworker", "verifier", "logistics"}, version)


@pytest.mark.parametrize("target", ["coordinator", "second_caseworker"])
def test_a_caseworker_cannot_take_a_coordinator_or_another_caseworker_off(
    request: pytest.FixtureRequest, case: Case, caseworker: Staff, target: str
) -> None:
    """Attacker: a turned caseworker removing the people above or beside her."""
    other: Staff = request.getfixturevalue(target)
    if target == "second_caseworker":
        services.case_member_add(
            case=case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=other.member
        )
    holders = _holders(case)
    assert _refused(case, caseworker, other) == RANK_REFUSED
    status, page = _post_remove(case, caseworker, other, "en")
    assert status == 400 and RANK_REFUSED in _holders_section(page)
    _nothing_changed(case, holders, 1)


def test_nobody_can_take_the_last_caseworker_or_coordinator_off_a_case(
    verified: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, logistics: Staff
) -> None:
    """Attacker: a staff member leaving a verifier and a logistics member as the only readers,
    so that nobody left can answer the person or act on a danger-word login."""
    _remove(verified, coordinator, coordinator)  # the coordinator leaves: the caseworker stays
    version = Case.objects.get(pk=verified.pk).key_version
    AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).delete()

    assert _refused(verified, caseworker, caseworker) == LAST_READER_REFUSED
    status, page = _post_remove(verified, caseworker, caseworker, "en")
    assert status == 400 and LAST_READER_REFUSED in _holders_section(page)
    _nothing_changed(verified, {"caseworker", "verifier", "logistics"}, version)


def test_a_coordinator_cannot_leave_as_the_last_caseworker_or_coordinator(
    case: Case, coordinator: Staff, caseworker: Staff, verifier: Staff
) -> None:
    _remove(case, caseworker, caseworker)
    version = Case.objects.get(pk=case.pk).key_version
    AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).delete()
    assert _refused(case, coordinator, coordinator) == LAST_READER_REFUSED
    _nothing_changed(case, {"coordinator", "verifier"}, version)


def test_a_coordinator_cannot_make_themselves_the_only_reader(coordinator: Staff, caseworker: Staff) -> None:
    """Attacker: a turned coordinator taking the last other holder off. (Disabling the account,
    which is audited and seen by everyone, stays the way to evict someone at once.)"""
    case = open_case(body="Please help me.").case
    assert _holders(case) == {"coordinator", "caseworker"}
    assert _refused(case, coordinator, caseworker) == SOLE_REFUSED
    status, page = _post_remove(case, coordinator, caseworker, "ru")
    assert status == 400 and SOLE_REFUSED_RU in _holders_section(page)
    _nothing_changed(case, {"coordinator", "caseworker"}, 1)


def test_a_caseworker_cannot_make_herself_the_only_reader(
    case: Case, coordinator: Staff, caseworker: Staff, verifier: Staff
) -> None:
    _remove(case, coordinator, coordinator)
    version = Case.objects.get(pk=case.pk).key_version
    AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).delete()
    assert _refused(case, caseworker, verifier) == SOLE_REFUSED
    _nothing_changed(case, {"caseworker", "verifier"}, version)


def test_a_member_without_the_key_cannot_take_anyone_off(case: Case, coordinator: Staff, outsider: Staff) -> None:
    with pytest.raises(keys.NoAccess):
        _remove(case, outsider, coordinator)
    status, _page = _post_remove(case, outsider, coordinator, "en")
    assert status == 404
    _nothing_changed(case, {"coordinator", "caseworker", "verifier"}, 1)


# --- allowed ------------------------------------------------------------------------------------


def test_a_coordinator_takes_a_caseworker_or_verifier_off_while_others_still_read_the_case(
    case: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, second_caseworker: Staff
) -> None:
    services.case_member_add(
        case=case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=second_caseworker.member
    )
    status, _page = _post_remove(case, coordinator, caseworker, "en")
    assert status == 302
    _remove(case, coordinator, verifier)
    assert _holders(case) == {"coordinator", "caseworker-two"}
    assert Case.objects.get(pk=case.pk).key_version == 3
    removed = AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).order_by("sequence")
    assert [(entry.actor_id, entry.details["member"]) for entry in removed] == [
        (coordinator.member.pk, caseworker.member.pk),
        (coordinator.member.pk, verifier.member.pk),
    ]


def test_the_cases_caseworker_takes_a_verifier_or_a_logistics_member_off(
    verified: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, logistics: Staff
) -> None:
    status, _page = _post_remove(verified, caseworker, logistics, "en")
    assert status == 302
    _remove(verified, caseworker, verifier)
    assert _holders(verified) == {"coordinator", "caseworker"}


def test_a_verifier_may_leave_a_case_a_caseworker_still_reads(case: Case, verifier: Staff) -> None:
    status, _page = _post_remove(case, verifier, verifier, "en")
    assert status == 302
    assert _holders(case) == {"coordinator", "caseworker"}


# --- what the case page offers -------------------------------------------------------------------


def _remove_forms(page: str) -> set[str]:
    section = _holders_section(page)
    return {part.split("/remove/", 1)[0] for part in section.split("/members/")[1:]}


def test_the_case_page_offers_only_the_removals_the_member_may_make(
    verified: Case, coordinator: Staff, caseworker: Staff, verifier: Staff, logistics: Staff
) -> None:
    def offered(staff: Staff) -> set[str]:
        page = staff.console(language="en").get(f"/cases/{verified.public_id}/?section=access").content.decode()
        return _remove_forms(page)

    ids = {staff.member.username: str(staff.member.pk) for staff in (coordinator, caseworker, verifier, logistics)}
    assert offered(verifier) == {ids["verifier"]}  # only leaving
    assert offered(logistics) == {ids["logistics"]}
    assert offered(caseworker) == {ids["caseworker"], ids["verifier"], ids["logistics"]}
    assert offered(coordinator) == set(ids.values())
