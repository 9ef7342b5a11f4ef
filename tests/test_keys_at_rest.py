"""Invariant 2: no key that opens case data is stored anywhere in usable form.

With a whole hotline exchange committed — a case with an attachment, a staff member logged in
with an unlocked key, a reply — every private key and every data key involved is recovered
through the legitimate paths and then searched for, raw, hex and base64, in the database, the
file store, the decoded sessions and the logs. The session vault's browser-side key must not
be on the server either.
"""

from __future__ import annotations

import base64

import pytest
from django.conf import settings

import sealbox
from accounts import services as account_services
from accounts.keyring import staff_private_key_unlock
from casework import keys
from casework.models import Attachment, Case, MessageKey
from core.vault import vault_cookie_name
from tests.personas import INTAKE, FaceClient, Staff, enrol, make_staff
from tests.plaintext_search import (
    LogFile,
    Needle,
    database_places,
    file_places,
    find_needles,
    log_record_places,
    needles_for_key,
    search_places,
    session_places,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x11" * 300


def _hotline_exchange() -> tuple[Staff, str, bytes, FaceClient, FaceClient]:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    coordinator = enrol(token, "coordinator")
    recovery_text = account_services.recovery_key_create(created_by=coordinator.member)
    assert recovery_text is not None
    caseworker = make_staff("caseworker", invited_by=coordinator)
    intake = FaceClient(INTAKE)
    page = intake.get("/start/").content.decode()
    codename = " ".join(
        page.split('class="codename"')[1].split("</p>")[0].replace("</span>", "").split("<span>")[1:]
    ).split()
    response = intake.post(
        "/request/",
        {"urgency": "danger_now", "region": "chechnya", "message": "keys at rest", "attachments": _file()},
    )
    assert response.status_code == 302
    console = caseworker.console()
    case = Case.objects.get()
    assert console.post(f"/cases/{case.public_id}/reply/", {"body": "a reply"}).status_code == 302
    return caseworker, " ".join(codename), sealbox.decode_recovery_key(recovery_text), intake, console


def _file() -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", PNG, content_type="image/png")


def _every_key(caseworker: Staff, codename: str, recovery: bytes) -> dict[str, bytes]:
    found: dict[str, bytes] = {"recovery private key": recovery}
    member_key = staff_private_key_unlock(caseworker.member, caseworker.password)
    found["staff private key"] = member_key
    case = Case.objects.get()
    for key_id, private in keys.case_private_keys(case, caseworker.member, member_key).items():
        found[f"case private key {key_id}"] = private
    person = sealbox.derive_codename_secrets(
        sealbox.normalise_codename(codename), pepper=settings.SP_PEPPER, params=settings.SP_ARGON2
    )
    found["person's private key"] = person.keypair.private_key
    case_keys = keys.case_private_keys(case, caseworker.member, member_key)
    for wrap in MessageKey.objects.filter(case_key__isnull=False):
        data_key = sealbox.unseal(
            case_keys[wrap.case_key_id], bytes(wrap.sealed_key), ctx=keys.message_key_ctx(wrap.message_id)
        )
        found[f"data key of message {wrap.message_id}"] = data_key
        for item in Attachment.objects.filter(message_id=wrap.message_id):
            file_key = sealbox.decrypt(data_key, bytes(item.file_key_ct), ctx=keys.attachment_ctx("key", item.id))
            found[f"file key {item.id}"] = file_key
    return found


@pytest.mark.django_db(transaction=True)
def test_no_private_or_data_key_is_stored_anywhere(all_logs: pytest.LogCaptureFixture) -> None:
    log_file = LogFile()
    caseworker, codename, recovery, intake, console = _hotline_exchange()
    secrets = _every_key(caseworker, codename, recovery)
    assert any(label.startswith("file key") for label in secrets)
    for client in (intake, console):
        secrets[f"vault cookie key ({client.urlconf})"] = base64.urlsafe_b64decode(
            client.cookies[vault_cookie_name()].value
        )
    needles: list[Needle] = [n for label, key in secrets.items() for n in needles_for_key(label, key)]
    places = [
        *database_places(),
        *file_places(settings.SP_FILE_STORE),
        *session_places(),
        *log_file.places(),
        *log_record_places(all_logs.records),
    ]
    findings = search_places(places, needles)
    assert not findings, "\n".join(str(f) for f in findings)


@pytest.mark.django_db(transaction=True)
def test_the_key_search_finds_a_key_where_it_is_stored() -> None:
    """The control: a public key is stored plainly, and the same search finds it."""
    caseworker, *_ = _hotline_exchange()
    public = bytes(caseworker.member.public_key)
    assert find_needles(b"".join(data for _, data in database_places()), needles_for_key("public key", public))
