"""One-time sign-up links, TOTP enrolment and staff login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import RecoveryKey, SignupLink, StaffMember
from tests.personas import CONSOLE, PASSWORD, FaceClient, Staff, totp_now

NEW = {"username": "new.member", "password": PASSWORD, "password_again": PASSWORD}


@pytest.mark.django_db
def test_the_first_coordinator_signs_up_enrols_totp_and_gets_the_recovery_key_once() -> None:
    token = services.first_coordinator_link_create()
    client = FaceClient(CONSOLE)
    assert client.post(f"/signup/{token}/", NEW).status_code == 302
    member = StaffMember.objects.get(username="new.member")
    page = client.get("/enrol/totp/").content.decode()
    assert "<svg" in page
    response = client.post("/enrol/totp/", {"code": totp_now(member.totpdevice_set.get())})
    assert response.status_code == 302 and response["Location"] == "/enrol/recovery/"
    shown = client.post("/enrol/recovery/").content.decode()
    assert "SPRK1-" in shown
    assert RecoveryKey.objects.count() == 1
    assert client.get("/enrol/recovery/")["Location"] == "/inbox/"  # never shown again
    assert client.get("/inbox/").status_code == 200
    assert services.first_coordinator_link_create() is None


@pytest.mark.django_db
def test_an_expired_setup_link_says_so() -> None:
    token = services.first_coordinator_link_create()
    SignupLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client = FaceClient(CONSOLE)
    client.post("/language/", {"language": "en", "next": "/"})
    response = client.get(f"/signup/{token}/")
    assert response.status_code == 410
    assert "This link no longer works" in response.content.decode()


def test_a_used_invite_link_cannot_be_used_twice(coordinator: Staff) -> None:
    token = services.signup_link_create(purpose="invite", role="caseworker", team=None, created_by=coordinator.member)
    assert FaceClient(CONSOLE).post(f"/signup/{token}/", NEW).status_code == 302
    again = FaceClient(CONSOLE).post(f"/signup/{token}/", {**NEW, "username": "someone.else"})
    assert again.status_code == 410
    assert not StaffMember.objects.filter(username="someone.else").exists()


@pytest.mark.django_db
def test_weak_or_mismatched_passwords_are_explained() -> None:
    token = services.first_coordinator_link_create()
    client = FaceClient(CONSOLE)
    client.post("/language/", {"language": "en", "next": "/"})
    short = client.post(f"/signup/{token}/", {**NEW, "password": "short", "password_again": "short"})
    assert short.status_code == 400 and "too short" in short.content.decode()
    mismatch = client.post(f"/signup/{token}/", {**NEW, "password_again": PASSWORD + "x"})
    assert "The two passwords are not the same." in mismatch.content.decode()
    assert SignupLink.objects.get().used_at is None  # the link still works


def test_a_wrong_totp_code_during_enrolment_is_explained(coordinator: Staff) -> None:
    token = services.signup_link_create(purpose="invite", role="caseworker", team=None, created_by=coordinator.member)
    client = FaceClient(CONSOLE)
    client.post("/language/", {"language": "en", "next": "/"})
    client.post(f"/signup/{token}/", NEW)
    response = client.post("/enrol/totp/", {"code": "000000"})
    assert response.status_code == 400
    assert "This code is not right" in response.content.decode()


def test_login_needs_password_and_code_and_unlocks_the_key(caseworker: Staff) -> None:
    english = FaceClient(CONSOLE)
    english.post("/language/", {"language": "en", "next": "/"})
    bad_code = english.post(
        "/login/", {"username": "caseworker", "password": PASSWORD, "code": "123456"}
    )
    assert bad_code.status_code == 400
    assert "The handle, password or code is not right." in bad_code.content.decode()
    bad_password = english.post(
        "/login/", {"username": "caseworker", "password": "wrong password!", "code": caseworker.code()}
    )
    assert bad_password.status_code == 400
    assert caseworker.console().get("/inbox/").status_code == 200


def test_a_session_without_the_vault_cookie_must_log_in_again(caseworker: Staff) -> None:
    client = caseworker.console()
    del client.cookies["sp_vk"]
    assert client.get("/inbox/")["Location"] == "/login/"


def test_only_coordinators_invite(coordinator: Staff, caseworker: Staff) -> None:
    assert caseworker.console().get("/staff/").status_code == 403
    page = coordinator.console().post("/staff/", {"role": "verifier"}).content.decode()
    assert "/signup/" in page
    assert SignupLink.objects.filter(purpose="invite", role="verifier", used_at__isnull=True).count() == 1
