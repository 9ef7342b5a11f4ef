"""Staff notes on a case: sealed to the current case key, bound to their record, listed newest
first, changed only by their author, and never silently overwritten (edit conflicts)."""

from __future__ import annotations

import pytest
from django.utils import timezone

import sealbox
from accounts.models import Role
from audit.models import Action, AuditEntry
from casenotes import crypto, selectors, services
from casenotes.models import CaseNote
from casenotes.tests.helpers import field_value, private_key, text, textarea
from casework import keys
from casework import services as casework_services
from casework.models import Case, CaseKey
from casework.sealed import Refused
from tests.personas import PersonAtRisk, Staff, make_staff


def _add_note(staff: Staff, case: Case, body: str, *, language: str = "en") -> object:
    return staff.console(language=language).post(f"/cases/{case.public_id}/notes/", {"body": body})


def test_a_holder_writes_a_note_sealed_to_the_current_case_key_and_audited(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    body = "Called the safe contact; the bus leaves on Thursday."
    response = _add_note(caseworker, person.case, body)
    assert (response.status_code, response["Location"]) == (302, f"/cases/{person.case.public_id}/?section=notes")

    note = CaseNote.objects.get(case=person.case)
    assert note.author_id == caseworker.member.pk
    assert note.case_key == CaseKey.objects.get(case=person.case, version=person.case.key_version)
    assert body.encode() not in bytes(note.body_ct)
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_note(note, opened).body == body
    entry = AuditEntry.objects.filter(action=Action.NOTE_CREATE).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (
        caseworker.member.pk,
        person.case.public_id,
        {"note": str(note.pk)},
    )


def test_notes_are_listed_newest_first_with_author_and_time(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    _add_note(caseworker, person.case, "The older note.")
    _add_note(coordinator, person.case, "The newer note.")
    page = text(caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=notes"))
    notes = page.split("Staff notes", 1)[1].split("</ol>", 1)[0]
    assert notes.index("The newer note.") < notes.index("The older note.")
    newer = CaseNote.objects.filter(case=person.case).latest("created_at")
    # Author handle and time, shown in the console's time zone (Moscow's date differs from UTC's after 21:00 UTC).
    assert f"coordinator · {timezone.localtime(newer.created_at):%Y-%m-%d}" in notes
    assert "caseworker ·" in notes
    # Only the author gets the link to change a note.
    assert f"/notes/{newer.pk}/edit/" not in notes


def test_a_note_is_unreadable_to_a_member_removed_from_the_case(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    her_private_key = private_key(caseworker)
    kept = keys.case_private_keys(case, caseworker.member, her_private_key)  # all she could copy
    casework_services.case_member_remove(  # she leaves the case
        case=case, actor=caseworker.member, actor_private_key=private_key(caseworker), member=caseworker.member
    )
    case.refresh_from_db()
    note = services.note_create(
        case=case,
        author=coordinator.member,
        author_private_key=private_key(coordinator),
        body="Written after she left the case.",
    )

    assert note.case_key.version == case.key_version == 2
    ctx = crypto.note_body_ctx(note.id.bytes, case, coordinator.member.pk)
    for old_key in [*kept.values(), her_private_key]:
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(old_key, bytes(note.body_ct), ctx=ctx)
    with pytest.raises(keys.NoAccess):
        keys.case_private_keys(case, caseworker.member, her_private_key)
    assert caseworker.console().get(f"/cases/{case.public_id}/?section=notes").status_code == 404
    assert _add_note(caseworker, case, "Trying to write anyway.").status_code == 404
    assert "Written after she left the case." in text(
        coordinator.console().get(f"/cases/{case.public_id}/?section=notes")
    )


def test_a_note_written_before_a_key_rotation_still_opens_and_an_edit_reseals_it_to_the_new_key(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    _add_note(caseworker, case, "Written under the first key.")
    verifier = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    casework_services.case_member_add(
        case=case, actor=coordinator.member, actor_private_key=private_key(coordinator), member=verifier.member
    )
    casework_services.case_member_remove(
        case=case, actor=coordinator.member, actor_private_key=private_key(coordinator), member=verifier.member
    )
    case.refresh_from_db()
    assert case.key_version == 2
    note = CaseNote.objects.get(case=case)
    assert note.case_key.version == 1
    assert "Written under the first key." in text(caseworker.console().get(f"/cases/{case.public_id}/?section=notes"))

    console = caseworker.console()
    response = console.post(
        f"/cases/{case.public_id}/notes/{note.pk}/edit/", {"body": "Changed under the second key.", "revision": 1}
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.case_key.version, note.revision) == (2, 2)
    assert "Changed under the second key." in text(console.get(f"/cases/{case.public_id}/?section=notes"))


def test_a_note_body_moved_to_another_note_or_author_does_not_open(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    first = services.note_create(
        case=person.case, author=caseworker.member, author_private_key=private_key(caseworker), body="First."
    )
    second = services.note_create(
        case=person.case, author=caseworker.member, author_private_key=private_key(caseworker), body="Second."
    )
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    CaseNote.objects.filter(pk=second.pk).update(body_ct=bytes(first.body_ct))
    with pytest.raises(sealbox.CryptoError):
        selectors.open_note(CaseNote.objects.select_related("case", "author").get(pk=second.pk), opened)
    CaseNote.objects.filter(pk=first.pk).update(author=coordinator.member)
    with pytest.raises(sealbox.CryptoError):
        selectors.open_note(CaseNote.objects.select_related("case", "author").get(pk=first.pk), opened)


def test_only_the_author_can_change_a_note(coordinator: Staff, caseworker: Staff, person: PersonAtRisk) -> None:
    note = services.note_create(
        case=person.case, author=caseworker.member, author_private_key=private_key(caseworker), body="Mine."
    )
    url = f"/cases/{person.case.public_id}/notes/{note.pk}/edit/"
    console = coordinator.console()
    assert console.get(url).status_code == 403
    assert console.post(url, {"body": "Not yours.", "revision": 1}).status_code == 403
    with pytest.raises(Refused):
        services.note_edit(
            note=note,
            actor=coordinator.member,
            actor_private_key=private_key(coordinator),
            body="x",
            expected_revision=1,
        )
    note.refresh_from_db()
    assert note.revision == 1
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_note(note, opened).body == "Mine."


def test_a_second_editor_gets_a_conflict_and_keeps_their_text(caseworker: Staff, person: PersonAtRisk) -> None:
    """Notes are changed by their author only, so the second editor is the author in another
    window or on another device."""
    note = services.note_create(
        case=person.case,
        author=caseworker.member,
        author_private_key=private_key(caseworker),
        body="The first version.",
    )
    url = f"/cases/{person.case.public_id}/notes/{note.pk}/edit/"
    laptop, phone = caseworker.console(language="en"), caseworker.console(language="en")
    assert field_value(text(laptop.get(url)), "revision") == "1"
    assert field_value(text(phone.get(url)), "revision") == "1"

    assert laptop.post(url, {"body": "Saved from the laptop.", "revision": 1}).status_code == 302
    response = phone.post(url, {"body": "Typed on the phone, not to be lost.", "revision": 1})

    assert response.status_code == 409
    page = text(response)
    assert "Not saved: this was changed while you were editing." in page
    assert "Saved from the laptop." in page.split("The version saved now", 1)[1]
    assert textarea(page, "body") == "Typed on the phone, not to be lost."
    assert field_value(page, "revision") == "2"
    note.refresh_from_db()
    assert note.revision == 2
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_note(note, opened).body == "Saved from the laptop."
    assert AuditEntry.objects.filter(action=Action.NOTE_EDIT).count() == 1

    # Saving again from the shown revision replaces the other version, on purpose.
    assert phone.post(url, {"body": "Typed on the phone, not to be lost.", "revision": 2}).status_code == 302
    note.refresh_from_db()
    assert selectors.open_note(note, opened).body == "Typed on the phone, not to be lost."


def test_the_conflict_message_is_in_russian_too(caseworker: Staff, person: PersonAtRisk) -> None:
    note = services.note_create(
        case=person.case, author=caseworker.member, author_private_key=private_key(caseworker), body="Первая версия."
    )
    url = f"/cases/{person.case.public_id}/notes/{note.pk}/edit/"
    console = caseworker.console(language="ru")
    assert console.post(url, {"body": "Вторая версия.", "revision": 1}).status_code == 302
    page = text(console.post(url, {"body": "Третья версия.", "revision": 1}))
    assert "Не сохранено: пока вы редактировали, это изменили." in page
    assert textarea(page, "body") == "Третья версия."


@pytest.mark.parametrize(
    ("language", "empty", "too_long"),
    [
        ("en", "The note is empty.", "The note is too long (at most 10000 characters)."),
        ("ru", "Заметка пустая.", "Заметка слишком длинная: максимум 10000 символов."),
    ],
)
def test_note_form_errors_are_clear_in_both_languages_and_keep_the_text(
    caseworker: Staff, person: PersonAtRisk, language: str, empty: str, too_long: str
) -> None:
    response = _add_note(caseworker, person.case, "   ", language=language)
    assert response.status_code == 400
    assert empty in text(response)
    long_text = "я" * 10_001
    response = _add_note(caseworker, person.case, long_text, language=language)
    assert response.status_code == 400
    page = text(response)
    assert too_long in page
    assert long_text in page  # nothing typed is lost
    assert not CaseNote.objects.exists()
