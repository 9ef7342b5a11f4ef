"""Writing on a case needs the session to open the current case key, not just a wrap row:
a database writer can insert a wrap row for anyone (planted: a junk one, or some other key
sealed to the member's real public key), and without this check the member could reply, write
notes, tasks and vetting entries on a case they were never given."""

from __future__ import annotations

import pytest

import sealbox
from audit.models import Action, AuditEntry
from casenotes import services as note_services
from casenotes.models import CaseNote, CaseTask
from casework import keys, services
from casework.models import CaseKeyWrap, Message
from tests.personas import PersonAtRisk, Staff, open_case
from vetting.models import VettingCheck

JUNK = "junk"
OTHER_KEY = "some other key sealed to the member's real public key"


def _plant_wrap(person: PersonAtRisk, staff: Staff, kind: str) -> None:
    case_key = keys.current_case_key(person.case)
    if kind == JUNK:
        sealed = b"junk"
    else:
        ctx = keys.wrap_ctx(person.case, case_key.version)
        sealed = sealbox.seal(bytes(staff.member.public_key), sealbox.KeyPair.generate().private_key, ctx=ctx)
    CaseKeyWrap.objects.create(case_key=case_key, member=staff.member, sealed_private_key=sealed)


@pytest.fixture
def cover_case(caseworker: Staff, outsider: Staff) -> PersonAtRisk:
    return open_case()  # with a danger word


@pytest.mark.parametrize("kind", [JUNK, OTHER_KEY])
def test_a_planted_wrap_row_lets_nobody_write_on_the_case(
    kind: str, outsider: Staff, caseworker: Staff, cover_case: PersonAtRisk
) -> None:
    person = cover_case
    _plant_wrap(person, outsider, kind)
    base = f"/cases/{person.case.public_id}"
    console = outsider.console()
    before = AuditEntry.objects.count()

    assert console.post(f"{base}/reply/", {"body": "Come alone."}).status_code == 404
    assert console.post(f"{base}/decoy-reply/", {"decoy_body": "Come alone."}).status_code == 404
    assert console.post(f"{base}/notes/", {"body": "A planted note."}).status_code == 404
    task = {"title": "A planted task", "owner": outsider.member.pk}
    assert console.post(f"{base}/tasks/", task).status_code == 404
    assert console.post(f"{base}/vetting/check/", {"item": "interview", "note": "Fine."}).status_code == 404

    assert not Message.objects.filter(author=outsider.member).exists()
    assert not CaseNote.objects.filter(author=outsider.member).exists()
    assert not CaseTask.objects.filter(created_by=outsider.member).exists()
    assert not VettingCheck.objects.filter(ticked_by=outsider.member).exists()
    written = AuditEntry.objects.filter(pk__gt=0).order_by("pk")[before:]
    assert not [e for e in written if e.action in (Action.CASE_REPLY, Action.DECOY_REPLY, Action.NOTE_CREATE)]


def test_services_refuse_an_author_whose_private_key_does_not_open_the_wrap(
    caseworker: Staff, outsider: Staff, cover_case: PersonAtRisk
) -> None:
    """The holder's own wrap, but the session key of someone else: refused, nothing written."""
    case, wrong = cover_case.case, outsider.private_key
    with pytest.raises(keys.NoAccess):
        services.message_post_from_staff(
            case=case, member=caseworker.member, member_private_key=wrong, signing_key=caseworker.signing_key, body="x"
        )
    with pytest.raises(keys.NoAccess):
        services.decoy_reply_post(
            case=case, member=caseworker.member, member_private_key=wrong, signing_key=caseworker.signing_key, body="x"
        )
    with pytest.raises(keys.NoAccess):
        note_services.note_create(case=case, author=caseworker.member, author_private_key=wrong, body="x")
    assert not Message.objects.filter(author=caseworker.member).exists()
    assert not CaseNote.objects.exists()


def test_a_holder_with_their_own_key_still_writes(caseworker: Staff, cover_case: PersonAtRisk) -> None:
    case = cover_case.case
    message = services.message_post_from_staff(
        case=case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body="We read you.",
    )
    assert message.author_id == caseworker.member.pk
    note = note_services.note_create(
        case=case, author=caseworker.member, author_private_key=caseworker.private_key, body="Called back."
    )
    assert note.case_key.version == case.key_version
