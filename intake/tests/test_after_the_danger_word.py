"""What each phrase shows once the danger word was used (T4).

The danger phrase shows the cover conversation. While the case is under duress the real
phrase shows a calm page in the same layout with only what was sealed to it since: nothing
from before (a captor who tries the phrase without the danger word learns nothing), none of
the cover, and nothing labelled "You" that the person did not write. What is written with one
phrase is never sealed to the other. The two pages cannot be told apart by their structure,
their queries or the cost of the login."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

import sealbox
from casework import keys, services, texts
from casework.models import Message, MessageKey, PersonCredential
from evacuation.checkins.tests.helpers import schedule
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff, open_case

FIRST = "First message from the person."  # the conftest person's opening message
CALM = "There are no messages to show. Our answers will appear here."


def _page(client: FaceClient) -> str:
    return str(client.get("/conversation/").content.decode())


def _you(page: str) -> list[str]:
    """The bodies the page labels as the reader's own ("You")."""
    return re.findall(r'<li class="person">.*?<p class="body">(.*?)</p>', page, re.S)


def _thread(page: str) -> str:
    return page.split('<ol class="thread">')[1].split("</ol>")[0]


def _write(client: FaceClient, text: str) -> Message:
    assert client.post("/conversation/", {"message": text}).status_code == 302
    return Message.objects.filter(sender="person").latest("created_at")


def _readers(message: Message) -> set[str]:
    """Who can open the message: "case" for a case-key wrap, "real"/"duress" for credentials."""
    names = set()
    for wrap in MessageKey.objects.filter(message=message).select_related("credential"):
        if wrap.credential is None:
            names.add("case")
        else:
            names.add("duress" if wrap.credential.is_duress else "real")
    return names


def _held_reply(staff: Staff, person: PersonAtRisk, body: str) -> Message:
    response = staff.console().post(f"/cases/{person.case.public_id}/reply/", {"body": body})
    assert response.status_code == 302
    return Message.objects.filter(case=person.case, sender="staff", is_decoy=False).latest("created_at")


def _release(coordinator: Staff, person: PersonAtRisk, message: Message) -> None:
    url = f"/cases/{person.case.public_id}/messages/{message.pk}/release/"
    assert coordinator.console().post(url, {"confirm": "on"}).status_code == 302


def _clear(staff: Staff, person: PersonAtRisk) -> None:
    url = f"/cases/{person.case.public_id}/duress/clear/"
    assert staff.console().post(url, {"reason": "met_in_person", "confirm": "on"}).status_code == 302


# --- what each phrase shows ------------------------------------------------------------------


def test_after_a_danger_word_login_the_real_phrase_shows_a_calm_page_without_history_or_cover(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """Captor with the phone who forced the danger word out and then tries the phrase without
    it; and the person, who must not see the captor's cover labelled as theirs."""
    caseworker.console().post(f"/cases/{person.case.public_id}/reply/", {"body": "A reply before the danger word."})
    cover = _page(person.intake(duress=True, language="en"))
    opening = Message.objects.get(case=person.case, is_decoy=True, sender="person")

    real = _page(person.intake(language="en"))

    assert FIRST not in real and "A reply before the danger word." not in real
    assert not any(opening_text in real for opening_text in _you(cover))
    assert _you(real) == [] and '<ol class="thread">\n</ol>' in real
    assert CALM in real and "Your conversation" in real and 'action="/conversation/"' in real
    assert opening.is_decoy


def test_what_a_captor_writes_with_the_danger_phrase_never_reaches_the_real_phrase(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """Captor with the phone: their words must not appear to the person as the person's own."""
    captor = person.intake(duress=True, language="en")
    message = _write(captor, "Come to the station at six, I am waiting.")

    assert _readers(message) == {"case", "duress"}
    assert message.after_duress and not message.is_decoy
    assert "Come to the station at six" in _page(captor)
    assert "Come to the station at six" not in _page(person.intake(language="en"))
    _clear(caseworker, person)
    assert "Come to the station at six" not in _page(person.intake(language="en"))
    staff_page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "Come to the station at six" in staff_page and "after duress login: may not be the person" in staff_page


def test_what_the_person_writes_with_the_real_phrase_under_duress_is_closed_to_the_danger_phrase(
    person: PersonAtRisk,
) -> None:
    """Captor with the phone and the danger phrase: they must not read what the person writes."""
    captor = person.intake(duress=True, language="en")
    real = person.intake(language="en")

    message = _write(real, "I am safe for now, they took my phone.")

    assert _readers(message) == {"case", "real"}
    assert message.after_duress  # staff still treat it with care
    assert _you(_page(real)) == ["I am safe for now, they took my phone."]
    assert "they took my phone" not in _page(captor)
    assert "they took my phone" not in _page(person.intake(duress=True, language="en"))


def test_a_reply_released_under_duress_shows_with_the_real_phrase_and_never_with_the_danger_word(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    person.intake(duress=True)
    reply = _held_reply(caseworker, person, "We can talk on the agreed channel tonight.")
    assert "agreed channel" not in _page(person.intake(language="en"))

    _release(coordinator, person, reply)

    real = _page(person.intake(language="en"))
    assert "agreed channel" in real and _you(real) == []
    assert "agreed channel" not in _page(person.intake(duress=True, language="en"))


def test_once_duress_is_cleared_the_real_phrase_shows_the_real_conversation_without_the_captors_words(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    captor = person.intake(duress=True, language="en")
    _write(captor, "Words the captor typed.")
    _write(person.intake(language="en"), "Words the person typed.")

    _clear(caseworker, person)

    real = _page(person.intake(language="en"))
    assert _you(real) == [FIRST, "Words the person typed."]
    assert "Words the captor typed." not in real


def test_the_cover_conversation_is_sealed_to_the_case_key_and_the_duress_credential_only(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """Nothing of the cover is readable with the real phrase, so it can never show there."""
    response = caseworker.console().post(f"/cases/{person.case.public_id}/decoy-reply/", {"decoy_body": "Yes, ten."})
    assert response.status_code == 302
    cover = list(Message.objects.filter(case=person.case, is_decoy=True))
    assert len(cover) == 3
    assert all(_readers(message) == {"case", "duress"} for message in cover)


def test_neither_phrase_shows_the_check_in_button_under_duress(person: PersonAtRisk, caseworker: Staff) -> None:
    """Captor with either phrase: the button would tell them the person checks in; a check-in
    under duress counts for nothing anyway."""
    schedule(person, caseworker)
    assert 'action="/checkin/"' in _page(person.intake())
    person.intake(duress=True)
    assert 'action="/checkin/"' not in _page(person.intake(duress=True))
    assert 'action="/checkin/"' not in _page(person.intake())


# --- the first message of the cover conversation ---------------------------------------------


def test_the_person_may_write_the_first_message_of_the_cover_conversation(caseworker: Staff) -> None:
    """Captor who knows this software: a fixed opening would give the cover away."""
    own = "Hello, is the pension office on Lenin square open on Mondays?"
    person = open_case(decoy_opening=own)

    cover = _page(person.intake(duress=True, language="en"))

    assert _you(cover) == [own]
    opening = Message.objects.get(case=person.case, is_decoy=True, sender="person")
    assert _readers(opening) == {"case", "duress"}
    assert own not in _page(person.intake(language="en"))


@pytest.mark.parametrize("language", ["ru", "en"])
def test_without_their_own_the_cover_opens_with_one_of_thousands_of_everyday_questions(
    caseworker: Staff, language: str
) -> None:
    openings = set(texts.decoy_openings(language))
    assert len(openings) == texts.decoy_opening_count(language) >= 1000
    person = open_case(language=language)
    cover = _page(person.intake(duress=True, language=language))
    assert len(_you(cover)) == 1
    assert _you(cover)[0].replace("&#x27;", "'") in openings
    drawn = {texts.decoy_opening(language) for _ in range(20)}
    assert len(drawn) > 15 and drawn <= openings


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_everyday_openings_are_well_formed_sentences_that_say_nothing_about_the_writer(language: str) -> None:
    gendered = re.compile(r"\b(хотел|хотела|рад|рада|благодарен|благодарна|должен|должна|смог|смогла)\b")
    for opening in texts.decoy_openings(language):
        assert opening == opening.strip() and "  " not in opening
        assert opening[0].isupper() and opening[-1] in ".?!"
        assert "?" in opening and not re.search(r"[,.?!]{2}|\s[,.?!]", opening)
        assert not gendered.search(opening.casefold())
        assert not re.search(r"[A-Za-z]", opening) if language == "ru" else not re.search("[а-яё]", opening)


def test_the_cover_opening_the_person_writes_goes_through_the_form_and_needs_a_danger_word(caseworker: Staff) -> None:
    client = FaceClient(INTAKE)
    client.post("/language/", {"language": "en", "next": "/"})
    page = client.get("/start/").content.decode()
    codename = " ".join(re.findall(r"<span>([^<]+)</span>", page.split('class="codename"')[1].split("</p>")[0]))
    request = {"urgency": "in_hiding", "region": "moscow", "message": "I am hiding."}
    own = "Hi, do you know when the library reopens?"

    refused = client.post("/request/", {**request, "decoy_opening": own})
    assert refused.status_code == 400
    assert "used only with a danger word" in refused.content.decode() and own in refused.content.decode()

    word = sealbox.danger_word_candidates(codename, 1)[0]
    assert client.post("/request/", {**request, "decoy_opening": own, "duress_word": word}).status_code == 302
    captor = FaceClient(INTAKE)
    assert captor.post("/login/", {"codename": " ".join([*codename.split()[:-1], word])}).status_code == 302
    assert _you(_page(captor)) == [own]


# --- the two pages cannot be told apart ------------------------------------------------------


class _Skeleton(HTMLParser):
    """The tags of <main> with their attribute names, and class values except the sender's:
    what structure alone shows, without any text, time, token or identifier."""

    SENDERS = {"person", "staff", "automatic"}

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.tags: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.inside = True
        if not self.inside:
            return
        classes = [value or "" for name, value in attrs if name == "class"]
        shown = tuple(c for c in " ".join(classes).split() if c not in self.SENDERS)
        self.tags.append((tag, *sorted(name for name, _ in attrs), *shown))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.inside = False


def _skeleton(page: str) -> list[tuple[str, ...]]:
    parser = _Skeleton()
    parser.feed(page)
    return parser.tags


def _measured(client: FaceClient, url: str = "/conversation/") -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    return page, len(queries)


def _under_duress_with(person: PersonAtRisk, captor_writes: int, person_writes: int) -> tuple[FaceClient, FaceClient]:
    captor = person.intake(duress=True, language="en")
    real = person.intake(language="en")
    for number in range(captor_writes):
        _write(captor, f"Captor line {number}.")
    for number in range(person_writes):
        _write(real, f"Person line {number}.")
    for client in (captor, real):
        _page(client)  # each has now seen its "Sent" notice, if it wrote
    return captor, real


@pytest.mark.parametrize(
    ("captor_writes", "person_writes"),
    [(0, 2), (10, 12)],
    ids=["one page", "two pages"],
)
def test_the_cover_and_the_calm_page_have_the_same_structure_and_queries(
    person: PersonAtRisk, caseworker: Staff, captor_writes: int, person_writes: int
) -> None:
    """Captor who knows this software, comparing what each phrase shows: with as many messages
    on each, the same template, elements, notices, pagination and check-in rules, and the
    same number of database queries."""
    schedule(person, caseworker)  # check-ins are asked for: neither page may show the button
    captor, real = _under_duress_with(person, captor_writes, person_writes)

    cover_page, cover_queries = _measured(captor)
    calm_page, calm_queries = _measured(real)

    assert len(_you(cover_page)) + cover_page.count('<li class="automatic">') == len(_you(calm_page))
    assert _skeleton(cover_page) == _skeleton(calm_page)
    assert cover_queries == calm_queries
    if person_writes > 10:
        assert "Earlier messages" in cover_page and "Earlier messages" in calm_page
        cover_older, older_cover_queries = _measured(captor, "/conversation/?page=2")
        calm_older, older_calm_queries = _measured(real, "/conversation/?page=2")
        assert _skeleton(cover_older) == _skeleton(calm_older)
        assert older_cover_queries == older_calm_queries


def test_the_cover_looks_and_costs_like_an_ordinary_conversation(
    person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    """Captor who knows this software and how an ordinary conversation page looks and costs:
    the cover (first message and acknowledgement) against another person's real conversation
    (first message and acknowledgement, not under duress). Whether check-ins are asked for is
    looked up on both."""
    ordinary = other_person.intake(language="en")
    captor = person.intake(duress=True, language="en")

    cover_page, cover_queries = _measured(captor)
    ordinary_page, ordinary_queries = _measured(ordinary)

    assert _thread(cover_page).count("<li") == _thread(ordinary_page).count("<li") == 2
    assert _skeleton(cover_page) == _skeleton(ordinary_page)
    assert cover_queries == ordinary_queries


def test_the_cover_and_the_calm_page_answer_a_sent_message_the_same_way(person: PersonAtRisk) -> None:
    captor, real = _under_duress_with(person, 0, 2)
    answers = [client.post("/conversation/", {"message": "Hello again."}, follow=True) for client in (captor, real)]
    assert [answer.redirect_chain for answer in answers] == [[("/conversation/", 302)]] * 2
    pages = [answer.content.decode() for answer in answers]
    assert all("Sent. We will answer here." in page for page in pages)
    assert _skeleton(pages[0]) == _skeleton(pages[1])


CRYPTO = ("unseal", "decrypt", "message_tag_valid", "signature_valid")


def _counting_crypto(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the crypto operations a page runs (the real ones still run)."""
    calls = dict.fromkeys(CRYPTO, 0)
    for name in CRYPTO:
        real = getattr(sealbox, name)

        def counted(*args: object, _name: str = name, _real: Callable[..., object] = real, **kwargs: object) -> object:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(sealbox, name, counted)
    return calls


def test_a_cover_reply_and_a_released_reply_cost_the_same_to_show(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a staff message on each page (a reply in the cover, a released real reply), the
    signature checks and their lookups are the same work: the same queries and the same
    unseals, decryptions and proof-of-origin checks."""
    captor, real = _under_duress_with(person, 0, 2)
    url = f"/cases/{person.case.public_id}/decoy-reply/"
    assert caseworker.console().post(url, {"decoy_body": "We open at ten."}).status_code == 302
    _write(real, "One more line.")
    _release(coordinator, person, _held_reply(caseworker, person, "A released answer."))
    _write(captor, "A captor line.")

    calls = _counting_crypto(monkeypatch)
    cover_page, cover_queries = _measured(captor)
    cover_crypto = dict(calls)
    calls.update(dict.fromkeys(CRYPTO, 0))
    calm_page, calm_queries = _measured(real)

    assert _thread(cover_page).count("<li") == _thread(calm_page).count("<li") == 4
    assert _skeleton(cover_page) == _skeleton(calm_page)
    assert cover_queries == calm_queries
    assert cover_crypto == calls and cover_crypto["unseal"] >= 4 and cover_crypto["signature_valid"] == 1


# --- the login costs the same ----------------------------------------------------------------


def _login_statements(phrase: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert services.person_login(sealbox.normalise_codename(phrase)) is not None
    variable = r"\bs\d+_x\d+\b|\b\d+\b|'[^']*'|%s"  # savepoint names, numbers, quoted values
    return [re.sub(variable, "?", query["sql"]) for query in queries.captured_queries]


def test_a_danger_word_login_runs_the_same_statements_as_a_real_one(person: PersonAtRisk) -> None:
    """Captor timing the login: once the case is under duress (every login after the first
    alarm), both phrases run the same statements, each after one Argon2id derivation."""
    person.intake(duress=True)
    danger = services.duress_phrase(person.codename, person.duress_word)

    assert _login_statements(danger) == _login_statements(person.codename)


def test_the_first_danger_word_login_adds_only_the_alarm_to_a_real_login(
    person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    """Before the alarm: a real login to a case not under duress, and the first danger-word
    login, differ only by the safe-house key lookup and the queued alarm (docs/crypto.md)."""
    real = _login_statements(other_person.codename)
    danger = _login_statements(services.duress_phrase(person.codename, person.duress_word))
    assert danger[: len(real)] == real
    # The savepoint around taking safe-house address keys away: the case's stay, its sealings.
    assert len(danger) - len(real) <= 4
    assert PersonCredential.objects.filter(case=person.case, is_duress=True).exists()


# --- messages sealed under the old rule --------------------------------------------------------


def test_messages_sealed_to_both_phrases_before_are_taken_from_the_real_phrase(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    """Migration casework 0010: under the old rule the cover and every message written after a
    duress login were sealed to both phrases. Who wrote such a message cannot be known, so the
    real phrase stops showing it as the person's own; the danger phrase and staff keep theirs."""
    migration = importlib.import_module("casework.migrations.0012_duress_phrases_read_apart")
    captor = person.intake(duress=True, language="en")
    case = person.case
    both = services.Readers(
        case_key=keys.current_case_key(case), credentials=list(case.credentials.order_by("is_duress"))
    )
    old_cover = services._message_create(case, Message.Sender.PERSON, "Old cover line.", both, is_decoy=True)
    old_after = services._message_create(case, Message.Sender.PERSON, "Old line after.", both, after_duress=True)
    own = _write(person.intake(language="en"), "A line the person wrote with the real phrase.")

    migration.separate(django_apps, None)

    assert _readers(old_cover) == _readers(old_after) == {"case", "duress"}
    assert _readers(own) == {"case", "real"}
    _clear(caseworker, person)
    real = _page(person.intake(language="en"))
    assert "Old cover line." not in real and "Old line after." not in real
    assert "A line the person wrote with the real phrase." in real
    cover = _page(captor)
    assert "Old cover line." in cover and "Old line after." in cover
    staff_page = caseworker.console().get(f"/cases/{case.public_id}/").content.decode()
    assert "Old line after." in staff_page and "A line the person wrote with the real phrase." in staff_page
