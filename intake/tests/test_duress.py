"""The danger word (T4): a harmless decoy for whoever forces the phone open, a silent alarm
for staff, and no way back to the real conversation by dropping the word (what each phrase
shows afterwards: test_after_the_danger_word.py)."""

from __future__ import annotations

import html
import re

import pytest

import sealbox
from accounts.keyring import staff_private_key_unlock
from accounts.models import StaffMember
from casework import keys, selectors, services, texts
from casework.models import Case, Message
from tests.personas import PASSWORD, PersonAtRisk, Staff


def _thread_shape(html: str) -> list[str]:
    """The page with every message text and time removed: what structure alone reveals."""
    thread = html.split('<ol class="thread">')[1].split("</ol>")[0]
    return re.findall(r"<(\w+)[^>]*class=\"(\w+)\"", thread)


def _cover_opening(person: PersonAtRisk) -> str:
    """The first message of the case's cover conversation, as staff read it."""
    return next(
        message.body
        for message in selectors.conversation_for_staff(person.case, *_coordinator_keys())
        if message.is_decoy and message.sender == "person"
    )


def _coordinator_keys() -> tuple[StaffMember, bytes]:
    member = StaffMember.objects.get(username="coordinator")
    return member, staff_private_key_unlock(member, PASSWORD)


def test_the_danger_word_opens_a_harmless_decoy_and_flags_the_case(person: PersonAtRisk) -> None:
    page = person.intake(duress=True).get("/conversation/").content.decode()
    assert "First message from the person." not in page
    assert html.escape(_cover_opening(person)) in page
    assert _cover_opening(person) in texts.decoy_openings("en")
    person.case.refresh_from_db()
    assert person.case.under_duress_since is not None


def test_the_decoy_has_the_same_shape_as_the_real_conversation(person: PersonAtRisk) -> None:
    real = person.intake().get("/conversation/").content.decode()
    decoy = person.intake(duress=True).get("/conversation/").content.decode()
    assert _thread_shape(real) == _thread_shape(decoy)
    for marker in ("duress", "danger", "decoy", "опасн"):
        assert marker not in decoy.lower().split("<main>")[1].split("</main>")[0].replace("danger word", "")


def test_dropping_the_danger_word_after_a_duress_login_shows_neither_the_history_nor_the_decoy(
    person: PersonAtRisk,
) -> None:
    person.intake(duress=True)
    page = person.intake().get("/conversation/").content.decode()
    assert "First message from the person." not in page
    assert html.escape(_cover_opening(person)) not in page
    assert '<li class="person">' not in page


def test_messages_after_a_duress_login_are_marked_for_staff(person: PersonAtRisk, caseworker: Staff) -> None:
    forced = person.intake(duress=True)
    assert forced.post("/conversation/", {"message": "Meet me at the station at six."}).status_code == 302
    assert "Meet me at the station at six." in forced.get("/conversation/").content.decode()
    message = Message.objects.get(case=person.case, sender="person", after_duress=True)
    assert not message.is_decoy
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "Meet me at the station at six." in page
    assert "after duress login: may not be the person" in page
    assert "DANGER-WORD LOGIN" in page


def test_staff_replies_do_not_reach_the_decoy(person: PersonAtRisk, caseworker: Staff) -> None:
    person.intake(duress=True)
    caseworker.console().post(f"/cases/{person.case.public_id}/reply/", {"body": "The safe house is on Lenin street."})
    for duress in (True, False):
        page = person.intake(duress=duress).get("/conversation/").content.decode()
        assert "Lenin street" not in page


def test_the_inbox_shows_a_case_under_duress_first(
    person: PersonAtRisk, other_person: PersonAtRisk, caseworker: Staff
) -> None:
    person.intake(duress=True)
    inbox = caseworker.console(language="en").get("/inbox/").content.decode()
    assert inbox.index(person.case.public_id) < inbox.index(other_person.case.public_id)
    assert "DANGER-WORD LOGIN" in inbox


def test_real_duress_and_wrong_logins_cost_exactly_one_derivation(
    person: PersonAtRisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same work whatever the outcome: timing does not tell a decoy from the real thing."""
    calls: list[str] = []
    real_derive = sealbox.derive_codename_secrets

    def counting(normalised: str, **kwargs: object) -> sealbox.CodenameSecrets:
        calls.append(normalised)
        return real_derive(normalised, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sealbox, "derive_codename_secrets", counting)
    other_word = sealbox.danger_word_candidates(f"{person.codename} {person.duress_word}", 1)[0]
    wrong = services.duress_phrase(person.codename, other_word)
    for phrase in (person.codename, services.duress_phrase(person.codename, person.duress_word), wrong):
        calls.clear()
        services.person_login(sealbox.normalise_codename(phrase))
        assert len(calls) == 1


def test_a_case_without_a_danger_word_has_no_decoy(other_person: PersonAtRisk) -> None:
    assert not Message.objects.filter(case=other_person.case, is_decoy=True).exists()
    assert other_person.case.credentials.count() == 1
    assert Case.objects.filter(pk=other_person.case.pk, under_duress_since__isnull=True).exists()


def test_the_duress_phrase_has_as_many_words_as_the_codename(person: PersonAtRisk) -> None:
    """A captor who knows the software cannot tell from the length that a danger word was used."""
    forced = services.duress_phrase(person.codename, person.duress_word)
    assert len(forced.split()) == len(person.codename.split()) == sealbox.CODENAME_WORDS
    assert forced.split()[:-1] == person.codename.split()[:-1]


def test_the_old_appended_form_opens_nothing(person: PersonAtRisk) -> None:
    assert services.person_login(sealbox.normalise_codename(f"{person.codename} {person.duress_word}")) is None


def test_a_danger_word_equal_to_the_last_codename_word_is_refused() -> None:
    codename = sealbox.generate_codename("en")
    with pytest.raises(services.DuressWordInCodename):
        services.duress_phrase(codename, codename.split()[-1].title())


@pytest.mark.parametrize(
    "tampering",
    [{"after_duress": True}, {"is_decoy": True}, {"sender": "staff"}],
    ids=["duress flag", "decoy flag", "sender"],
)
def test_a_message_whose_flags_were_changed_in_the_database_does_not_open(
    person: PersonAtRisk, tampering: dict[str, object]
) -> None:
    """Someone with write access to the database cannot relabel what staff and the person see."""
    first = Message.objects.get(case=person.case, sender="person", is_decoy=False)
    Message.objects.filter(pk=first.pk).update(**tampering)
    derived = services.derive_secrets(sealbox.normalise_codename(person.codename))
    page = selectors.conversation_for_person(
        person.case.reply_credential, derived.keypair.private_key, decoy=bool(tampering.get("is_decoy"))
    )
    assert first.pk not in [message.id for message in page.messages]  # hidden from the person
    tampered = Message.objects.select_related("case").get(pk=first.pk)
    wrap = tampered.keys.get(credential=person.case.reply_credential)
    data_key = sealbox.unseal(
        derived.keypair.private_key, bytes(wrap.sealed_key), ctx=keys.message_key_ctx(tampered.pk)
    )
    with pytest.raises(sealbox.CryptoError):  # and the body no longer opens under its new labels
        sealbox.decrypt(data_key, bytes(tampered.body_ct), ctx=keys.message_body_ctx(tampered))
