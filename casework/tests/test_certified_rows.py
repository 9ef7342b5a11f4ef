"""A database writer cannot redirect what is written next (invariant 8).

Attacker in every test here: someone who can write to the database alone (a restored dump with
changes, a database login, an injection), without the instance secret. They insert and change
rows as the tests do, straight through the ORM's ``create``/``update`` (which the application
never uses without certifying). Whatever they point a case at, nothing is sealed to a key of
theirs, no key is handed on because of a row of theirs, and a planted sign-off vouches for
nothing. Before the rows were certified, each of these tests failed: the reply, the person's
message, the new case or the next key version reached the attacker's key or member.
"""

from __future__ import annotations

import importlib
import io
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

import sealbox
from accounts import services as account_services
from accounts.models import RecoveryKey, Role, SignupLink, StaffMember, Team, TeamMembership
from audit.models import AuditEntry
from casework import keys, lifecycle, services, teams
from casework.lifecycle import ClosingReason, State, TransitionRefused
from casework.models import (
    Case,
    CaseHeldViaTeam,
    CaseKey,
    CaseKeyWrap,
    CaseStateChange,
    Message,
    MessageKey,
    PersonCredential,
)
from tests.personas import CONSOLE, INTAKE, PASSWORD, FaceClient, PersonAtRisk, Staff, make_staff, open_case
from vetting import services as vetting_services
from vetting.models import SignOff

ATTACKER = sealbox.KeyPair.generate()


def _opens_with_attacker_key(rows: Iterable[MessageKey]) -> list[MessageKey]:
    opened = []
    for row in rows:
        try:
            sealbox.unseal(ATTACKER.private_key, bytes(row.sealed_key), ctx=keys.message_key_ctx(row.message_id))
        except sealbox.CryptoError:
            continue
        opened.append(row)
    return opened


def _plant_credential(case: Case, *, lookup: str = "f" * 64) -> PersonCredential:
    return PersonCredential.objects.create(case=case, lookup_id=lookup, public_key=ATTACKER.public_key)


def _reply(staff: Staff, case: Case, body: str = "We are arranging a place for you.") -> Message:
    case.refresh_from_db()
    return services.message_post_from_staff(
        case=case, member=staff.member, member_private_key=staff.private_key, signing_key=staff.signing_key, body=body
    )


# --- replies: person credentials and Case.reply_credential -----------------------------------


def test_a_reply_is_never_sealed_to_a_credential_a_writer_planted_and_pointed_the_case_at(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    planted = _plant_credential(person.case)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)

    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)

    assert not _opens_with_attacker_key(MessageKey.objects.all())
    assert not Message.objects.filter(case=person.case, sender=Message.Sender.STAFF).exists()


def test_a_planted_credential_with_a_copied_case_certificate_gets_no_reply(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """The writer also gives the planted credential the certificate of the real one: it is
    bound to the real credential's lookup id and key, so it does not hold."""
    real = PersonCredential.objects.get(case=person.case, is_duress=False)
    planted = _plant_credential(person.case)
    PersonCredential.objects.filter(pk=planted.pk).update(certificate=real.certificate)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)

    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)
    assert not _opens_with_attacker_key(MessageKey.objects.all())


def test_a_reply_is_never_sealed_to_the_danger_phrase_credential(person: PersonAtRisk, caseworker: Staff) -> None:
    """Pointing replies at the duress credential would hand them to whoever forced the danger
    phrase out of the person."""
    duress = PersonCredential.objects.get(case=person.case, is_duress=True)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=duress)

    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)
    assert not MessageKey.objects.filter(credential=duress, message__sender=Message.Sender.STAFF).exists()


def test_the_danger_phrase_credential_cannot_be_relabelled_as_the_real_one(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    duress = PersonCredential.objects.get(case=person.case, is_duress=True)
    PersonCredential.objects.filter(pk=duress.pk).update(is_duress=False)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=duress)

    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)
    assert not MessageKey.objects.filter(credential=duress, message__sender=Message.Sender.STAFF).exists()


def test_a_held_reply_is_never_released_to_a_planted_credential(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    person.intake(duress=True)
    held = _reply(caseworker, person.case, "Held while under duress.")
    assert held.held
    planted = _plant_credential(person.case)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)

    with pytest.raises(keys.UntrustedRecord):
        services.message_release(
            case=Case.objects.get(pk=person.case.pk),
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            actor_signing_key=coordinator.signing_key,
            message_id=held.pk,
        )
    assert not _opens_with_attacker_key(MessageKey.objects.all())
    assert Message.objects.get(pk=held.pk).held


def test_a_credential_moved_to_another_case_opens_nothing(person: PersonAtRisk, other_person: PersonAtRisk) -> None:
    """Moving the person's credential under another case would let them, or whoever holds their
    phrase, log in to that case and write into it."""
    real = PersonCredential.objects.get(case=person.case, is_duress=False)
    PersonCredential.objects.filter(pk=real.pk).update(case=other_person.case)

    assert services.person_login(sealbox.normalise_codename(person.codename)) is None


def test_the_person_s_messages_under_duress_are_not_sealed_to_a_planted_credential(person: PersonAtRisk) -> None:
    person.intake(duress=True)
    _plant_credential(person.case)

    person.intake().post("/conversation/", {"message": "Written after the danger word."})

    assert Message.objects.filter(case=person.case, after_duress=True, is_decoy=False).exists()
    assert not _opens_with_attacker_key(MessageKey.objects.all())


# --- case key versions and wraps ----------------------------------------------------------------


def _plant_version(case: Case, *, wrap_for: StaffMember | None = None) -> CaseKey:
    """A new "current" version with the attacker's key, and a wrap of it sealed to a real
    member's genuine public key (all public inputs)."""
    version = case.key_version + 1
    planted = CaseKey.objects.create(case=case, version=version, public_key=ATTACKER.public_key)
    if wrap_for is not None:
        CaseKeyWrap.objects.create(
            case_key=planted,
            member=wrap_for,
            sealed_private_key=sealbox.seal(
                bytes(wrap_for.public_key), ATTACKER.private_key, ctx=keys.wrap_ctx(case, version)
            ),
        )
    Case.objects.filter(pk=case.pk).update(key_version=version)
    return planted


def test_the_person_s_next_message_is_not_sealed_to_a_planted_case_key(person: PersonAtRisk, caseworker: Staff) -> None:
    _plant_version(person.case, wrap_for=caseworker.member)
    before = Message.objects.filter(case=person.case).count()

    response = person.intake(language="en").post("/conversation/", {"message": "Where should I go tonight?"})

    assert response.status_code == 503
    assert "could not be sent right now" in response.content.decode()
    assert "Where should I go tonight?" in response.content.decode()  # what was typed is kept
    assert not _opens_with_attacker_key(MessageKey.objects.all())
    assert Message.objects.filter(case=person.case).count() == before


def test_a_staff_reply_is_not_sealed_to_a_planted_case_key_even_with_a_wrap_that_opens(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """The wrap the writer sealed to the caseworker's real key opens to the writer's private
    key, which does derive the planted public key: only the certificate tells them apart."""
    _plant_version(person.case, wrap_for=caseworker.member)

    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)
    assert not _opens_with_attacker_key(MessageKey.objects.all())


def test_a_case_pointed_back_at_an_older_version_seals_nothing_to_it(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    """A removed member kept version 1. Pointing the case back at it (a genuine, certified
    version) would let them read what comes next."""
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=verifier.member
    )
    services.case_member_remove(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=verifier.member
    )
    Case.objects.filter(pk=person.case.pk).update(key_version=1)
    sealed_to_v1 = MessageKey.objects.filter(case_key__case=person.case, case_key__version=1).count()

    response = person.intake().post("/conversation/", {"message": "Sealed to which key?"})

    assert response.status_code == 503
    with pytest.raises(keys.UntrustedRecord):
        _reply(caseworker, person.case)
    assert MessageKey.objects.filter(case_key__case=person.case, case_key__version=1).count() == sealed_to_v1


def test_a_planted_wrap_does_not_earn_the_next_key_version(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, outsider: Staff
) -> None:
    """A junk wrap row for a real member of another team would make the next rotation seal
    the new version to that member's genuine key."""
    current = keys.current_case_key(person.case)
    CaseKeyWrap.objects.create(case_key=current, member=outsider.member, sealed_private_key=b"junk")
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=verifier.member
    )

    new_key = services.case_member_remove(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=verifier.member
    )

    assert not CaseKeyWrap.objects.filter(case_key=new_key, member=outsider.member).exists()
    assert CaseKeyWrap.objects.filter(case_key=new_key, member=caseworker.member).exists()


# --- vetting sign-offs ----------------------------------------------------------------------------


def _to_vetting(person: PersonAtRisk, caseworker: Staff) -> None:
    for state in (State.TRIAGED, State.VETTING):
        case = Case.objects.get(pk=person.case.pk)
        lifecycle.case_transition(case=case, member=caseworker.member, to_state=state)


def test_a_planted_sign_off_does_not_count_toward_verification(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    verifiers = [make_staff(name, role=Role.VERIFIER, invited_by=coordinator) for name in ("vera", "viktor")]
    for verifier in verifiers:
        services.case_member_add(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            member=verifier.member,
        )
    _to_vetting(person, caseworker)
    case = Case.objects.get(pk=person.case.pk)
    vetting_services.sign_off_create(
        case=case,
        member=verifiers[0].member,
        member_private_key=verifiers[0].private_key,
        signing_key=verifiers[0].signing_key,
        reason="Interviewed twice.",
    )
    genuine = SignOff.objects.get(verifier=verifiers[0].member)
    # The second verifier never vouched: the writer inserts their sign-off (and copies the
    # genuine one's signature, which is bound to another row and verifier).
    SignOff.objects.create(
        case=case,
        verifier=verifiers[1].member,
        case_key=keys.current_case_key(case),
        reason_ct=b"",
        signature=genuine.signature,
    )

    with pytest.raises(TransitionRefused):
        lifecycle.case_transition(
            case=Case.objects.get(pk=person.case.pk), member=coordinator.member, to_state=State.VERIFIED
        )
    assert [s.verifier_id for s in vetting_services.standing_sign_offs(case)] == [verifiers[0].member.pk]


def test_a_sign_off_moved_in_time_stops_counting(person: PersonAtRisk, caseworker: Staff, coordinator: Staff) -> None:
    verifier = make_staff("vera", role=Role.VERIFIER, invited_by=coordinator)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=verifier.member
    )
    _to_vetting(person, caseworker)
    sign_off = vetting_services.sign_off_create(
        case=Case.objects.get(pk=person.case.pk),
        member=verifier.member,
        member_private_key=verifier.private_key,
        signing_key=verifier.signing_key,
        reason="ok",
    )
    assert vetting_services.standing_sign_offs(person.case) == [sign_off]

    SignOff.objects.filter(pk=sign_off.pk).update(signed_at=sign_off.signed_at.replace(microsecond=1))

    assert vetting_services.standing_sign_offs(person.case) == []


# --- account state ------------------------------------------------------------------------------


def _wrapped_for(member: StaffMember, case: Case) -> bool:
    return CaseKeyWrap.objects.filter(case_key__case=case, member=member).exists()


def test_a_disabled_account_turned_back_on_gets_no_new_case(coordinator: Staff, caseworker: Staff) -> None:
    services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )
    on_call = Team.objects.get(is_on_call=True)
    StaffMember.objects.filter(pk=caseworker.member.pk).update(is_active=True)
    TeamMembership.objects.get_or_create(team=on_call, member=caseworker.member)

    person = open_case(body="A new request after the account was switched back on.")

    assert not _wrapped_for(caseworker.member, person.case)
    assert _wrapped_for(coordinator.member, person.case)


def test_a_role_changed_in_the_database_gets_no_new_case(coordinator: Staff) -> None:
    on_call = Team.objects.get(is_on_call=True)
    analyst = make_staff("analyst", role=Role.ANALYST, team=on_call, invited_by=coordinator)
    StaffMember.objects.filter(pk=analyst.member.pk).update(role=Role.CASEWORKER)

    person = open_case(body="A new request after the role was changed.")

    assert not _wrapped_for(analyst.member, person.case)


def test_a_role_changed_in_the_database_is_not_given_a_case_by_a_holder(
    person: PersonAtRisk, coordinator: Staff
) -> None:
    analyst = make_staff("analyst", role=Role.ANALYST, invited_by=coordinator)
    StaffMember.objects.filter(pk=analyst.member.pk).update(role=Role.CASEWORKER)
    analyst.member.refresh_from_db()

    with pytest.raises(services.MembershipRefused):
        services.case_member_add(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            member=analyst.member,
        )
    assert not _wrapped_for(analyst.member, person.case)


def test_disabling_an_account_ends_its_team_memberships(coordinator: Staff, caseworker: Staff) -> None:
    assert TeamMembership.objects.filter(member=caseworker.member).exists()

    services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )

    assert not TeamMembership.objects.filter(member=caseworker.member).exists()


# --- teams, memberships, the recovery key, the case state -----------------------------------------


def test_a_planted_membership_of_the_on_call_team_gets_no_new_case(coordinator: Staff, outsider: Staff) -> None:
    TeamMembership.objects.create(team=Team.objects.get(is_on_call=True), member=outsider.member)

    person = open_case(body="A new request after the membership was planted.")

    assert not _wrapped_for(outsider.member, person.case)


def test_a_team_marked_on_call_in_the_database_gets_no_new_case(coordinator: Staff, outsider: Staff) -> None:
    documentation = Team.objects.get(name="Documentation")
    Team.objects.filter(is_on_call=True).update(is_on_call=False)
    Team.objects.filter(pk=documentation.pk).update(is_on_call=True)

    with pytest.raises(services.IntakeUnavailable):
        open_case(body="A new request after the on-call team was swapped.")
    assert not CaseKeyWrap.objects.filter(member=outsider.member).exists()


def test_a_recovery_key_swapped_in_the_database_gets_no_new_case(coordinator: Staff, caseworker: Staff) -> None:
    RecoveryKey.objects.update(public_key=ATTACKER.public_key)

    with pytest.raises(services.IntakeUnavailable):
        open_case(body="A new request after the recovery key was swapped.")
    for wrap in CaseKeyWrap.objects.filter(for_recovery=True):
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(ATTACKER.private_key, bytes(wrap.sealed_private_key), ctx=b"")


def test_a_case_set_to_verified_in_the_database_gets_no_logistics_reader(
    person: PersonAtRisk, coordinator: Staff
) -> None:
    """Skipping vetting this way would let a logistics member (and a safe-house address) reach
    an unvetted case: the state is certified with the case row."""
    logistics = make_staff("logistics", role=Role.LOGISTICS, invited_by=coordinator)
    Case.objects.filter(pk=person.case.pk).update(status=State.VERIFIED)

    with pytest.raises(keys.UntrustedRecord):
        services.case_member_add(
            case=Case.objects.get(pk=person.case.pk),
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            member=logistics.member,
        )
    assert not _wrapped_for(logistics.member, person.case)


def test_the_console_says_plainly_why_nothing_was_sent(person: PersonAtRisk, caseworker: Staff) -> None:
    planted = _plant_credential(person.case)
    Case.objects.filter(pk=person.case.pk).update(reply_credential=planted)
    client = caseworker.console(language="en")

    response = client.post(f"/cases/{person.case.public_id}/reply/", {"body": "Hello"})

    assert response.status_code == 409
    assert "changed outside the console" in response.content.decode()
    page = client.get(f"/cases/{person.case.public_id}/").content.decode()
    assert "RECORDS CHANGED OUTSIDE THE CONSOLE" in page


def test_a_danger_word_login_flags_a_case_even_when_its_row_was_changed(person: PersonAtRisk, outsider: Staff) -> None:
    """Marking duress never waits on a certificate: the alarm is what protects the person. The
    case stays refused for everything else."""
    Case.objects.filter(pk=person.case.pk).update(team=Team.objects.get(name="Documentation"))

    person.intake(duress=True)

    case = Case.objects.get(pk=person.case.pk)
    assert case.under_duress_since is not None
    assert not keys.case_trusted(case)


def test_a_danger_word_login_keeps_a_genuine_case_certified(person: PersonAtRisk, caseworker: Staff) -> None:
    person.intake(duress=True)

    case = Case.objects.get(pk=person.case.pk)
    assert case.under_duress_since is not None and keys.case_trusted(case)
    assert _reply(caseworker, case, "Held for now.").held


# --- sign-up links ---------------------------------------------------------------------------------


def test_a_sign_up_link_planted_in_the_database_makes_no_account(coordinator: Staff, caseworker: Staff) -> None:
    """The link decides the role and team of the account it makes: a planted one would give
    the writer a certified coordinator on the on-call team, wrapped every new case."""
    token = "writer-chosen-token-0123456789abcdef"
    SignupLink.objects.create(
        token_hash=SignupLink.hash_token(token),
        purpose=SignupLink.Purpose.INVITE,
        role=Role.COORDINATOR,
        team=None,
        expires_at=timezone.now() + timedelta(days=1),
    )

    page = FaceClient(CONSOLE).post(
        f"/signup/{token}/",
        {"username": "mallory", "password": PASSWORD, "password_again": PASSWORD, "channel": "none"},
    )

    assert page.status_code != 302
    assert not StaffMember.objects.filter(username="mallory").exists()
    with pytest.raises(account_services.LinkNotUsable):
        account_services.staff_enrol(token=token, username="mallory", password=PASSWORD)


def test_a_pending_invitation_changed_in_the_database_makes_no_account(coordinator: Staff) -> None:
    documentation = Team.objects.create(name="Documentation")
    token = account_services.signup_link_create(
        purpose=SignupLink.Purpose.INVITE, role=Role.ANALYST, team=documentation, created_by=coordinator.member
    )
    SignupLink.objects.filter(token_hash=SignupLink.hash_token(token)).update(
        role=Role.COORDINATOR, team=Team.objects.get(is_on_call=True)
    )

    with pytest.raises(account_services.LinkNotUsable):
        account_services.staff_enrol(token=token, username="ana", password=PASSWORD)
    assert not StaffMember.objects.filter(username="ana").exists()


# --- disabling an account never stops halfway, and always rotates --------------------------------


def _opens(private_key: bytes, message: Message) -> bool:
    wrap = MessageKey.objects.get(message=message, case_key__isnull=False)
    try:
        sealbox.unseal(private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(message.pk))
    except sealbox.CryptoError:
        return False
    return True


def _newest_from_person(person: PersonAtRisk, text: str) -> Message:
    person.intake().post("/conversation/", {"message": text})
    return Message.objects.filter(case=person.case, sender=Message.Sender.PERSON).order_by("-created_at").first()


def test_a_case_made_untrusted_for_the_moment_of_a_disabling_still_gets_a_new_key(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff
) -> None:
    """The writer breaks the case row just before a coordinator disables a turned caseworker,
    and puts it back just after (and points the case back at the version she kept): nothing
    is sealed to the key she kept."""
    original = Case.objects.get(pk=person.case.pk)
    Case.objects.filter(pk=original.pk).update(status=State.CLOSED)

    services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )

    assert Case.objects.get(pk=original.pk).key_version == 2  # a new version all the same
    sealed_to_v1 = MessageKey.objects.filter(case_key__case=original, case_key__version=1).count()
    Case.objects.filter(pk=original.pk).update(status=original.status)
    assert person.intake().post("/conversation/", {"message": "Still here."}).status_code == 503
    Case.objects.filter(pk=original.pk).update(key_version=1)  # the row now holds its old certificate
    assert keys.case_trusted(Case.objects.get(pk=original.pk))
    assert person.intake().post("/conversation/", {"message": "I moved to Lenina street."}).status_code == 503
    assert MessageKey.objects.filter(case_key__case=original, case_key__version=1).count() == sealed_to_v1


def test_wraps_hidden_for_the_moment_of_a_disabling_do_not_spare_the_case_a_new_key(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff
) -> None:
    kept = keys.current_key_open(Case.objects.get(pk=person.case.pk), caseworker.member, caseworker.private_key)
    hidden = list(CaseKeyWrap.objects.filter(case_key__case=person.case, member=caseworker.member).values())
    CaseKeyWrap.objects.filter(case_key__case=person.case, member=caseworker.member).delete()

    services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )

    for row in hidden:
        CaseKeyWrap.objects.create(**row)
    case = Case.objects.get(pk=person.case.pk)
    assert case.key_version == 2 and keys.case_trusted(case)
    assert not _opens(kept, _newest_from_person(person, "Written after the disabling."))


@pytest.mark.parametrize(
    "blocker", ["details_key_version", "planted_next_version", "broken_actor_wrap", "second_recovery_key"]
)
def test_a_row_changed_in_the_database_does_not_stop_a_disabling(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff, blocker: str
) -> None:
    """Each of these made disabling a turned caseworker fail with a server error, leaving her
    active and wrapped every new case."""
    if blocker == "details_key_version":
        Case.objects.filter(pk=person.case.pk).update(details_key_version=99)
    elif blocker == "planted_next_version":
        CaseKey.objects.create(case=person.case, version=2, public_key=ATTACKER.public_key)
    elif blocker == "broken_actor_wrap":
        CaseKeyWrap.objects.filter(case_key__case=person.case, member=coordinator.member).update(
            sealed_private_key=b"\1" * 80
        )
    else:
        RecoveryKey.objects.create(slot=2, public_key=ATTACKER.public_key)

    response = coordinator.console(language="en").post(f"/staff/{caseworker.member.pk}/disable/", {"confirm": "on"})

    assert response.status_code in (200, 302)
    assert not StaffMember.objects.get(pk=caseworker.member.pk).is_active
    assert not CaseKeyWrap.objects.filter(member=caseworker.member).exists()
    if blocker != "second_recovery_key":
        later = open_case(body="Another person writes in.")
        assert not CaseKeyWrap.objects.filter(case_key__case=later.case, member=caseworker.member).exists()


# --- sign-offs: withdrawn stays withdrawn, a new round starts afresh ----------------------------


def _vetting_with_two_verifiers(person: PersonAtRisk, caseworker: Staff, coordinator: Staff) -> tuple[Staff, Staff]:
    verifiers = (
        make_staff("vera", role=Role.VERIFIER, invited_by=coordinator),
        make_staff("viktor", role=Role.VERIFIER, invited_by=coordinator),
    )
    for verifier in verifiers:
        services.case_member_add(
            case=Case.objects.get(pk=person.case.pk),
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            member=verifier.member,
        )
    _to_vetting(person, caseworker)
    return verifiers


def _sign(person: PersonAtRisk, verifier: Staff) -> SignOff:
    return vetting_services.sign_off_create(
        case=Case.objects.get(pk=person.case.pk),
        member=verifier.member,
        member_private_key=verifier.private_key,
        signing_key=verifier.signing_key,
        reason="ok",
    )


def test_a_withdrawn_sign_off_does_not_count_again_when_its_withdrawal_is_cleared(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    vera, viktor = _vetting_with_two_verifiers(person, caseworker, coordinator)
    withdrawn = _sign(person, vera)
    vetting_services.sign_off_withdraw(case=person.case, member=vera.member, sign_off_id=withdrawn.pk)
    _sign(person, viktor)

    SignOff.objects.filter(pk=withdrawn.pk).update(withdrawn_at=None)

    with pytest.raises(TransitionRefused):
        lifecycle.case_transition(
            case=Case.objects.get(pk=person.case.pk), member=coordinator.member, to_state=State.VERIFIED
        )


def test_sign_offs_of_an_earlier_vetting_round_never_count_again(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    vera, viktor = _vetting_with_two_verifiers(person, caseworker, coordinator)
    _sign(person, vera)
    _sign(person, viktor)

    def move(staff: Staff, state: str, **more: object) -> None:
        lifecycle.case_transition(case=Case.objects.get(pk=person.case.pk), member=staff.member, to_state=state, **more)

    move(vera, State.VERIFIED)
    move(caseworker, State.CLOSED, reason=ClosingReason.values[0], member_private_key=caseworker.private_key)
    move(coordinator, State.TRIAGED)
    move(caseworker, State.VETTING)
    # The writer deletes the newest "entered vetting" row, so the first round looks current.
    CaseStateChange.objects.filter(case=person.case, to_state=State.VETTING).order_by("-at").first().delete()

    with pytest.raises(TransitionRefused):
        move(coordinator, State.VERIFIED)


# --- who leaves a moved case, who leaves an unverified one ------------------------------------------


def test_deleting_a_reason_row_does_not_keep_a_member_on_a_case_moved_to_another_team(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff
) -> None:
    team_b = teams.team_create(actor=coordinator.member, name="Team B")
    make_staff("bob", team=team_b, invited_by=coordinator)
    CaseHeldViaTeam.objects.filter(case=person.case, member=caseworker.member).delete()

    teams.case_team_assign(
        case=Case.objects.get(pk=person.case.pk),
        team=team_b,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
    )

    case = Case.objects.get(pk=person.case.pk)
    assert not CaseKeyWrap.objects.filter(
        case_key__case=case, case_key__version=case.key_version, member=caseworker.member
    ).exists()


def _verified_with_logistics(person: PersonAtRisk, caseworker: Staff, coordinator: Staff) -> Staff:
    """The case vetted by two verifiers, verified, and a logistics member given its key."""
    vera, viktor = _vetting_with_two_verifiers(person, caseworker, coordinator)
    logistics = make_staff("lena", role=Role.LOGISTICS, invited_by=coordinator)
    _sign(person, vera)
    _sign(person, viktor)
    lifecycle.case_transition(case=Case.objects.get(pk=person.case.pk), member=vera.member, to_state=State.VERIFIED)
    services.case_member_add(
        case=Case.objects.get(pk=person.case.pk),
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        member=logistics.member,
    )
    return logistics


def test_a_role_flipped_for_the_moment_of_closing_keeps_no_logistics_member_on_the_case(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    logistics = _verified_with_logistics(person, caseworker, coordinator)
    StaffMember.objects.filter(pk=logistics.member.pk).update(role=Role.CASEWORKER)
    lifecycle.case_transition(
        case=Case.objects.get(pk=person.case.pk),
        member=caseworker.member,
        to_state=State.CLOSED,
        reason=ClosingReason.values[0],
        member_private_key=caseworker.private_key,
    )
    StaffMember.objects.filter(pk=logistics.member.pk).update(role=Role.LOGISTICS)

    with pytest.raises(keys.NoAccess):
        keys.current_key_open(
            Case.objects.get(pk=person.case.pk),
            StaffMember.objects.get(pk=logistics.member.pk),
            logistics.private_key,
        )


# --- codenames: a burned one stays burned, a burn carries nothing planted --------------------------


def test_a_burned_codename_stays_burned_when_its_revocation_is_cleared(person: PersonAtRisk, caseworker: Staff) -> None:
    old_real = PersonCredential.objects.get(case=person.case, is_duress=False)
    still_open = person.intake()  # a session opened with the old codename before the burn
    services.codename_burn(
        case=Case.objects.get(pk=person.case.pk), actor=caseworker.member, actor_private_key=caseworker.private_key
    )

    PersonCredential.objects.filter(pk=old_real.pk).update(revoked_at=None)

    assert services.person_login(sealbox.normalise_codename(person.codename)) is None
    assert still_open.get("/conversation/").status_code == 302  # sent to the login
    still_open.post("/conversation/", {"message": "Meet me at the station at 9."})
    assert not MessageKey.objects.filter(credential=old_real, message__created_at__gt=old_real.created_at)[2:]


def test_a_burn_does_not_carry_a_captor_s_message_to_the_new_codename(person: PersonAtRisk, caseworker: Staff) -> None:
    captor = person.intake(duress=True)
    captor.post("/conversation/", {"message": "Written by whoever holds the phone."})
    captor_message = Message.objects.get(
        case=person.case, after_duress=True, is_decoy=False, sender=Message.Sender.PERSON
    )
    old_real = PersonCredential.objects.get(case=person.case, is_duress=False)
    MessageKey.objects.create(message=captor_message, credential=old_real, sealed_key=b"junk")

    issued = services.codename_burn(
        case=Case.objects.get(pk=person.case.pk), actor=caseworker.member, actor_private_key=caseworker.private_key
    )

    new_real = PersonCredential.objects.get(case=person.case, is_duress=False, revoked_at__isnull=True)
    assert not MessageKey.objects.filter(message=captor_message, credential=new_real).exists()
    client = FaceClient(INTAKE)
    assert client.post("/login/", {"codename": issued.codename}).status_code == 302
    assert "Written by whoever holds the phone." not in client.get("/conversation/").content.decode()


# --- the alarm and the person's first request -----------------------------------------------------


def test_a_second_recovery_key_row_does_not_crash_a_first_request(caseworker: Staff) -> None:
    RecoveryKey.objects.create(slot=2, public_key=ATTACKER.public_key)
    client = FaceClient(INTAKE)
    client.raise_request_exception = False
    client.get("/start/")

    response = client.post("/request/", {"urgency": "in_hiding", "region": "moscow", "message": "Please help."})

    assert response.status_code != 500


# --- nothing is sealed to a version someone who may no longer read the case holds -------------


def _kept_key(staff: Staff, person: PersonAtRisk) -> bytes:
    member = StaffMember.objects.get(pk=staff.member.pk)
    return keys.current_key_open(Case.objects.get(pk=person.case.pk), member, staff.private_key)


def _hide(queryset: Any) -> list[dict[str, Any]]:
    rows = list(queryset.values())
    queryset.delete()
    return rows


@pytest.mark.parametrize("blocker", ["details_ct", "details_key_version", "recovery_key"])
def test_a_disabled_member_reads_nothing_new_even_when_the_rotation_failed_during_the_disabling(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff, blocker: str
) -> None:
    """The writer makes the rotation fail for the moment of the disabling (a column that is
    not certified, or the recovery key's certificate broken), then puts everything back."""
    if blocker == "details_key_version":  # a case with two versions, as after any removal
        verifier = make_staff("vera", role=Role.VERIFIER, invited_by=coordinator)
        for change in (services.case_member_add, services.case_member_remove):
            change(
                case=Case.objects.get(pk=person.case.pk),
                actor=coordinator.member,
                actor_private_key=coordinator.private_key,
                member=verifier.member,
            )
    case = Case.objects.get(pk=person.case.pk)
    kept = _kept_key(caseworker, person)
    original_details = bytes(case.details_ct)
    recovery = RecoveryKey.objects.get(slot=1)
    if blocker == "details_ct":
        Case.objects.filter(pk=case.pk).update(details_ct=b"\x00" * 120)
    elif blocker == "details_key_version":
        Case.objects.filter(pk=case.pk).update(details_key_version=1)  # another version that exists
    else:
        RecoveryKey.objects.filter(pk=recovery.pk).update(certificate=b"\x00" * 32)

    coordinator.console(language="en").post(f"/staff/{caseworker.member.pk}/disable/", {"confirm": "on"})

    Case.objects.filter(pk=case.pk).update(details_ct=original_details, details_key_version=case.details_key_version)
    RecoveryKey.objects.filter(pk=recovery.pk).update(certificate=bytes(recovery.certificate))
    assert not _opens(kept, _newest_from_person(person, "I moved to the flat on Lenina street 4."))


def test_every_kind_of_row_hidden_at_once_does_not_spare_a_case_from_a_disabling(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff
) -> None:
    member = caseworker.member
    kept = _kept_key(caseworker, person)
    services.case_mark_read(case=Case.objects.get(pk=person.case.pk), member=member)
    _hide(CaseKeyWrap.objects.filter(member=member))
    _hide(CaseHeldViaTeam.objects.filter(member=member))
    _hide(TeamMembership.objects.filter(member=member))
    touched = list(AuditEntry.objects.filter(actor=member, case_public_id__isnull=False).values("pk", "case_public_id"))
    AuditEntry.objects.filter(pk__in=[row["pk"] for row in touched]).update(case_public_id=None)

    services.staff_disable(actor=coordinator.member, actor_private_key=coordinator.private_key, member=member)

    for row in touched:
        AuditEntry.objects.filter(pk=row["pk"]).update(case_public_id=row["case_public_id"])
    assert not _opens(kept, _newest_from_person(person, "Written after the disabling."))


def test_hidden_wraps_keep_no_logistics_member_on_a_case_that_left_verified(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    logistics = _verified_with_logistics(person, caseworker, coordinator)
    kept = _kept_key(logistics, person)
    _hide(CaseKeyWrap.objects.filter(case_key__case=person.case, member=logistics.member))

    lifecycle.case_transition(
        case=Case.objects.get(pk=person.case.pk),
        member=caseworker.member,
        to_state=State.CLOSED,
        reason=ClosingReason.values[0],
        member_private_key=caseworker.private_key,
    )
    lifecycle.case_transition(
        case=Case.objects.get(pk=person.case.pk), member=coordinator.member, to_state=State.TRIAGED
    )

    assert not _opens(kept, _newest_from_person(person, "They found the flat. I am at the bus station now."))


def test_hidden_wraps_keep_nobody_of_the_old_team_on_a_moved_case(
    person: PersonAtRisk, coordinator: Staff, caseworker: Staff
) -> None:
    team_b = teams.team_create(actor=coordinator.member, name="Team B")
    make_staff("bob", team=team_b, invited_by=coordinator)
    teams.team_member_add(
        team=team_b, actor=coordinator.member, actor_private_key=coordinator.private_key, member=coordinator.member
    )
    kept = _kept_key(caseworker, person)
    _hide(CaseKeyWrap.objects.filter(case_key__case=person.case, member=caseworker.member))

    teams.case_team_assign(
        case=Case.objects.get(pk=person.case.pk),
        team=team_b,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
    )

    assert not _opens(kept, _newest_from_person(person, "New number: +7 900 000 00 00"))


# --- revocations a writer undoes with the row's own earlier certificate ----------------------------


def test_a_disabled_account_put_back_with_its_own_earlier_certificate_stays_disabled(
    coordinator: Staff, caseworker: Staff
) -> None:
    """The writer read the account row and its membership before the disabling (every row is
    readable to them) and puts both back afterwards: the audit log still says disabled."""
    saved_certificate = bytes(StaffMember.objects.get(pk=caseworker.member.pk).account_certificate)
    saved_memberships = list(TeamMembership.objects.filter(member=caseworker.member).values())
    services.staff_disable(
        actor=coordinator.member, actor_private_key=coordinator.private_key, member=caseworker.member
    )
    StaffMember.objects.filter(pk=caseworker.member.pk).update(is_active=True, account_certificate=saved_certificate)
    for row in saved_memberships:
        TeamMembership.objects.create(**row)

    later = open_case(body="A new person writes in after the disabling.")

    assert not CaseKeyWrap.objects.filter(case_key__case=later.case, member=caseworker.member).exists()
    response = FaceClient(CONSOLE).post(
        "/login/", {"username": caseworker.member.username, "password": caseworker.password, "code": caseworker.code()}
    )
    assert response.status_code != 302


def test_a_burned_codename_put_back_with_its_own_earlier_certificate_stays_burned(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    old_real = PersonCredential.objects.get(case=person.case, is_duress=False)
    saved_certificate = bytes(old_real.certificate)
    services.codename_burn(
        case=Case.objects.get(pk=person.case.pk), actor=caseworker.member, actor_private_key=caseworker.private_key
    )

    PersonCredential.objects.filter(pk=old_real.pk).update(revoked_at=None, certificate=saved_certificate)

    assert services.person_login(sealbox.normalise_codename(person.codename)) is None


# --- the audit log, the on-call team, a login racing a change, sign-offs from before --------------


def test_an_audit_entry_at_the_largest_number_does_not_stop_staff_logging_in(coordinator: Staff) -> None:
    AuditEntry.objects.create(
        sequence=2**63 - 1, at=timezone.now(), action="login", details={}, previous_hash="0" * 64, entry_hash="e" * 64
    )

    response = FaceClient(CONSOLE).post(
        "/login/",
        {"username": coordinator.member.username, "password": coordinator.password, "code": coordinator.code()},
    )

    assert response.status_code == 302


def test_taking_the_on_call_flag_off_does_not_let_the_next_invitee_read_every_new_case(
    coordinator: Staff, caseworker: Staff
) -> None:
    hotline = Team.objects.get(is_on_call=True)
    Team.objects.filter(pk=hotline.pk).update(is_on_call=False, name="Hotline (old)")

    newcomer = make_staff("newcomer", role=Role.VERIFIER, invited_by=coordinator)

    assert not Team.objects.filter(is_on_call=True).exists()
    assert not TeamMembership.objects.filter(member=newcomer.member).exists()
    with pytest.raises(services.IntakeUnavailable):
        open_case(body="They took my brother.")


@pytest.mark.django_db(transaction=True)
def test_a_danger_word_login_racing_a_staff_change_leaves_the_case_certified(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """No tampering at all: a caseworker triages the case while someone logs in with the danger
    phrase. The login must wait for the row the change holds, so the certificate it writes for
    the duress time covers the new state too (before, the case was left refused for good)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL")
    locked, go = threading.Event(), threading.Event()

    def triage_slowly() -> None:
        try:
            with transaction.atomic():
                row = Case.objects.select_for_update().get(pk=person.case.pk)
                locked.set()
                go.wait(10)
                time.sleep(0.5)  # the login is by now waiting for the row (or has read it)
                keys.case_recertify(row, status=State.TRIAGED)
        finally:
            connection.close()

    other = threading.Thread(target=triage_slowly)
    other.start()
    assert locked.wait(10)
    go.set()
    assert services.person_login(
        sealbox.normalise_codename(services.duress_phrase(person.codename, person.duress_word))
    )
    other.join(10)

    case = Case.objects.get(pk=person.case.pk)
    assert case.under_duress_since is not None and case.status == State.TRIAGED
    assert keys.case_trusted(case)


def test_a_verifier_whose_sign_off_predates_signatures_can_sign_again(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    migration = importlib.import_module("vetting.migrations.0004_withdraw_unsigned_sign_offs")
    vera, _viktor = _vetting_with_two_verifiers(person, caseworker, coordinator)
    first = _sign(person, vera)
    SignOff.objects.filter(pk=first.pk).update(signature=None, certificate=None)  # as before the upgrade

    migration.withdraw_unsigned(django_apps, None)

    assert SignOff.objects.get(pk=first.pk).withdrawn_at is not None
    assert _sign(person, vera).pk != first.pk


def test_an_operator_vouches_for_a_case_row_again_after_review(person: PersonAtRisk, caseworker: Staff) -> None:
    """The way back for a case refused because its row was changed: after the change is
    understood and undone, the operator certifies the row again; shown first, audited."""
    Case.objects.filter(pk=person.case.pk).update(status=State.VERIFIED)
    Case.objects.filter(pk=person.case.pk).update(status=State.NEW)  # put back, but not certified
    Case.objects.filter(pk=person.case.pk).update(certificate=None)
    out = io.StringIO()

    call_command("case_recertify", person.case.public_id, stdout=out)
    assert "certificate holds: no" in out.getvalue() and "state: new" in out.getvalue()
    assert not keys.case_trusted(Case.objects.get(pk=person.case.pk))

    call_command("case_recertify", person.case.public_id, "--confirm", stdout=io.StringIO())
    assert keys.case_trusted(Case.objects.get(pk=person.case.pk))
    assert AuditEntry.objects.filter(action="case_recertify", case_public_id=person.case.public_id).exists()
    assert _reply(caseworker, person.case).sender == Message.Sender.STAFF
