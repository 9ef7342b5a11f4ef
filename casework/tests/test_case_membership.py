"""Who holds a case's key: adding members, removing them (with key rotation), disabling accounts,
and what a coordinator sees of cases they cannot read."""

from __future__ import annotations

import pytest
from django.utils import translation

import sealbox
from accounts.keyring import staff_private_key_unlock
from accounts.models import Role, StaffMember
from audit.models import Action, AuditEntry
from casework import keys, services
from casework.models import Case, CaseKey, CaseKeyWrap, Message, MessageKey
from tests.personas import PASSWORD, PersonAtRisk, Staff, make_staff, open_case

CONTACT = "@contact-only-holders-see"


def _private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def _person_with_contact() -> PersonAtRisk:
    return open_case(body="The first words of the person.", contact_kind="signal", contact_value=CONTACT)


def _case_with_contact() -> Case:
    return _person_with_contact().case


def _remove(case: Case, actor: Staff, member: Staff) -> CaseKey:
    return services.case_member_remove(
        case=case, actor=actor.member, actor_private_key=_private_key(actor), member=member.member
    )


def _add(case: Case, actor: Staff, member: Staff) -> None:
    services.case_member_add(case=case, actor=actor.member, actor_private_key=_private_key(actor), member=member.member)


def _case_key_wrap_of(message: Message) -> MessageKey:
    return MessageKey.objects.select_related("case_key").get(message=message, case_key__isnull=False)


def test_a_member_added_later_reads_the_whole_history_across_key_versions(
    coordinator: Staff, caseworker: Staff, outsider: Staff
) -> None:
    person = open_case(body="Written under the first key.", contact_kind="signal", contact_value=CONTACT)
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    _add(person.case, coordinator, verifier)
    _remove(person.case, coordinator, verifier)  # version 2 exists now
    person.intake().post("/conversation/", {"message": "Written under the second key."})

    client = coordinator.console()
    response = client.post(f"/cases/{person.case.public_id}/members/", {"member": outsider.member.pk})
    assert response.status_code == 302

    versions = set(
        CaseKeyWrap.objects.filter(member=outsider.member, case_key__case=person.case).values_list(
            "case_key__version", flat=True
        )
    )
    assert versions == {1, 2}
    page = outsider.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "Written under the first key." in page
    assert "Written under the second key." in page
    assert CONTACT in page
    access = outsider.console(language="en").get(f"/cases/{person.case.public_id}/?section=access").content.decode()
    holders_section = access.split("Who can read this case", 1)[1].split("</ul>", 1)[0]
    assert "outsider" in holders_section and "verifier" not in holders_section
    entry = AuditEntry.objects.filter(action=Action.CASE_MEMBER_ADD).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (
        coordinator.member.pk,
        person.case.public_id,
        {"member": outsider.member.pk},
    )


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LOGISTICS])
def test_roles_without_need_to_know_cannot_be_given_a_case_key(
    coordinator: Staff, person: PersonAtRisk, role: str
) -> None:
    """Analysts never; logistics staff (who run the safe houses, T3) not before the case is
    verified: the person is still unvetted here (state "new")."""
    other = make_staff(f"a-{role}", role=role, invited_by=coordinator)
    with translation.override("en"), pytest.raises(services.MembershipRefused) as refused:
        _add(person.case, coordinator, other)
    if role == Role.LOGISTICS:
        assert str(refused.value) == "Logistics staff can be given a case only once it is verified."
    response = coordinator.console().post(f"/cases/{person.case.public_id}/members/", {"member": other.member.pk})
    assert response.status_code == 400
    assert not CaseKeyWrap.objects.filter(member=other.member).exists()


def test_someone_without_the_case_key_cannot_hand_it_out(
    coordinator: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    helper = make_staff("helper", invited_by=coordinator)
    with pytest.raises(keys.NoAccess):
        _add(person.case, outsider, helper)
    response = outsider.console().post(f"/cases/{person.case.public_id}/members/", {"member": helper.member.pk})
    assert response.status_code == 404
    assert not CaseKeyWrap.objects.filter(member__in=[helper.member, outsider.member]).exists()


def test_a_removed_member_cannot_open_anything_written_afterwards_with_any_key_they_kept(
    coordinator: Staff, caseworker: Staff
) -> None:
    # A second caseworker reads the case too, so removing the first does not leave the coordinator alone.
    make_staff("caseworker-two", invited_by=coordinator)
    person = _person_with_contact()
    case = person.case
    # Everything the caseworker could have copied while she held the key: her own private key
    # and every case private key her wraps opened.
    her_private_key = _private_key(caseworker)
    kept = keys.case_private_keys(case, caseworker.member, her_private_key)
    assert list(kept) == [CaseKey.objects.get(case=case, version=1).pk]

    response = coordinator.console().post(
        f"/cases/{case.public_id}/members/{caseworker.member.pk}/remove/", {"confirm": "on"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.key_version, case.details_key_version) == (2, 2)
    assert not CaseKeyWrap.objects.filter(member=caseworker.member).exists()
    assert CaseKeyWrap.objects.filter(case_key__case=case, case_key__version=2, for_recovery=True).exists()

    assert person.intake().post("/conversation/", {"message": "Written after she was removed."}).status_code == 302
    from_person = Message.objects.filter(case=case, sender=Message.Sender.PERSON).latest("created_at")
    from_staff = services.message_post_from_staff(
        case=case,
        member=coordinator.member,
        member_private_key=coordinator.private_key,
        signing_key=coordinator.signing_key,
        body="A reply after removal.",
    )
    for message in (from_person, from_staff):
        wrap = _case_key_wrap_of(message)
        assert wrap.case_key.version == 2
        for old_private_key in [*kept.values(), her_private_key]:
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old_private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(message.id))
    for old_private_key in kept.values():
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old_private_key, bytes(case.details_ct), ctx=keys.details_ctx(case))
    with pytest.raises(keys.NoAccess):
        keys.case_private_keys(case, caseworker.member, her_private_key)

    her_console = caseworker.console()
    assert her_console.get(f"/cases/{case.public_id}/").status_code == 404
    assert case.public_id not in her_console.get("/inbox/").content.decode()
    # The remaining holder still reads all of it, old and new, details included.
    page = coordinator.console().get(f"/cases/{case.public_id}/").content.decode()
    for text in ("The first words of the person.", "Written after she was removed.", "A reply after removal.", CONTACT):
        assert text in page
    entry = AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE).latest("sequence")
    assert entry.details == {"member": caseworker.member.pk, "key_version": 2}


def test_a_member_who_leaves_a_case_is_sent_to_the_inbox(coordinator: Staff, caseworker: Staff) -> None:
    case = _case_with_contact()
    response = caseworker.console().post(
        f"/cases/{case.public_id}/members/{caseworker.member.pk}/remove/", {"confirm": "on"}
    )
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    assert keys.current_holders(Case.objects.get(pk=case.pk)) == [coordinator.member]


def test_the_last_reader_of_a_case_cannot_be_removed(coordinator: Staff, caseworker: Staff) -> None:
    case = _case_with_contact()
    _remove(case, caseworker, caseworker)  # she leaves
    client = coordinator.console(language="en")
    response = client.post(f"/cases/{case.public_id}/members/{coordinator.member.pk}/remove/", {"confirm": "on"})
    assert response.status_code == 400
    assert "last person" in response.content.decode()
    case.refresh_from_db()
    assert case.key_version == 2 and keys.current_holders(case) == [coordinator.member]


def test_disabling_an_account_takes_it_off_every_case_and_rotates_each_key(
    coordinator: Staff, caseworker: Staff
) -> None:
    cases = [_case_with_contact(), _case_with_contact()]
    her_private_key = _private_key(caseworker)
    kept = [key for case in cases for key in keys.case_private_keys(case, caseworker.member, her_private_key).values()]
    client = coordinator.console()
    her_session = caseworker.console()

    confirm = client.get(f"/staff/{caseworker.member.pk}/disable/")
    assert confirm.status_code == 200 and "caseworker" in confirm.content.decode()
    assert StaffMember.objects.get(pk=caseworker.member.pk).is_active  # a GET changes nothing
    response = client.post(f"/staff/{caseworker.member.pk}/disable/")
    assert (response.status_code, response["Location"]) == (302, "/staff/")

    assert not StaffMember.objects.get(pk=caseworker.member.pk).is_active
    assert not CaseKeyWrap.objects.filter(member=caseworker.member).exists()
    for case in cases:
        case.refresh_from_db()
        assert (case.key_version, case.details_key_version) == (2, 2)
        message = services.message_post_from_staff(
            case=case,
            member=coordinator.member,
            member_private_key=coordinator.private_key,
            signing_key=coordinator.signing_key,
            body="After disabling.",
        )
        wrap = _case_key_wrap_of(message)
        for old in kept:
            with pytest.raises(sealbox.CryptoError):
                sealbox.unseal(old, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(message.id))
    disabled = AuditEntry.objects.get(action=Action.STAFF_DISABLE)
    assert disabled.details == {"member": caseworker.member.pk, "cases": 2, "teams": 1}
    assert AuditEntry.objects.filter(action=Action.CASE_MEMBER_REMOVE, details__reason="disabled").count() == 2
    assert her_session.get("/inbox/")["Location"] == "/login/"  # her open session ends
    with pytest.raises(AssertionError):  # and the real login view refuses her
        caseworker.console()


def test_disabling_rotates_cases_the_coordinator_cannot_read_and_the_rest_still_read_them(
    coordinator: Staff, caseworker: Staff
) -> None:
    case = _case_with_contact()
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    _add(case, caseworker, verifier)
    _remove(case, coordinator, coordinator)  # he leaves; version 2: caseworker and verifier only
    services.staff_disable(
        actor=coordinator.member, actor_private_key=_private_key(coordinator), member=caseworker.member
    )

    case.refresh_from_db()
    # The coordinator could not open the details, so they stay under version 2, which the
    # verifier still holds; the key for everything new is version 3.
    assert (case.key_version, case.details_key_version) == (3, 2)
    assert keys.current_holders(case) == [verifier.member]
    page = verifier.console().get(f"/cases/{case.public_id}/").content.decode()
    assert CONTACT in page and "The first words of the person." in page
    assert coordinator.console().get(f"/cases/{case.public_id}/").status_code == 404


def test_a_coordinator_cannot_disable_their_own_account(coordinator: Staff) -> None:
    response = coordinator.console().post(f"/staff/{coordinator.member.pk}/disable/")
    assert response.status_code == 400
    assert StaffMember.objects.get(pk=coordinator.member.pk).is_active


def test_coordinators_see_every_case_exists_but_only_the_triage_fields_of_cases_they_cannot_read(
    coordinator: Staff, caseworker: Staff
) -> None:
    readable = _case_with_contact()
    hidden = _case_with_contact()
    _remove(hidden, coordinator, coordinator)  # he leaves it
    Case.objects.filter(pk=hidden.pk).update(under_duress_since=hidden.created_at)

    page = coordinator.console(language="en").get("/all-cases/").content.decode()
    assert readable.public_id in page and hidden.public_id in page
    assert f'href="/cases/{readable.public_id}/"' in page
    assert f'href="/cases/{hidden.public_id}/"' not in page  # exists, but not theirs to open
    assert "DANGER-WORD LOGIN" in page
    assert CONTACT not in page and "Chechnya" not in page  # nothing decrypted here
    assert AuditEntry.objects.filter(action=Action.CASES_LIST_ALL, actor=coordinator.member).exists()
    assert caseworker.console().get("/all-cases/").status_code == 403
