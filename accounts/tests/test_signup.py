"""One-time sign-up links, TOTP enrolment and staff login."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

import sealbox
from accounts import services
from accounts.models import RecoveryKey, RecoveryShareSet, SignupLink, StaffMember, Team
from tests.personas import CONSOLE, PASSWORD, FaceClient, Staff, totp_now

NEW = {"username": "new.member", "password": PASSWORD, "password_again": PASSWORD, "channel": "none"}


@pytest.mark.django_db
def test_the_first_coordinator_signs_up_enrols_totp_and_splits_the_recovery_key_among_trustees() -> None:
    token = services.first_coordinator_link_create()
    client = FaceClient(CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.post(f"/signup/{token}/", NEW).status_code == 302
    member = StaffMember.objects.get(username="new.member")
    page = client.get("/enrol/totp/").content.decode()
    assert "<svg" in page
    response = client.post("/enrol/totp/", {"code": totp_now(member.totpdevice_set.get())})
    assert response.status_code == 302 and response["Location"] == "/account/recovery-codes/"
    codes_page = client.get("/account/recovery-codes/").content.decode()
    assert len(re.findall(r"<code>[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}</code>", codes_page)) == 10
    assert 'href="/enrol/recovery/"' in codes_page
    assert "Make the shares" in client.get("/enrol/recovery/").content.decode()
    page = client.post("/enrol/recovery/", {"action": "plan", "threshold": 2, "count": 3, "trustees": [member.pk]})
    shares = []
    for number in (1, 2, 3):
        text = page.content.decode()
        assert f"Recovery share {number} of 3" in text
        assert ("for the coordinator new.member" in text) == (number == 1)  # share 1: the ticked coordinator
        assert not RecoveryKey.objects.exists()  # not before every trustee proves they wrote it down
        words, page = _write_down(client, text)
        shares.append(" ".join(words))
    done = page.content.decode()
    assert "SP_RECOVERY_PUBLIC_KEY=" in done
    stored = RecoveryKey.objects.get()
    share_set = RecoveryShareSet.objects.get()
    assert (share_set.threshold, share_set.count, share_set.holder_ids) == (2, 3, [member.pk, None, None])
    for pair in ((0, 1), (1, 2), (0, 2)):
        chosen = [shares[i] for i in pair]
        assert sealbox.combine_recovery_shares(chosen, public_key=bytes(stored.public_key))
    assert bytes(stored.public_key).hex() in done
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
    bad_code = english.post("/login/", {"username": "caseworker", "password": PASSWORD, "code": "123456"})
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


def test_an_invite_is_for_a_caseworker_unless_another_role_is_chosen(coordinator: Staff) -> None:
    page = coordinator.console().get("/staff/").content.decode()
    selected = re.findall(r'<option value="(\w+)"[^>]*\bselected\b', page)
    assert selected == ["caseworker"]


def _coordinator_at_recovery_step() -> FaceClient:
    token = services.first_coordinator_link_create()
    client = FaceClient(CONSOLE)
    client.post(f"/signup/{token}/", NEW)
    member = StaffMember.objects.get(username="new.member")
    client.post("/enrol/totp/", {"code": totp_now(member.totpdevice_set.get())})
    return client


def _write_down(client: FaceClient, page: str, *, wrong: bool = False) -> tuple[list[str], Any]:
    """Read the share off its page and type back the words asked for, as a trustee would."""
    words = re.findall(r'<li value="\d+"><code>([a-z]+)</code></li>', page)
    asked = [int(position) for position in re.findall(r'name="word_(\d+)"', page)]
    answer = {f"word_{position}": ("wrong" if wrong else words[position]) for position in asked}
    return words, client.post("/enrol/recovery/", {"action": "confirm", "written": "yes", **answer})


@pytest.mark.django_db
def test_a_reload_shows_the_share_that_will_count() -> None:
    client = _coordinator_at_recovery_step()
    client.post("/enrol/recovery/", {"action": "plan", "threshold": 2, "count": 2})
    again = client.get("/enrol/recovery/").content.decode()
    first, page = _write_down(client, again)
    second, page = _write_down(client, page.content.decode())
    public = bytes(RecoveryKey.objects.get().public_key)
    assert sealbox.combine_recovery_shares([" ".join(first), " ".join(second)], public_key=public)


@pytest.mark.django_db
def test_wrong_words_store_nothing_and_show_the_same_share_again() -> None:
    client = _coordinator_at_recovery_step()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post("/enrol/recovery/", {"action": "plan", "threshold": 2, "count": 3}).content.decode()
    words, response = _write_down(client, page, wrong=True)
    assert response.status_code == 400
    text = response.content.decode()
    assert "That does not match" in text and "Recovery share 1 of 3" in text
    assert re.findall(r'<li value="\d+"><code>([a-z]+)</code></li>', text) == words
    assert not RecoveryKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("threshold", "count"), [(1, 3), (4, 3), (2, 17)])
def test_a_threshold_outside_sane_limits_is_refused(threshold: int, count: int) -> None:
    client = _coordinator_at_recovery_step()
    response = client.post("/enrol/recovery/", {"action": "plan", "threshold": threshold, "count": count})
    assert response.status_code == 400
    assert not RecoveryKey.objects.exists()


def test_an_old_setup_link_cannot_make_a_second_coordinator(coordinator: Staff) -> None:
    """Setup links printed by earlier runs stop working once the first coordinator exists."""
    SignupLink.objects.create(
        token_hash=SignupLink.hash_token("printed-earlier"),
        purpose=SignupLink.Purpose.FIRST_COORDINATOR,
        role="coordinator",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    response = FaceClient(CONSOLE).post("/signup/printed-earlier/", {**NEW, "username": "intruder"})
    assert response.status_code == 410
    assert not StaffMember.objects.filter(username="intruder").exists()


@pytest.mark.django_db
def test_using_one_setup_link_retires_the_others() -> None:
    first, second = services.first_coordinator_link_create(), services.first_coordinator_link_create()
    assert FaceClient(CONSOLE).post(f"/signup/{first}/", NEW).status_code == 302
    assert FaceClient(CONSOLE).get(f"/signup/{second}/").status_code == 410


def test_handles_are_unique_whatever_their_case(coordinator: Staff) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StaffMember.objects.create(
            username="COORDINATOR",
            role="caseworker",
            public_key=b"",
            sealed_private_key=b"",
            key_salt=b"",
            key_time_cost=1,
            key_memory_kib=8,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "team_name"), [("ru", "Горячая линия"), ("en", "Hotline")])
def test_the_on_call_team_is_named_in_the_first_coordinators_language(language: str, team_name: str) -> None:
    token = services.first_coordinator_link_create()
    client = FaceClient(CONSOLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert client.post(f"/signup/{token}/", NEW).status_code == 302
    assert list(Team.objects.values_list("name", "is_on_call")) == [(team_name, True)]
