"""The people every test talks about, built through the real services.

coordinator  — set up the instance, on the on-call team, holds the recovery key's public half
caseworker   — on the on-call team: new cases are wrapped for her
outsider     — a caseworker on another team: must see nothing of the on-call team's cases
person       — a person at risk with a case, a codename and a danger word
other_person — another person at risk, with a case of their own
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

import sealbox
from accounts import services as account_services
from accounts.keyring import staff_private_key_unlock, staff_signing_key_unlock
from accounts.models import Role, SignupLink, StaffMember, Team
from casework import services
from casework.models import Case, Urgency

INTAKE = "config.urls_intake"
CONSOLE = "config.urls_console"
PASSWORD = "correct horse battery staple 42"


class FaceClient(Client):
    """A test client bound to one face's URLconf, as a separate process would be."""

    def __init__(self, urlconf: str, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.urlconf = urlconf

    def request(self, **request: Any) -> Any:
        with override_settings(ROOT_URLCONF=self.urlconf):
            return super().request(**request)


@dataclass
class Staff:
    member: StaffMember
    password: str
    device: TOTPDevice

    def code(self) -> str:
        self.device.refresh_from_db()
        # Tests log in faster than the 30-second TOTP step and right after deliberate failures,
        # which django-otp's throttling would otherwise make wait.
        self.device.last_t = -1
        self.device.throttle_reset(commit=False)
        self.device.save(update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"])
        return totp_now(self.device)

    @property
    def signing_key(self) -> bytes:
        """The member's reply-signing key, opened with the password as a login would."""
        return staff_signing_key_unlock(StaffMember.objects.get(pk=self.member.pk), self.password)

    @property
    def private_key(self) -> bytes:
        """The member's X25519 private key, opened with the password as a login would."""
        return staff_private_key_unlock(StaffMember.objects.get(pk=self.member.pk), self.password)

    def console(self, *, language: str | None = None) -> FaceClient:
        client = FaceClient(CONSOLE)
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.post(
            "/login/", {"username": self.member.username, "password": self.password, "code": self.code()}
        )
        assert response.status_code == 302, response.content[:2000]
        return client


def totp_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enrol(token: str, username: str) -> Staff:
    enrolment = account_services.staff_enrol(token=token, username=username, password=PASSWORD)
    assert account_services.totp_confirm(enrolment.device, totp_now(enrolment.device))
    return Staff(enrolment.member, PASSWORD, enrolment.device)


def make_coordinator(username: str = "coordinator") -> Staff:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    staff = enrol(token, username)
    assert account_services.recovery_key_create(created_by=staff.member) is not None
    return staff


def make_staff(username: str, *, role: str = Role.CASEWORKER, team: Team | None = None, invited_by: Staff) -> Staff:
    token = account_services.signup_link_create(
        purpose=SignupLink.Purpose.INVITE, role=role, team=team, created_by=invited_by.member
    )
    return enrol(token, username)


@dataclass
class PersonAtRisk:
    codename: str
    duress_word: str
    case: Case

    def intake(self, *, duress: bool = False, language: str | None = None) -> FaceClient:
        client = FaceClient(INTAKE)
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        phrase = services.duress_phrase(self.codename, self.duress_word) if duress else self.codename
        response = client.post("/login/", {"codename": phrase})
        assert response.status_code == 302, response.content[:2000]
        return client


def open_case(
    *,
    body: str = "Please help, they are looking for me.",
    duress_word: str | None = None,
    language: str = "en",
    decoy_opening: str = "",
    **details: Any,
) -> PersonAtRisk:
    """A case opened through the intake service. Without ``duress_word`` the danger word is a
    word of the codename's list, as the intake form offers; "" sets none."""
    codename = sealbox.generate_codename(language)
    if duress_word is None:
        duress_word = sealbox.danger_word_candidates(codename, 1)[0]
    case = services.case_open_from_intake(
        codename=codename,
        duress_word=duress_word,
        decoy_opening=decoy_opening,
        urgency=details.pop("urgency", Urgency.DANGER_NOW),
        details=services.CaseDetails(
            region=details.pop("region", "chechnya"),
            help_kinds=details.pop("help_kinds", ["leave_region"]),
            language=language,
            **details,
        ),
        body=body,
        attachments=[],
    )
    return PersonAtRisk(codename, duress_word, case.case)
