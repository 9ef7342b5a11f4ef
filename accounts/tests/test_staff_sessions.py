"""Staff sessions: idle timeout, lockout after failed logins, sign out everywhere, 2FA
recovery codes and password change (issue 3, "Staff sessions"; threat T12)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken

import sealbox
from accounts import services
from accounts.hashers import SafePassageArgon2Hasher
from accounts.keyring import staff_private_key_unlock
from accounts.models import RecoveryCode, StaffMember
from audit.chain import verify_chain
from audit.models import Action, AuditEntry
from core.vault import vault_cookie_name
from tests.personas import CONSOLE, FaceClient, PersonAtRisk, Staff

NEW_PASSWORD = "a completely different passphrase 77"
GENERIC_ERROR = "The handle, password or code is not right."


def _login(member_or_handle: Staff | str, *, password: str | None = None, code: str | None = None) -> Any:
    """One login attempt in English from a fresh browser; returns the response."""
    client = FaceClient(CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if isinstance(member_or_handle, Staff):
        handle = member_or_handle.member.username
        password = member_or_handle.password if password is None else password
        code = member_or_handle.code() if code is None else code
    else:
        handle = member_or_handle
    response = client.post("/login/", {"username": handle, "password": password or "", "code": code or "000000"})
    response.client = client
    return response


def _session_of(client: FaceClient) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def _drops_vault_cookie(response: Any) -> bool:
    cookie = response.cookies.get(vault_cookie_name())
    return cookie is not None and cookie.value == "" and str(cookie["max-age"]) == "0"


def _actions(action: Action) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("sequence"))


def _without_csrf(body: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body.decode())


# --- idle timeout ------------------------------------------------------------------------


def test_a_console_session_left_idle_past_its_expiry_is_logged_out_and_loses_its_vault_key(caseworker: Staff) -> None:
    client = caseworker.console()
    assert client.get("/inbox/").status_code == 200
    Session.objects.filter(pk=_session_of(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/inbox/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _drops_vault_cookie(response)
    assert vault_cookie_name() not in {name for name, morsel in client.cookies.items() if morsel.value}


def test_every_console_request_moves_the_idle_deadline_forward(caseworker: Staff, settings: Any) -> None:
    settings.SESSION_COOKIE_AGE = 600
    client = caseworker.console()
    Session.objects.filter(pk=_session_of(client).pk).update(expire_date=timezone.now() + timedelta(seconds=5))
    assert client.get("/inbox/").status_code == 200
    left = _session_of(client).expire_date - timezone.now()
    assert timedelta(seconds=590) < left <= timedelta(seconds=600)


def test_an_active_console_session_keeps_its_vault_key_cookie(caseworker: Staff) -> None:
    client = caseworker.console()
    response = client.get("/inbox/")
    assert response.status_code == 200 and vault_cookie_name() not in response.cookies


# --- lockout after failed logins ----------------------------------------------------------


@pytest.fixture
def lockout(settings: Any) -> Any:
    settings.SP_STAFF_LOGIN_FAILURES = 3
    settings.SP_STAFF_LOCKOUT_SECONDS = 100
    settings.SP_STAFF_LOCKOUT_MAX_SECONDS = 300
    return settings


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_password(
    caseworker: Staff, lockout: Any
) -> None:
    for _ in range(3):
        assert _login(caseworker, password="wrong password").status_code == 400
    response = _login(caseworker)
    assert response.status_code == 400 and GENERIC_ERROR in response.content.decode()
    member = StaffMember.objects.get(pk=caseworker.member.pk)
    assert member.is_locked()
    assert timedelta(seconds=95) < member.locked_until - timezone.now() <= timedelta(seconds=100)
    locked = _actions(Action.ACCOUNT_LOCKED)
    assert len(locked) == 1 and locked[0].details == {"member": member.pk, "seconds": 100}
    assert _actions(Action.LOGIN_FAILED)[-1].details["stage"] == "locked"
    assert verify_chain().intact


def test_wrong_authenticator_codes_count_towards_the_lockout(caseworker: Staff, lockout: Any) -> None:
    for _ in range(3):
        assert _login(caseworker, code="000000").status_code == 400
    assert StaffMember.objects.get(pk=caseworker.member.pk).is_locked()
    assert _login(caseworker).status_code == 400


def test_a_successful_login_resets_the_count_of_failures(caseworker: Staff, lockout: Any) -> None:
    for _ in range(2):
        _login(caseworker, password="wrong password")
    assert _login(caseworker).status_code == 302
    for _ in range(2):
        _login(caseworker, password="wrong password")
    assert not StaffMember.objects.get(pk=caseworker.member.pk).is_locked()
    assert _login(caseworker).status_code == 302


def test_each_further_lock_lasts_twice_as_long_up_to_the_cap(caseworker: Staff, lockout: Any) -> None:
    lengths = []
    for _ in range(3):
        for _ in range(3):
            _login(caseworker, password="wrong password")
        member = StaffMember.objects.get(pk=caseworker.member.pk)
        lengths.append(round((member.locked_until - timezone.now()).total_seconds() / 10) * 10)
        # The lock runs out (as if its time had passed); the next failures lock it again.
        StaffMember.objects.filter(pk=member.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert lengths == [100, 200, 300]


def test_a_lock_that_has_run_out_lets_the_member_in_again(caseworker: Staff, lockout: Any) -> None:
    for _ in range(3):
        _login(caseworker, password="wrong password")
    StaffMember.objects.filter(pk=caseworker.member.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert _login(caseworker).status_code == 302


@pytest.fixture
def hasher_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Counts runs of the real password hasher (it still does its work)."""
    runs: list[str] = []
    verify, encode = SafePassageArgon2Hasher.verify, SafePassageArgon2Hasher.encode

    def counted_verify(self: Any, password: str, encoded: str) -> bool:
        runs.append("verify")
        return verify(self, password, encoded)

    def counted_encode(self: Any, password: str, salt: str) -> str:
        runs.append("encode")
        return encode(self, password, salt)

    monkeypatch.setattr(SafePassageArgon2Hasher, "verify", counted_verify)
    monkeypatch.setattr(SafePassageArgon2Hasher, "encode", counted_encode)
    yield runs


def test_an_unknown_handle_a_locked_account_and_a_wrong_password_look_and_work_the_same(
    caseworker: Staff, lockout: Any, hasher_runs: list[str]
) -> None:
    wrong = _login(caseworker, password="wrong password", code="123456")
    runs_wrong = len(hasher_runs)
    unknown = _login("nobody.here", password="wrong password", code="123456")
    runs_unknown = len(hasher_runs) - runs_wrong
    for _ in range(2):
        _login(caseworker, password="wrong password", code="123456")
    before = len(hasher_runs)
    locked = _login(caseworker, password="wrong password", code="123456")
    runs_locked = len(hasher_runs) - before
    assert runs_wrong == runs_unknown == runs_locked == 1
    assert wrong.status_code == unknown.status_code == locked.status_code == 400
    # The pages differ only in the handle typed back into the form.
    pages = [
        _without_csrf(r.content).replace(h, "HANDLE")
        for r, h in ((wrong, "caseworker"), (unknown, "nobody.here"), (locked, "caseworker"))
    ]
    assert pages[0] == pages[1] == pages[2]
    assert GENERIC_ERROR in wrong.content.decode()


def test_a_coordinator_unlocks_a_locked_account_from_the_staff_page(
    coordinator: Staff, caseworker: Staff, lockout: Any
) -> None:
    for _ in range(3):
        _login(caseworker, password="wrong password")
    console = coordinator.console(language="en")
    page = console.get("/staff/").content.decode()
    assert f'name="unlock" value="{caseworker.member.pk}"' in page
    response = console.post("/staff/", {"unlock": str(caseworker.member.pk)})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert not StaffMember.objects.get(pk=caseworker.member.pk).is_locked()
    unlocked = _actions(Action.ACCOUNT_UNLOCK)
    assert len(unlocked) == 1 and unlocked[0].actor_id == coordinator.member.pk
    assert unlocked[0].details == {"member": caseworker.member.pk}
    assert _login(caseworker).status_code == 302


def test_a_caseworker_cannot_unlock_anyone(caseworker: Staff, outsider: Staff, lockout: Any) -> None:
    for _ in range(3):
        _login(outsider, password="wrong password")
    assert caseworker.console().post("/staff/", {"unlock": str(outsider.member.pk)}).status_code == 403
    assert StaffMember.objects.get(pk=outsider.member.pk).is_locked()


# --- sign out everywhere ------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_the_member_and_no_one_elses(
    coordinator: Staff, caseworker: Staff
) -> None:
    laptop, phone = caseworker.console(), caseworker.console()
    colleague = coordinator.console()
    assert laptop.get("/account/").status_code == 200
    response = laptop.post("/account/sign-out-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _drops_vault_cookie(response)
    assert laptop.get("/inbox/")["Location"] == "/login/"
    on_phone = phone.get("/inbox/")
    assert on_phone.status_code == 302 and on_phone["Location"] == "/login/"
    assert _drops_vault_cookie(on_phone)
    assert phone.get("/inbox/")["Location"] == "/login/"  # stays ended
    assert colleague.get("/inbox/").status_code == 200
    entries = _actions(Action.SIGN_OUT_EVERYWHERE)
    assert len(entries) == 1 and entries[0].actor_id == caseworker.member.pk
    assert caseworker.console().get("/inbox/").status_code == 200  # a new login works


# --- 2FA recovery codes -------------------------------------------------------------------


def test_a_recovery_code_logs_in_in_place_of_the_authenticator_code_once(caseworker: Staff) -> None:
    codes = services.recovery_codes_create(caseworker.member)
    assert len(codes) == 10 and len(set(codes)) == 10
    first = _login(caseworker, code=codes[0].lower().replace("-", ""))
    assert first.status_code == 302 and first["Location"] == "/inbox/"
    assert first.client.get("/inbox/").status_code == 200
    assert _login(caseworker, code=codes[0]).status_code == 400
    assert _login(caseworker, code=codes[1]).status_code == 302
    used = _actions(Action.RECOVERY_CODE_USE)
    assert [entry.details["left"] for entry in used] == [9, 8]


def test_a_recovery_code_of_another_member_does_not_log_in(caseworker: Staff, outsider: Staff) -> None:
    codes = services.recovery_codes_create(outsider.member)
    assert _login(caseworker, code=codes[0]).status_code == 400
    assert RecoveryCode.objects.filter(member=outsider.member).count() == 10


def test_only_hashes_of_recovery_codes_are_stored(caseworker: Staff) -> None:
    codes = services.recovery_codes_create(caseworker.member)
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert not any(plain in value or code in value for value in stored)
    assert not StaticToken.objects.exists()


def test_new_recovery_codes_need_the_password_are_shown_once_and_void_the_old_ones(caseworker: Staff) -> None:
    old = services.recovery_codes_create(caseworker.member)
    console = caseworker.console(language="en")
    refused = console.post("/account/recovery-codes/", {"password": "wrong password"})
    assert refused.status_code == 400 and "This is not your current password." in refused.content.decode()
    response = console.post("/account/recovery-codes/", {"password": caseworker.password})
    assert response.status_code == 302
    shown = re.findall(r"<code>([0-9A-Z-]{19})</code>", console.get("/account/recovery-codes/").content.decode())
    assert len(shown) == 10 and not set(shown) & set(old)
    again = console.get("/account/recovery-codes/").content.decode()
    assert "<code>" not in again and "You have 10 unused recovery codes." in again
    assert _login(caseworker, code=old[0]).status_code == 400
    assert _login(caseworker, code=shown[0]).status_code == 302
    assert len(_actions(Action.RECOVERY_CODES_CREATE)) == 2


# --- password change ----------------------------------------------------------------------


def _change(console: FaceClient, staff: Staff, **overrides: str) -> Any:
    data = {
        "current_password": staff.password,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "code": staff.code(),
        **overrides,
    }
    return console.post("/account/", data)


def test_after_a_password_change_the_member_still_opens_cases_with_the_new_password_only(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    case_page = f"/cases/{person.case.public_id}/"
    message = "First message from the person."  # decrypted only with the member's private key
    private_key_before = staff_private_key_unlock(caseworker.member, caseworker.password)
    here, elsewhere = caseworker.console(language="en"), caseworker.console()
    response = _change(here, caseworker)
    assert response.status_code == 200 and "Your password is changed." in response.content.decode()
    assert message in here.get(case_page).content.decode()  # this session goes on
    assert elsewhere.get(case_page)["Location"] == "/login/"  # every other one ended

    member = StaffMember.objects.get(pk=caseworker.member.pk)
    with pytest.raises(sealbox.CryptoError):
        staff_private_key_unlock(member, caseworker.password)
    assert staff_private_key_unlock(member, NEW_PASSWORD) == private_key_before
    assert bytes(member.public_key) == bytes(caseworker.member.public_key)
    assert bytes(member.key_salt) != bytes(caseworker.member.key_salt)

    assert _login(caseworker).status_code == 400  # the old password
    renewed = Staff(member, NEW_PASSWORD, caseworker.device)
    assert message in renewed.console().get(case_page).content.decode()
    changes = _actions(Action.PASSWORD_CHANGE)
    assert len(changes) == 1 and changes[0].actor_id == member.pk
    assert verify_chain().intact


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"current_password": "not my password"}, "This is not your current password."),
        ({"code": "000000"}, "This code is not right."),
        ({"password_again": "something else entirely 99"}, "The two passwords are not the same."),
    ],
)
def test_a_password_change_needs_the_current_password_a_right_code_and_the_same_new_password_twice(
    caseworker: Staff, overrides: dict[str, str], field_error: str
) -> None:
    console = caseworker.console(language="en")
    sealed_before = bytes(caseworker.member.sealed_private_key)
    response = _change(console, caseworker, **overrides)
    assert response.status_code == 400 and field_error in response.content.decode()
    member = StaffMember.objects.get(pk=caseworker.member.pk)
    assert bytes(member.sealed_private_key) == sealed_before and member.check_password(caseworker.password)
    assert not _actions(Action.PASSWORD_CHANGE)


def test_the_account_pages_speak_russian_and_english(caseworker: Staff) -> None:
    russian = caseworker.console(language="ru")
    assert "Выйти везде" in russian.get("/account/").content.decode()
    assert "Коды восстановления" in russian.get("/account/recovery-codes/").content.decode()
    english = caseworker.console(language="en")
    assert "Sign out everywhere" in english.get("/account/").content.decode()
