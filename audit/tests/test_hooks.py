"""Every staff action through the real console views leaves its entry, and no entry holds
what was typed, read or written."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import StaffMember
from audit.chain import handle_hash, verify_chain
from audit.models import Action, AuditEntry
from casework.models import Attachment
from tests.personas import CONSOLE, FaceClient, PersonAtRisk, Staff

pytestmark = pytest.mark.django_db


def _since(mark: int) -> list[tuple[str, int | None, str | None]]:
    rows = AuditEntry.objects.filter(sequence__gt=mark).order_by("sequence")
    return list(rows.values_list("action", "actor_id", "case_public_id"))


def _mark() -> int:
    return AuditEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_setting_up_the_instance_is_audited(coordinator: Staff) -> None:
    actions = [action for action, _, _ in _since(0)]
    assert actions == [Action.SETUP_LINK_CREATE, Action.STAFF_ENROL, Action.RECOVERY_KEY_CREATE]
    assert AuditEntry.objects.get(action=Action.SETUP_LINK_CREATE).actor is None
    assert AuditEntry.objects.get(action=Action.RECOVERY_KEY_CREATE).actor == coordinator.member


def test_a_login_records_the_login_and_the_key_unlock(caseworker: Staff) -> None:
    mark = _mark()
    client = caseworker.console()
    member = caseworker.member.pk
    assert _since(mark) == [(Action.LOGIN, member, None), (Action.KEY_UNLOCK, member, None)]
    mark = _mark()
    assert client.post("/logout/").status_code == 302
    assert _since(mark) == [(Action.LOGOUT, member, None)]


def test_a_failed_login_has_no_actor_and_keeps_only_a_hash_of_the_handle(caseworker: Staff) -> None:
    mark = _mark()
    wrong = {"username": "Caseworker ", "password": "not the password 12345", "code": caseworker.code()}
    assert FaceClient(CONSOLE).post("/login/", wrong).status_code == 400
    right_password = {"username": "caseworker", "password": caseworker.password, "code": "000000"}
    assert FaceClient(CONSOLE).post("/login/", right_password).status_code == 400
    entries = list(AuditEntry.objects.filter(sequence__gt=mark).order_by("sequence"))
    assert [(entry.action, entry.actor) for entry in entries] == [(Action.LOGIN_FAILED, None)] * 2
    assert [entry.details["stage"] for entry in entries] == ["password", "code"]
    # Same handle, typed differently: the same hash, so repeated attempts on it stand out.
    assert entries[0].details["handle_hash"] == entries[1].details["handle_hash"] == handle_hash("caseworker")
    stored = json.dumps([entry.details for entry in entries])
    assert "caseworker" not in stored.lower() and "password" not in stored.replace('"password"', "")


def test_reading_replying_marking_read_and_downloading_are_audited(caseworker: Staff, person: PersonAtRisk) -> None:
    attachment_id = _upload(person)
    console = caseworker.console()
    case_id = person.case.public_id
    member = caseworker.member.pk
    mark = _mark()
    assert console.get(f"/cases/{case_id}/").status_code == 200
    assert console.get(f"/cases/{case_id}/files/{attachment_id}/").status_code == 200
    assert console.post(f"/cases/{case_id}/reply/", {"body": "We are on our way."}).status_code == 302
    assert console.post(f"/cases/{case_id}/read/").status_code == 302
    assert _since(mark) == [
        (Action.CASE_VIEW, member, case_id),
        (Action.ATTACHMENT_DOWNLOAD, member, case_id),
        (Action.CASE_REPLY, member, case_id),
        (Action.CASE_MARK_READ, member, case_id),
    ]
    download = AuditEntry.objects.get(action=Action.ATTACHMENT_DOWNLOAD)
    assert download.details == {"attachment": str(attachment_id)}
    assert verify_chain().intact


def test_a_case_someone_may_not_see_leaves_no_view_entry(outsider: Staff, person: PersonAtRisk) -> None:
    console = outsider.console()
    mark = _mark()
    assert console.get(f"/cases/{person.case.public_id}/").status_code == 404
    assert _since(mark) == []


def test_an_invitation_and_the_enrolment_it_leads_to_are_audited(coordinator: Staff) -> None:
    console = coordinator.console()
    mark = _mark()
    page = console.post("/staff/", {"role": "verifier", "team": ""}).content.decode()
    token = re.search(r"/signup/([^/<\s]+)/", page)
    assert token is not None
    newcomer = FaceClient(CONSOLE)
    form = {
        "username": "newcomer",
        "password": "a long enough password 77",
        "password_again": "a long enough password 77",
        "channel": "none",
    }
    assert newcomer.post(f"/signup/{token.group(1)}/", form).status_code == 302
    joined = StaffMember.objects.get(username="newcomer").pk
    assert _since(mark) == [(Action.INVITE_CREATE, coordinator.member.pk, None), (Action.STAFF_ENROL, joined, None)]
    invite = AuditEntry.objects.get(action=Action.INVITE_CREATE)
    assert invite.details["role"] == "verifier"
    assert AuditEntry.objects.get(action=Action.STAFF_ENROL, actor_id=joined).details["link"] == invite.details["link"]


def _upload(person: PersonAtRisk) -> object:
    client = person.intake()
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    assert client.post("/conversation/", {"message": "", "attachments": upload}).status_code == 302
    return Attachment.objects.get(message__case=person.case).id
