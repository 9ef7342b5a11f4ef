"""The first night of a team: whoever joins a team after its cases arrived is owed their keys,
and a key holder sees that at once and hands them on (the server cannot: invariant 2). New
cases go to the on-call team's caseworkers and coordinators; its verifiers get a case's key
when vetting starts on it.

Attacker for the last tests: a database writer, who can insert and change rows but cannot
certify them (docs/crypto.md "Certified rows"). An owed-key row of theirs must get nobody a key:
handing on checks the row, the recipient's certified key and their certified membership and
role against the case's certified state, whatever the row says."""

from __future__ import annotations

from django.db import transaction

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role, StaffMember, Team, TeamMembership
from casework import keys, teams
from casework.lifecycle import State, case_transition
from casework.models import Case, CaseKeyWrap, PendingWrap
from core.certificates import certify
from tests.personas import PASSWORD, Staff, make_staff, open_case

NAV_BADGE = 'handed on <span class="badge'
FIRST_WORDS = "The first request of the night, written before any caseworker had an account."


def _holds(staff: Staff, case: Case) -> bool:
    return CaseKeyWrap.objects.filter(member=staff.member, case_key__case=case).exists()


def _transition(staff: Staff, case: Case, to_state: str) -> None:
    """Through the case page's form, as a caseworker does it."""
    case.refresh_from_db()
    response = staff.console().post(
        f"/cases/{case.public_id}/state/", {"to_state": to_state, "revision": str(case.revision)}
    )
    assert response.status_code == 302, response.content[:2000]


def test_a_caseworker_who_signs_up_after_the_first_case_is_handed_its_key(coordinator: Staff) -> None:
    person = open_case(body=FIRST_WORDS)  # the coordinator is the only one who reads it
    caseworker = make_staff("caseworker", invited_by=coordinator)  # signs up from her invitation

    assert not _holds(caseworker, person.case)
    newcomer = caseworker.console(language="en")
    inbox = newcomer.get("/inbox/").content.decode()
    assert person.case.public_id not in inbox
    assert "1 case of your team waits for a colleague who holds its key to hand it on to you." in inbox

    holder = coordinator.console(language="en")
    inbox = holder.get("/inbox/").content.decode()
    # The navigation counts it on every page, and the inbox says so in words.
    assert 'Access waiting to be handed on <span class="badge danger">1</span>' in inbox
    assert "A colleague is waiting for you to hand on 1 case key." in inbox
    listed = holder.get("/pending-keys/").content.decode()
    assert person.case.public_id in listed and "caseworker" in listed and "you hold this key" in listed

    response = holder.post("/pending-keys/", follow=True)

    assert "Case keys handed on: 1." in response.content.decode()
    assert not PendingWrap.objects.exists()
    assert "Nothing to hand on." in holder.get("/pending-keys/").content.decode()
    inbox = newcomer.get("/inbox/").content.decode()
    assert f"/cases/{person.case.public_id}/" in inbox and "waits for a colleague" not in inbox
    assert FIRST_WORDS in newcomer.get(f"/cases/{person.case.public_id}/").content.decode()


def test_joining_a_team_owes_its_open_cases_only(coordinator: Staff) -> None:
    open_person, closed_person = open_case(), open_case()
    case_transition(case=closed_person.case, member=coordinator.member, to_state=State.CLOSED, reason="duplicate")

    caseworker = make_staff("caseworker", invited_by=coordinator)

    owed = set(PendingWrap.objects.filter(member=caseworker.member).values_list("case__public_id", flat=True))
    assert owed == {open_person.case.public_id}


def test_a_verifier_reads_a_case_from_when_vetting_starts(coordinator: Staff, caseworker: Staff) -> None:
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    person = open_case(body=FIRST_WORDS)

    # New cases go to the on-call team's caseworkers and coordinators, not its verifiers.
    assert _holds(caseworker, person.case) and _holds(coordinator, person.case)
    assert not _holds(verifier, person.case)
    assert not PendingWrap.objects.exists()
    checking = verifier.console(language="en")
    assert checking.get(f"/cases/{person.case.public_id}/").status_code == 404
    assert person.case.public_id not in checking.get("/inbox/").content.decode()
    late_verifier = make_staff("verifier-late", role=Role.VERIFIER, invited_by=coordinator)
    assert not PendingWrap.objects.filter(member=late_verifier.member).exists()  # not owed a new case

    _transition(caseworker, person.case, State.TRIAGED)
    assert not _holds(verifier, person.case)
    _transition(caseworker, person.case, State.VETTING)  # she holds the key and hands it on

    assert _holds(verifier, person.case) and _holds(late_verifier, person.case)
    assert FIRST_WORDS in checking.get(f"/cases/{person.case.public_id}/").content.decode()
    assert f"/cases/{person.case.public_id}/" in checking.get("/inbox/").content.decode()


def test_a_verifier_is_owed_a_case_in_vetting_until_a_key_holder_hands_it_on(
    coordinator: Staff, caseworker: Staff
) -> None:
    person = open_case(body=FIRST_WORDS)
    case_transition(case=person.case, member=caseworker.member, to_state=State.TRIAGED)
    # Started by a route that has no private key at hand: the verifiers are owed it.
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    case_transition(case=person.case, member=caseworker.member, to_state=State.VETTING)
    assert PendingWrap.objects.filter(case=person.case, member=verifier.member).exists()
    # One who signs up while the case is being vetted is owed it too.
    second = make_staff("verifier-two", role=Role.VERIFIER, invited_by=coordinator)
    assert PendingWrap.objects.filter(case=person.case, member=second.member).exists()
    assert verifier.console().get(f"/cases/{person.case.public_id}/").status_code == 404

    holder = caseworker.console(language="en")
    listed = holder.get("/pending-keys/").content.decode()
    assert "verifier-two" in listed and "you hold this key" in listed
    holder.post("/pending-keys/")

    for staff in (verifier, second):
        assert FIRST_WORDS in staff.console().get(f"/cases/{person.case.public_id}/").content.decode()


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(StaffMember.objects.get(pk=staff.member.pk), PASSWORD)


def _planted(row: PendingWrap) -> PendingWrap:
    """Inserted by a database writer: no certificate (they do not hold the instance secret)."""
    row.save()
    return row


def test_a_planted_owed_key_for_an_outsider_is_not_listed_and_gets_nothing(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case()
    on_call = Team.objects.get(is_on_call=True)
    _planted(PendingWrap(case=person.case, member=outsider.member, team=on_call))
    # ... and a membership to go with it, uncertified as well.
    TeamMembership.objects.create(team=on_call, member=outsider.member)

    holder = coordinator.console(language="en")
    assert "outsider" not in holder.get("/pending-keys/").content.decode()
    assert NAV_BADGE not in holder.get("/inbox/").content.decode()

    assert teams.pending_wraps_complete(actor=coordinator.member, actor_private_key=_private_key(coordinator)) == 0
    assert not _holds(outsider, person.case)
    assert not PendingWrap.objects.exists()


def test_an_owed_key_a_writer_replays_for_a_verifier_before_vetting_gets_nothing(
    coordinator: Staff, caseworker: Staff
) -> None:
    """A certified row of the right shape (as one recorded earlier, kept and put back): the
    verifier is in the team, but the case is not being vetted, so it is owed nobody."""
    person = open_case()
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    row = PendingWrap(case=person.case, member=verifier.member, team=Team.objects.get(is_on_call=True))
    certify(row)
    row.save()

    assert "verifier" not in coordinator.console(language="en").get("/pending-keys/").content.decode()
    assert teams.pending_wraps_complete(actor=caseworker.member, actor_private_key=_private_key(caseworker)) == 0
    assert not _holds(verifier, person.case)
    assert not PendingWrap.objects.exists()


def test_an_owed_key_for_a_swapped_public_key_stays_owed_and_the_page_says_why(coordinator: Staff) -> None:
    person = open_case()
    caseworker = make_staff("caseworker", invited_by=coordinator)
    assert PendingWrap.objects.filter(case=person.case, member=caseworker.member).exists()
    # The writer puts a key of their own in place of hers.
    StaffMember.objects.filter(pk=caseworker.member.pk).update(public_key=b"\x07" * 32)

    holder = coordinator.console(language="en")
    listed = holder.get("/pending-keys/").content.decode()
    assert "This account's key cannot be trusted; ask a coordinator." in listed
    assert "Hand on every key I hold" not in listed
    assert NAV_BADGE not in holder.get("/inbox/").content.decode()

    holder.post("/pending-keys/")

    assert not CaseKeyWrap.objects.filter(member=caseworker.member).exists()
    assert PendingWrap.objects.filter(case=person.case, member=caseworker.member).exists()


def test_an_owed_key_for_someone_no_longer_in_the_team_gets_nothing(coordinator: Staff) -> None:
    person = open_case()
    caseworker = make_staff("caseworker", invited_by=coordinator)
    # The writer deletes her membership (keeping the owed row), or she was taken out of the
    # team by a route that left the row behind.
    TeamMembership.objects.filter(member=caseworker.member).delete()

    assert "caseworker" not in coordinator.console(language="en").get("/pending-keys/").content.decode()
    assert teams.pending_wraps_complete(actor=coordinator.member, actor_private_key=_private_key(coordinator)) == 0
    assert not _holds(caseworker, person.case)


def test_a_case_row_a_writer_moved_to_the_team_owes_a_newcomer_nothing(coordinator: Staff, outsider: Staff) -> None:
    """The outsider's team had no cases; the writer points one at it without a certificate."""
    person = open_case()
    documentation = Team.objects.get(name="Documentation")
    Case.objects.filter(pk=person.case.pk).update(team=documentation)

    newcomer = make_staff("newcomer", team=documentation, invited_by=coordinator)

    assert not PendingWrap.objects.filter(member=newcomer.member).exists()
    with transaction.atomic():
        assert not keys.case_trusted(Case.objects.get(pk=person.case.pk))
