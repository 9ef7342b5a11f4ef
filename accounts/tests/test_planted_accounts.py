"""A database writer (no instance secret, no password of anyone real) cannot make an account
whose replies the person trusts: login and every console request need keys the server
certified, and the server certifies a signing key only for an account it enrolled."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

import sealbox
from accounts import services as account_services
from accounts.keyring import apply_sealed_keys, staff_keys_create, staff_keys_unlock, trusted_signing_key
from accounts.models import Role, StaffMember
from audit.models import Action, AuditEntry
from casework.keys import current_case_key
from casework.models import CaseKeyWrap, Message
from tests.personas import CONSOLE, FaceClient, PersonAtRisk, Staff, totp_now

PLANTED_PASSWORD = "attacker password 123"


def _planted_account(*, with_signing_key: bool = False) -> StaffMember:
    """What a database writer can insert: a row with a password, sealed keys and (optionally)
    a signing key of their own, but no certificate (that needs the instance secret)."""
    planted = StaffMember(username="planted", role=Role.CASEWORKER, is_active=True)
    apply_sealed_keys(planted, staff_keys_create(PLANTED_PASSWORD))
    if not with_signing_key:
        planted.signing_public_key = planted.sealed_signing_key = None
    planted.set_password(PLANTED_PASSWORD)
    planted.save()
    return planted


GENERIC_FAILURE = "The handle, password or code is not right."


def _login(username: str, password: str, code: str) -> tuple[FaceClient, int]:
    """Log in; a refusal must look like any other failed login (no hint why)."""
    client = FaceClient(CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/login/", {"username": username, "password": password, "code": code})
    if response.status_code != 302:
        assert GENERIC_FAILURE in response.content.decode()
    return client, response.status_code


def test_server_certifies_no_signing_key_for_an_account_it_never_enrolled(coordinator: Staff) -> None:
    planted = _planted_account()
    unlocked = staff_keys_unlock(planted, PLANTED_PASSWORD)
    with pytest.raises(account_services.KeysNotProven):
        account_services.signing_key_add(member=planted, unlocked=unlocked)
    planted.refresh_from_db()
    assert planted.sealed_signing_key is None
    assert trusted_signing_key(planted) is None
    assert not AuditEntry.objects.filter(action=Action.SIGNING_KEY_CREATE, actor=planted).exists()


def test_an_account_whose_password_opens_another_key_gets_no_signing_key(coordinator: Staff) -> None:
    """A real, certified account whose sealed private key a database writer replaced with one
    sealed under a password of their choosing: the opened key is not the certified one."""
    member = coordinator.member
    forged = staff_keys_create(PLANTED_PASSWORD)
    member.sealed_private_key, member.key_salt = forged.sealed_private_key, forged.salt
    member.key_time_cost, member.key_memory_kib = forged.params.time_cost, forged.params.memory_kib
    member.sealed_signing_key = None
    member.save()
    with pytest.raises(account_services.KeysNotProven):
        account_services.signing_key_add(member=member, unlocked=staff_keys_unlock(member, PLANTED_PASSWORD))
    member.refresh_from_db()
    assert member.sealed_signing_key is None


def test_end_to_end_database_writer_cannot_plant_a_signed_reply(coordinator: Staff, person: PersonAtRisk) -> None:
    """Only database writes (an account row with a password and TOTP device the writer chose, a
    junk wrap row), then an ordinary login and reply: the login fails like any other."""
    planted = _planted_account()
    device = TOTPDevice.objects.create(user=planted, name="x", confirmed=True)
    CaseKeyWrap.objects.create(case_key=current_case_key(person.case), member=planted, sealed_private_key=b"junk")

    client, status = _login("planted", PLANTED_PASSWORD, totp_now(device))
    assert status == 400
    reply = client.post(f"/cases/{person.case.public_id}/reply/", {"body": "Come to the bus station at 9, alone."})
    assert reply.status_code == 302 and reply["Location"].startswith("/login/")
    assert not Message.objects.filter(author=planted).exists()
    assert "Come to the bus station" not in person.intake().get("/conversation/").content.decode()
    failed = AuditEntry.objects.filter(action=Action.LOGIN_FAILED).latest("pk")
    assert failed.actor is None and failed.details["stage"] == "keys"
    assert not AuditEntry.objects.filter(action=Action.LOGIN, actor=planted).exists()


def test_a_planted_account_with_its_own_signing_key_is_refused_too(coordinator: Staff) -> None:
    planted = _planted_account(with_signing_key=True)
    device = TOTPDevice.objects.create(user=planted, name="x", confirmed=True)
    _client, status = _login("planted", PLANTED_PASSWORD, totp_now(device))
    assert status == 400


def test_login_refused_when_the_public_key_was_swapped_in_the_database(caseworker: Staff) -> None:
    member = caseworker.member
    member.public_key = sealbox.KeyPair.generate().public_key
    member.save(update_fields=["public_key"])
    _client, status = _login(member.username, caseworker.password, caseworker.code())
    assert status == 400


def test_a_session_ends_when_the_accounts_certificate_stops_holding(caseworker: Staff) -> None:
    console = caseworker.console()
    assert console.get("/inbox/").status_code == 200
    StaffMember.objects.filter(pk=caseworker.member.pk).update(signing_key_certificate=b"\0" * 32)
    response = console.get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # The vault is gone: putting the certificate back does not bring the session back.
    StaffMember.objects.filter(pk=caseworker.member.pk).update(
        signing_key_certificate=caseworker.member.signing_key_certificate
    )
    assert console.get("/inbox/").status_code == 302


def test_an_enrolled_member_still_logs_in_and_replies(caseworker: Staff, person: PersonAtRisk) -> None:
    console = caseworker.console()
    response = console.post(f"/cases/{person.case.public_id}/reply/", {"body": "We read you."})
    assert response.status_code == 302
    assert "We read you." in person.intake().get("/conversation/").content.decode()
