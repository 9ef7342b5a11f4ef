"""What staff do once a danger word was used: replies are held until a coordinator releases
them, and the duress state is cleared only by a key holder who reached the person another way."""

from __future__ import annotations

import html
import re

import pytest

import sealbox
from accounts.keyring import staff_private_key_unlock
from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from casework import selectors, services
from casework.models import Case, Message, MessageKey, PersonCredential
from tests.personas import INTAKE, PASSWORD, FaceClient, PersonAtRisk, Staff
from tests.plaintext_search import (
    LogFile,
    database_places,
    log_record_places,
    needles_for,
    search_places,
    session_places,
)

FIRST = "First message from the person."  # the conftest person's opening message
REPLY = "We have a safe flat for you on Thursday."


def _under_duress(person: PersonAtRisk) -> Case:
    person.intake(duress=True)
    person.case.refresh_from_db()
    assert person.case.under_duress_since is not None
    return person.case


def _reply(staff: Staff, case: Case, body: str = REPLY) -> Message:
    response = staff.console().post(f"/cases/{case.public_id}/reply/", {"body": body})
    assert response.status_code == 302
    return Message.objects.filter(case=case, sender=Message.Sender.STAFF).latest("created_at")


def _clear(staff: Staff, case: Case, reason: str = "reached_safe_channel") -> int:
    response = staff.console().post(f"/cases/{case.public_id}/duress/clear/", {"reason": reason, "confirm": "on"})
    return int(response.status_code)


def _cover_opening(case: Case) -> str:
    """The first message of the case's cover conversation, as a coordinator reads it."""
    coordinator = StaffMember.objects.get(username="coordinator")
    messages = selectors.conversation_for_staff(case, coordinator, staff_private_key_unlock(coordinator, PASSWORD))
    return next(message.body for message in messages if message.is_decoy and message.sender == "person")


def _person_page(person: PersonAtRisk) -> str:
    return str(person.intake(language="en").get("/conversation/").content.decode())


def test_a_reply_to_a_case_under_duress_is_sealed_to_no_credential_and_marked_held(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)

    assert message.held
    assert not MessageKey.objects.filter(message=message, credential__isnull=False).exists()
    assert MessageKey.objects.filter(message=message, case_key__isnull=False).count() == 1
    page = caseworker.console(language="en").get(f"/cases/{case.public_id}/").content.decode()
    assert REPLY in page and 'class="held"' in page
    entry = AuditEntry.objects.filter(action=Action.CASE_REPLY).latest("sequence")
    assert entry.details == {"message": str(message.pk), "held": True}


def test_a_reply_to_a_case_not_under_duress_is_not_held(caseworker: Staff, person: PersonAtRisk) -> None:
    message = _reply(caseworker, person.case)

    assert not message.held
    assert MessageKey.objects.filter(message=message, credential=person.case.reply_credential).exists()


def test_the_held_flag_is_bound_into_the_reply_body(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)
    # Someone with database access flips the flag to slip the reply past the coordinator.
    Message.objects.filter(pk=message.pk).update(held=False)

    with pytest.raises(sealbox.CryptoError):
        selectors.conversation_for_staff(
            case, coordinator.member, staff_private_key_unlock(coordinator.member, PASSWORD)
        )


def test_a_coordinator_releases_a_held_reply_to_the_real_credential_and_it_is_audited(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)

    response = coordinator.console().post(f"/cases/{case.public_id}/messages/{message.pk}/release/", {"confirm": "on"})

    assert response.status_code == 302
    message.refresh_from_db()
    assert not message.held
    assert list(
        MessageKey.objects.filter(message=message, credential__isnull=False).values_list("credential", flat=True)
    ) == [case.reply_credential_id]
    entry = AuditEntry.objects.filter(action=Action.MESSAGE_RELEASE).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (
        coordinator.member.pk,
        case.public_id,
        {"message": str(message.pk)},
    )
    # Staff still read it (the body was re-encrypted without the held flag) ...
    page = coordinator.console(language="en").get(f"/cases/{case.public_id}/").content.decode()
    assert REPLY in page and 'class="held"' not in page
    # ... the person's real codename shows it while the case is still under duress ...
    assert REPLY in _person_page(person)
    assert REPLY not in person.intake(duress=True, language="en").get("/conversation/").content.decode()
    # ... and after the duress state is cleared.
    assert _clear(caseworker, case) == 302
    assert REPLY in _person_page(person)


UNDER_DURESS_NOTE = "only when they open their conversation with their real codename, never with the danger word"
AFTER_CLEARING_NOTE = "only once the danger-word state is cleared"
NEXT_VISIT_NOTE = "The person will see it the next time they open their conversation."


def _release(coordinator: Staff, case: Case, message: Message, *, language: str = "en") -> str:
    """Release as the coordinator; returns the case page shown next (with its success message)."""
    url = f"/cases/{case.public_id}/messages/{message.pk}/release/"
    response = coordinator.console(language=language).post(url, {"confirm": "on"}, follow=True)
    assert response.redirect_chain[0][1] == 302
    return str(html.unescape(response.content.decode()))


def test_releasing_under_duress_says_the_reply_shows_only_with_the_real_codename(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    """The coordinator is told the truth: the danger word never shows a real reply, the real
    codename shows it straight away."""
    case = _under_duress(person)
    message = _reply(caseworker, case)
    case_page = html.unescape(coordinator.console(language="en").get(f"/cases/{case.public_id}/").content.decode())
    assert UNDER_DURESS_NOTE in case_page and "Release to the person" in case_page
    assert "Yes, I have read it: release it to the person" in case_page

    page = _release(coordinator, case, message)

    assert "Reply released. The person will see it " + UNDER_DURESS_NOTE in page
    assert REPLY in _person_page(person)


def test_releasing_a_reply_from_before_the_latest_danger_word_login_says_it_waits_for_clearing(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)
    assert _clear(caseworker, case) == 302
    _under_duress(person)  # a second danger-word login, after the reply was written

    page = _release(coordinator, case, message)

    assert AFTER_CLEARING_NOTE in page
    assert REPLY not in _person_page(person)
    assert _clear(caseworker, case) == 302
    assert REPLY in _person_page(person)


def test_releasing_once_duress_is_cleared_says_the_next_visit_and_speaks_russian(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)
    assert _clear(caseworker, case) == 302
    case_page = html.unescape(coordinator.console(language="ru").get(f"/cases/{case.public_id}/").content.decode())
    assert "Человек увидит его, когда в следующий раз откроет переписку." in case_page

    page = _release(coordinator, case, message, language="ru")

    assert "Ответ передан. Человек увидит его, когда в следующий раз откроет переписку." in page
    assert REPLY in _person_page(person)
    case.refresh_from_db()
    assert services.held_reply_release_note(case, message.created_at) == NEXT_VISIT_NOTE


def test_a_caseworker_cannot_release_a_held_reply(caseworker: Staff, person: PersonAtRisk) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)

    response = caseworker.console().post(f"/cases/{case.public_id}/messages/{message.pk}/release/", {"confirm": "on"})

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.held
    assert not MessageKey.objects.filter(message=message, credential__isnull=False).exists()
    assert not AuditEntry.objects.filter(action=Action.MESSAGE_RELEASE).exists()


def test_staff_without_the_case_key_cannot_release_or_clear(
    caseworker: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)

    client = outsider.console()
    assert client.post(f"/cases/{case.public_id}/messages/{message.pk}/release/", {"confirm": "on"}).status_code == 404
    assert client.post(f"/cases/{case.public_id}/duress/clear/", {"reason": "met_in_person"}).status_code == 404
    case.refresh_from_db()
    assert case.under_duress_since is not None


@pytest.mark.parametrize("reason", ["", "because I said so"])
def test_clearing_duress_needs_a_reason_from_the_list(caseworker: Staff, person: PersonAtRisk, reason: str) -> None:
    case = _under_duress(person)

    assert _clear(caseworker, case, reason) == 400

    case.refresh_from_db()
    assert case.under_duress_since is not None
    assert not AuditEntry.objects.filter(action=Action.CASE_DURESS_CLEAR).exists()


def test_after_clearing_duress_the_real_codename_shows_the_real_conversation_again(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    before = _person_page(person)
    assert FIRST not in before and '<li class="person">' not in before

    assert _clear(caseworker, case, "met_in_person") == 302

    case.refresh_from_db()
    assert case.under_duress_since is None
    after = _person_page(person)
    assert FIRST in after and html.escape(_cover_opening(case)) not in after
    entry = AuditEntry.objects.filter(action=Action.CASE_DURESS_CLEAR).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (
        caseworker.member.pk,
        case.public_id,
        {"reason": "met_in_person"},
    )
    # Replies are sealed to the person again.
    assert not _reply(caseworker, case).held


def test_a_coordinator_holding_the_key_can_clear_duress_too(coordinator: Staff, person: PersonAtRisk) -> None:
    case = _under_duress(person)

    assert _clear(coordinator, case, "trusted_contact") == 302

    case.refresh_from_db()
    assert case.under_duress_since is None


# --- burning a codename ------------------------------------------------------------------------


def _burn(staff: Staff, case: Case) -> str:
    """POST the burn as ``staff``; returns the new codename read from the one page showing it."""
    response = staff.console(language="en").post(f"/cases/{case.public_id}/codename/burn/", {"confirm": "on"})
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    found = re.search(r'<p class="codename"><strong>([^<]+)</strong>', response.content.decode())
    assert found is not None
    return html.unescape(found.group(1))


def _login_status(phrase: str) -> int:
    return int(FaceClient(INTAKE).post("/login/", {"codename": phrase}).status_code)


def test_a_burned_codename_and_its_danger_word_phrase_stop_working_and_the_new_one_opens_the_real_history(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    _reply(caseworker, person.case, "A reply before the danger word.")
    captor = person.intake(duress=True)
    case = _under_duress(person)
    _reply(caseworker, case)  # held: never sealed to any credential

    codename = _burn(caseworker, case)

    assert codename != person.codename
    assert _login_status(person.codename) == 400
    assert _login_status(services.duress_phrase(person.codename, person.duress_word)) == 400
    # A session opened with the danger word before the burn ends too.
    assert captor.get("/conversation/").status_code == 302
    case.refresh_from_db()
    assert case.under_duress_since is None
    assert not case.credentials.filter(revoked_at__isnull=True).exclude(pk=case.reply_credential_id).exists()
    assert not case.reply_credential.is_duress

    page = PersonAtRisk(codename, "", case).intake(language="en").get("/conversation/").content.decode()
    assert FIRST in page and "A reply before the danger word." in page
    assert REPLY not in page  # still held until a coordinator releases it
    assert html.escape(_cover_opening(case)) not in page
    entry = AuditEntry.objects.filter(action=Action.CODENAME_BURN).latest("sequence")
    assert (entry.actor_id, entry.case_public_id) == (caseworker.member.pk, case.public_id)
    new_credential = PersonCredential.objects.get(case=case, revoked_at__isnull=True)
    assert entry.details == {"revoked": 2, "messages": 3, "duress_cleared": True, "credential": new_credential.pk}


def test_a_reply_released_after_a_burn_reaches_the_new_codename(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = _under_duress(person)
    message = _reply(caseworker, case)
    codename = _burn(caseworker, case)

    response = coordinator.console().post(f"/cases/{case.public_id}/messages/{message.pk}/release/", {"confirm": "on"})

    assert response.status_code == 302
    page = PersonAtRisk(codename, "", case).intake(language="en").get("/conversation/").content.decode()
    assert REPLY in page


def test_staff_without_the_case_key_cannot_burn_a_codename(outsider: Staff, person: PersonAtRisk) -> None:
    response = outsider.console().post(f"/cases/{person.case.public_id}/codename/burn/", {"confirm": "on"})

    assert response.status_code == 404
    assert _login_status(person.codename) == 302
    assert not AuditEntry.objects.filter(action=Action.CODENAME_BURN).exists()


@pytest.mark.django_db(transaction=True)
def test_the_new_codename_is_never_stored_or_logged(
    caseworker: Staff, person: PersonAtRisk, all_logs: pytest.LogCaptureFixture
) -> None:
    log_file = LogFile()
    codename = _burn(caseworker, person.case)
    PersonAtRisk(codename, "", person.case).intake()  # a login with it, too

    needles = [
        *needles_for("new codename", codename),
        *needles_for("new codename, normalised", sealbox.normalise_codename(codename)),
    ]
    places = [*database_places(), *session_places(), *log_file.places(), *log_record_places(all_logs.records)]
    findings = search_places(places, needles)
    assert not findings, "\n".join(str(f) for f in findings)
    # The control: the same search finds the codename where it is put on purpose.
    assert search_places([("control", f"x {codename} y".encode())], needles)


# --- hostile relative and do-not-contact-via ---------------------------------------------------

NOTE = "Brother Ruslan works for the police and reads her phone."


def _revision(case: Case) -> str:
    """The revision the case page would carry in its forms right now."""
    return str(Case.objects.get(pk=case.pk).revision)


def test_hostile_family_warnings_are_sealed_in_the_details_and_shown_on_the_case_and_in_the_inbox(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    case = person.case
    flags = {"hostile_relative": "on", "hostile_note": NOTE, "no_contact_via": ["phone", "family"]}
    flags["revision"] = _revision(case)

    response = caseworker.console().post(f"/cases/{case.public_id}/flags/", flags)

    assert response.status_code == 302
    case.refresh_from_db()
    assert NOTE.encode() not in bytes(case.details_ct)
    assert case.details_key_version == case.key_version
    page = coordinator.console(language="en").get(f"/cases/{case.public_id}/").content.decode()
    banner = page.split('class="error warnings"', 1)[1].split("</div>", 1)[0]
    assert "HOSTILE RELATIVE" in banner and NOTE in banner
    assert "Phone calls" in banner and "Family members" in banner and "E-mail" not in banner
    inbox = coordinator.console(language="en").get("/inbox/").content.decode()
    row = inbox.split(f'href="/cases/{case.public_id}/"', 1)[1].split("</tr>", 1)[0]
    assert "HOSTILE RELATIVE" in row and "DO NOT CONTACT VIA" in row and "Phone calls" in row
    assert NOTE not in row  # the note itself stays on the case page
    entry = AuditEntry.objects.filter(action=Action.CASE_FLAGS_SET).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (caseworker.member.pk, case.public_id, {})


def test_a_case_without_warnings_shows_no_banner(coordinator: Staff, person: PersonAtRisk) -> None:
    page = coordinator.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()

    assert 'class="error warnings"' not in page and "HOSTILE RELATIVE" not in page


def test_clearing_the_hostile_flag_drops_its_note(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="en")
    url = f"/cases/{person.case.public_id}/flags/"
    client.post(url, {"hostile_relative": "on", "hostile_note": NOTE, "revision": _revision(person.case)})

    cleared = {"hostile_note": NOTE, "no_contact_via": ["sms"], "revision": _revision(person.case)}
    assert client.post(url, cleared).status_code == 302

    page = client.get(f"/cases/{person.case.public_id}/").content.decode()
    assert NOTE not in page and "HOSTILE RELATIVE" not in page and "DO NOT CONTACT VIA" in page


def test_details_sealed_before_the_warnings_existed_still_load() -> None:
    old = b'{"region": "chechnya", "help_kinds": [], "language": "ru", "contact_kind": "", "contact_value": "", "cover_phrase": ""}'

    details = services.CaseDetails.from_json(old)

    assert (details.hostile_relative, details.hostile_note, details.no_contact_via) == (False, "", [])
    assert not details.has_warnings


def test_an_unknown_channel_is_refused(caseworker: Staff, person: PersonAtRisk) -> None:
    response = caseworker.console().post(
        f"/cases/{person.case.public_id}/flags/", {"no_contact_via": ["pigeon"], "revision": "0"}
    )

    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action=Action.CASE_FLAGS_SET).exists()


def test_staff_without_the_case_key_cannot_set_warnings(outsider: Staff, person: PersonAtRisk) -> None:
    response = outsider.console().post(
        f"/cases/{person.case.public_id}/flags/", {"hostile_relative": "on", "revision": "0"}
    )

    assert response.status_code == 404


def test_the_new_codename_page_repeats_the_channels_not_to_use(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="en")
    client.post(f"/cases/{person.case.public_id}/flags/", {"no_contact_via": ["email"], "revision": "0"})

    page = client.post(f"/cases/{person.case.public_id}/codename/burn/", {"confirm": "on"}).content.decode()

    assert "DO NOT CONTACT VIA</strong>: E-mail" in page
