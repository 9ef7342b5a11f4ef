"""Staff writing in the cover conversation that a danger-word login shows (T4): the captors
see an ordinary answer; the real conversation never does."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import Action, AuditEntry
from casework import authenticity
from casework.models import Message, MessageKey, PersonCredential
from tests.personas import PersonAtRisk, Staff, make_staff, open_case

COVER = "The bakery opens at ten tomorrow"
LABEL = "Reply in the harmless cover conversation"


def _cover_reply(staff: Staff, person: PersonAtRisk, body: str = COVER) -> tuple[int, str]:
    response = staff.console(language="en").post(f"/cases/{person.case.public_id}/decoy-reply/", {"decoy_body": body})
    return response.status_code, response.content.decode()


def _latest_cover(person: PersonAtRisk) -> Message:
    return Message.objects.filter(case=person.case, sender="staff", is_decoy=True).latest("created_at")


def test_a_cover_reply_is_seen_after_a_danger_word_login_and_never_in_the_real_conversation(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert LABEL in page

    status, _ = _cover_reply(caseworker, person)

    assert status == 302
    message = _latest_cover(person)
    assert not message.held and message.signed_by_id == caseworker.member.pk
    assert authenticity.message_authentic(message)
    assert person.intake(language="en").get("/conversation/").content.decode().count(COVER) == 0
    captors = person.intake(duress=True, language="en").get("/conversation/").content.decode()
    assert COVER in captors
    entry = AuditEntry.objects.filter(action=Action.DECOY_REPLY).latest("sequence")
    assert entry.actor_id == caseworker.member.pk and entry.details == {"message": str(message.pk)}
    assert entry.case_public_id == person.case.public_id


def test_a_cover_reply_is_sealed_to_the_case_key_and_the_danger_phrase_only_like_the_intake_decoy(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    """The real phrase never shows the cover conversation, so it holds no key to it."""
    _cover_reply(caseworker, person)
    message = _latest_cover(person)
    credentials = set(
        MessageKey.objects.filter(message=message, credential__isnull=False).values_list("credential", flat=True)
    )
    assert credentials == {PersonCredential.objects.get(case=person.case, is_duress=True).pk}
    assert MessageKey.objects.filter(message=message, case_key__isnull=False).count() == 1


def test_a_cover_reply_is_not_held_while_the_case_is_under_duress(caseworker: Staff, person: PersonAtRisk) -> None:
    person.intake(duress=True)
    status, _ = _cover_reply(caseworker, person)
    assert status == 302
    assert not _latest_cover(person).held
    assert COVER in person.intake(duress=True, language="en").get("/conversation/").content.decode()


def test_a_cover_reply_is_never_released_nor_carried_to_a_new_codename(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    _cover_reply(caseworker, person)
    message = _latest_cover(person)
    release = coordinator.console(language="en").post(
        f"/cases/{person.case.public_id}/messages/{message.pk}/release/", {"confirm": "on"}
    )
    assert release.status_code == 400 and "not held" in release.content.decode()

    burn = caseworker.console(language="en").post(f"/cases/{person.case.public_id}/codename/burn/", {"confirm": "on"})
    assert burn.status_code == 200
    person.case.refresh_from_db()
    new_credential = person.case.reply_credential
    assert not MessageKey.objects.filter(message=message, credential=new_credential).exists()
    # With the danger word burned there is no cover conversation left to write in.
    status, page = _cover_reply(caseworker, person)
    assert status == 403 and "no cover conversation" in page
    assert LABEL not in caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()


def test_a_case_without_a_danger_word_has_no_cover_conversation(caseworker: Staff, outsider: Staff) -> None:
    plain = open_case(duress_word="")
    assert LABEL not in caseworker.console(language="en").get(f"/cases/{plain.case.public_id}/").content.decode()
    status, page = _cover_reply(caseworker, plain)
    assert status == 403 and "no cover conversation" in page
    assert not Message.objects.filter(case=plain.case, sender="staff").exists()


@pytest.mark.parametrize("role", [Role.VERIFIER])
def test_only_caseworkers_and_coordinators_write_in_the_cover_conversation(
    coordinator: Staff, person: PersonAtRisk, role: str
) -> None:
    verifier = make_staff("verifier", role=role, invited_by=coordinator)
    coordinator.console().post(f"/cases/{person.case.public_id}/members/", {"member": verifier.member.pk})

    status, page = _cover_reply(verifier, person)

    assert status == 403 and "Only a caseworker or coordinator" in page
    assert not Message.objects.filter(case=person.case, sender="staff", is_decoy=True).exists()


def test_someone_without_the_case_key_gets_not_found(outsider: Staff, person: PersonAtRisk) -> None:
    status, _ = _cover_reply(outsider, person)
    assert status == 404


def test_an_empty_or_too_long_cover_reply_is_refused_with_a_clear_error(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    status, page = _cover_reply(caseworker, person, body="")
    assert status == 400 and "The reply is empty." in page
    status, page = _cover_reply(caseworker, person, body="x" * 100_000)
    assert status == 400 and "too long" in page and "x" * 1000 in page  # what was typed is kept
    assert not Message.objects.filter(case=person.case, sender="staff", is_decoy=True).exists()


def test_a_cover_reply_written_into_the_database_is_not_shown_to_the_captors(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    _cover_reply(caseworker, person)
    message = _latest_cover(person)
    Message.objects.filter(pk=message.pk).update(signature=None, signed_by=None)

    assert COVER not in person.intake(duress=True, language="en").get("/conversation/").content.decode()


def test_the_cover_conversation_form_and_the_signature_warning_speak_russian(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    _cover_reply(caseworker, person)
    Message.objects.filter(pk=_latest_cover(person).pk).update(signature=None, signed_by=None)

    page = caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/").content.decode()

    assert "Ответ в безобидной переписке для прикрытия" in page
    assert "Подпись недействительна" in page
