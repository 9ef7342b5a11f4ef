"""No case key is ever sealed to a staff public key whose certificate fails.

The attacker here can write to the database but does not hold the instance secret: they
replace a member's X25519 public key with one of their own (an ORM update that bypasses every
service), hoping to be handed the keys of the cases created or shared with that member
afterwards. Explicit hand-overs refuse with a clear message; automatic ones (intake, key
rotation, moving a case, owed keys) leave that member out and go on for everyone else."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.utils import translation

import sealbox
from accounts.keyring import staff_private_key_unlock
from accounts.models import StaffMember, Team, TeamMembership
from casework import keys, services, teams
from casework.models import Case, CaseKeyWrap, PendingWrap
from core.certificates import certify
from tests.personas import PASSWORD, Staff, open_case

UNTRUSTED_EN = "This account&#x27;s key cannot be trusted; ask a coordinator."
UNTRUSTED_RU = "Ключу этой учётной записи нельзя доверять, обратитесь к координатору."
BODY = "They took my brother last night, the address is Lenina 12"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(StaffMember.objects.get(pk=staff.member.pk), PASSWORD)


def _swap_public_key(staff: Staff) -> sealbox.KeyPair:
    """What a database writer does: put in a key pair of their own, bypassing the services."""
    attacker = sealbox.KeyPair.generate()
    StaffMember.objects.filter(pk=staff.member.pk).update(public_key=attacker.public_key)
    staff.member.refresh_from_db()
    return attacker


def _versions(staff: Staff, case: Case) -> set[int]:
    return set(
        CaseKeyWrap.objects.filter(member=staff.member, case_key__case=case).values_list("case_key__version", flat=True)
    )


def _attacker_opens_any_wrap(attacker: sealbox.KeyPair, case: Case) -> bool:
    for wrap in CaseKeyWrap.objects.filter(case_key__case=case).select_related("case_key"):
        try:
            sealbox.unseal(
                attacker.private_key, bytes(wrap.sealed_private_key), ctx=keys.wrap_ctx(case, wrap.case_key.version)
            )
        except sealbox.CryptoError:
            continue
        return True
    return False


def test_intake_wraps_for_everyone_on_call_except_a_member_whose_key_was_swapped(
    coordinator: Staff, caseworker: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    attacker = _swap_public_key(caseworker)

    with caplog.at_level(logging.WARNING):
        person = open_case(body=BODY, contact_kind="signal", contact_value="@only-holders")

    assert _versions(coordinator, person.case) == {1}
    assert _versions(caseworker, person.case) == set()
    assert CaseKeyWrap.objects.filter(case_key__case=person.case, for_recovery=True).count() == 1
    assert not _attacker_opens_any_wrap(attacker, person.case)
    # The coordinator reads the case as usual.
    assert "@only-holders" in coordinator.console().get(f"/cases/{person.case.public_id}/").content.decode()
    warnings = [record.getMessage() for record in caplog.records if record.name == "casework.keys"]
    assert warnings == [
        f"Staff member {caseworker.member.pk}: public key certificate does not hold; no case key wrapped for them."
    ]
    assert not any(BODY in record.getMessage() or person.codename in record.getMessage() for record in caplog.records)


def test_giving_a_case_key_to_a_member_whose_key_was_swapped_is_refused(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    attacker = _swap_public_key(outsider)

    with pytest.raises(services.MembershipRefused, match="cannot be trusted"):
        services.case_member_add(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=_private_key(coordinator),
            member=outsider.member,
        )
    assert _versions(outsider, person.case) == set()
    with pytest.raises(keys.UntrustedKey):
        case_key = keys.current_case_key(person.case)
        opened = keys.case_private_keys(person.case, coordinator.member, _private_key(coordinator))
        keys.wrap_case_key_for(outsider.member, case_key, opened[case_key.pk])
    assert not _attacker_opens_any_wrap(attacker, person.case)


@pytest.mark.parametrize(("language", "message"), [("en", UNTRUSTED_EN), ("ru", UNTRUSTED_RU)])
def test_the_case_page_says_plainly_why_the_key_was_not_given(
    coordinator: Staff, caseworker: Staff, outsider: Staff, language: str, message: str
) -> None:
    person = open_case()
    _swap_public_key(outsider)

    response = coordinator.console(language=language).post(
        f"/cases/{person.case.public_id}/members/", {"member": outsider.member.pk}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert _versions(outsider, person.case) == set()


def test_a_key_and_certificate_copied_from_another_member_get_no_wrap(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    other = StaffMember.objects.get(pk=caseworker.member.pk)
    StaffMember.objects.filter(pk=outsider.member.pk).update(
        public_key=other.public_key, box_key_certificate=other.box_key_certificate
    )
    outsider.member.refresh_from_db()

    with pytest.raises(services.MembershipRefused, match="cannot be trusted"):
        services.case_member_add(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=_private_key(coordinator),
            member=outsider.member,
        )
    assert _versions(outsider, person.case) == set()


def test_a_key_rotation_leaves_out_a_holder_whose_key_was_swapped(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    attacker = _swap_public_key(outsider)

    new_key = services.case_member_remove(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=_private_key(coordinator),
        member=caseworker.member,
    )

    assert new_key.version == 2
    assert _versions(coordinator, person.case) == {1, 2}
    assert _versions(outsider, person.case) == {1}  # the wrap made while the key was genuine
    assert not _attacker_opens_any_wrap(attacker, person.case)


def test_a_team_refuses_a_member_whose_key_was_swapped_and_a_moved_case_skips_them(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    team = Team.objects.create(name="Team B")
    teams.team_member_add(
        team=team, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=outsider.member
    )
    _swap_public_key(outsider)
    late = StaffMember.objects.get(pk=caseworker.member.pk)

    with pytest.raises(teams.TeamRefused, match="cannot be trusted"):
        teams.team_member_add(
            team=Team.objects.create(name="Team C"),
            actor=coordinator.member,
            actor_private_key=_private_key(coordinator),
            member=outsider.member,
        )
    # Moving a case to Team B gives nobody but trusted keys the case key, and does not fail.
    teams.team_member_add(team=team, actor=coordinator.member, actor_private_key=_private_key(coordinator), member=late)
    services.case_member_remove(
        case=person.case,
        actor=caseworker.member,
        actor_private_key=_private_key(caseworker),
        member=caseworker.member,
    )
    change = teams.case_team_assign(
        case=person.case, team=team, actor=coordinator.member, actor_private_key=_private_key(coordinator)
    )

    assert person.case.public_id in change.wrapped
    # The move also rotates the key off those who held it only through the on-call team.
    assert _versions(caseworker, person.case) == {1, 2, 3}
    assert _versions(outsider, person.case) == set()


def test_an_owed_key_stays_owed_while_the_members_key_is_untrusted(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    team = Team.objects.get(is_on_call=True)
    # A member of the case's team, owed its key (rows as the application writes them,
    # certified): only the untrusted key keeps it owed.
    for row in (
        TeamMembership(team=team, member=outsider.member),
        PendingWrap(case=person.case, member=outsider.member, team=team),
    ):
        certify(row)
        row.save()
    _swap_public_key(outsider)

    done = teams.pending_wraps_complete(actor=coordinator.member, actor_private_key=_private_key(coordinator))

    assert done == 0
    assert PendingWrap.objects.filter(case=person.case, member=outsider.member).exists()
    assert _versions(outsider, person.case) == set()
