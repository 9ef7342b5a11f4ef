"""Authenticator codes: a typo costs nothing but the typo, a used code never works twice.

django-otp's own throttle refused every code, right ones too, for 1, 2, 4, ... seconds after a
wrong one, and said "not right" about a right code. It is off (OTP_TOTP_THROTTLE_FACTOR): the
account lockout (accounts.services.login_failure_count) bounds guessing instead, at login and
at the password change alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from accounts import services as account_services
from accounts.models import StaffMember
from tests.personas import CONSOLE, PASSWORD, FaceClient, Staff, totp_now

GENERIC_ERROR = "The handle, password or code is not right."
NEW_PASSWORD = "a completely different passphrase 77"


def _fresh_window(staff: Staff) -> str:
    """The current code, as if the last login was in an earlier 30-second window (enrolment
    used this very window's code). Unlike Staff.code(), failures are left as they are."""
    staff.device.refresh_from_db()
    staff.device.last_t = -1
    staff.device.save(update_fields=["last_t"])
    return totp_now(staff.device)


def _login(staff: Staff, code: str) -> Any:
    client = FaceClient(CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post("/login/", {"username": staff.member.username, "password": staff.password, "code": code})


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_a_right_code_typed_right_after_a_wrong_one_logs_in(caseworker: Staff) -> None:
    code = _fresh_window(caseworker)
    refused = _login(caseworker, _wrong(code))
    assert refused.status_code == 400 and GENERIC_ERROR in refused.content.decode()
    assert _login(caseworker, code).status_code == 302


def test_a_code_that_logged_in_once_is_refused_after_that(caseworker: Staff) -> None:
    """Attacker: someone who watched the code being typed (a shoulder, a camera) and uses it
    at once, while it is still the current one."""
    code = _fresh_window(caseworker)
    assert _login(caseworker, _wrong(code)).status_code == 400
    assert _login(caseworker, code).status_code == 302
    replayed = _login(caseworker, code)
    assert replayed.status_code == 400 and GENERIC_ERROR in replayed.content.decode()


@pytest.fixture
def lockout(settings: Any) -> Any:
    settings.SP_STAFF_LOGIN_FAILURES = 3
    settings.SP_STAFF_LOCKOUT_SECONDS = 100
    return settings


def _change_password(console: FaceClient, staff: Staff, code: str) -> Any:
    data = {"current_password": staff.password, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": code}
    return console.post("/account/", data)


def test_wrong_codes_in_the_password_change_count_towards_the_lockout(caseworker: Staff, lockout: Any) -> None:
    """Attacker: someone with a staff member's open console and password (an unlocked laptop,
    a password seen), guessing codes on the password form to take the account over. Without
    django-otp's throttle, the lockout is what stops them: three guesses, then not even the
    right code changes the password."""
    console = caseworker.console(language="en")
    code = _fresh_window(caseworker)
    assert _change_password(console, caseworker, _wrong(code)).status_code == 400
    assert not StaffMember.objects.get(pk=caseworker.member.pk).is_locked(), "one typo does not lock"
    for _ in range(2):
        assert _change_password(console, caseworker, _wrong(code)).status_code == 400
    assert StaffMember.objects.get(pk=caseworker.member.pk).is_locked()
    response = _change_password(console, caseworker, code)
    assert response.status_code == 400 and "This code is not right." in response.content.decode()
    assert StaffMember.objects.get(pk=caseworker.member.pk).check_password(caseworker.password)


def test_a_right_code_right_after_a_wrong_one_changes_the_password(caseworker: Staff) -> None:
    console = caseworker.console(language="en")
    code = _fresh_window(caseworker)
    assert _change_password(console, caseworker, _wrong(code)).status_code == 400
    response = _change_password(console, caseworker, code)
    assert response.status_code == 200 and "Your password is changed." in response.content.decode()


def test_a_right_code_right_after_a_wrong_one_confirms_the_authenticator_at_sign_up(coordinator: Staff) -> None:
    token = account_services.signup_link_create(
        purpose="invite", role="caseworker", team=None, created_by=coordinator.member
    )
    client = FaceClient(CONSOLE)
    client.post(f"/signup/{token}/", {"username": "new.member", "password": PASSWORD, "password_again": PASSWORD})
    device = StaffMember.objects.get(username="new.member").totpdevice_set.get()
    code = totp_now(device)
    assert client.post("/enrol/totp/", {"code": _wrong(code)}).status_code == 400
    assert client.post("/enrol/totp/", {"code": code}).status_code == 302
