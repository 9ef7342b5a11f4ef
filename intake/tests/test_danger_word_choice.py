"""The danger word comes from the codename's own word list (T4).

A codename is six words from a public list. If the danger word could be any word, a captor
who knows this software would look at the phrase forced out of a person and see at once a
word that is not in the list: that is the danger phrase. So the danger word is taken from the
list the codename was made from; the form offers a few random words from it and refuses a
typed word outside it, keeping everything else that was typed."""

from __future__ import annotations

import html
import re

import pytest

import sealbox
from casework import services
from casework.models import Case, PersonCredential
from tests.personas import INTAKE, FaceClient, Staff

REQUEST = {"urgency": "in_hiding", "region": "moscow", "message": "I am hiding at a friend's flat."}
OUTSIDE = {"ru": "Ласточка", "en": "Swallowtails"}  # ordinary words, in no codename list
EXPLAINED = {
    "en": "is not in the list of words your secret phrase was made from",
    "ru": "нет в списке слов, из которых составлена ваша секретная фраза",
}
WHY = {
    "en": "It has to be a word from the same list as the words of your secret phrase",
    "ru": "Это должно быть слово из того же списка, что и слова вашей секретной фразы",
}


def _started(language: str, *, switch_to: str | None = None) -> tuple[FaceClient, str]:
    """A visitor who read a codename on /start/ in ``language`` (then perhaps switched the page
    language); returns the client and the codename."""
    client = FaceClient(INTAKE)
    client.post("/language/", {"language": language, "next": "/"})
    page = client.get("/start/").content.decode()
    words = re.findall(r"<span>([^<]+)</span>", page.split('class="codename"')[1].split("</p>")[0])
    assert len(words) == sealbox.CODENAME_WORDS
    if switch_to:
        client.post("/language/", {"language": switch_to, "next": "/"})
    return client, " ".join(words)


def _candidates(page: str) -> list[str]:
    return [value for value in re.findall(r'name="duress_pick" value="([^"]*)"', page) if value]


def _list_word(language: str, codename: str) -> str:
    """An ordinary word of the list that is not in the codename."""
    return next(word for word in sealbox.wordlist(language) if word not in codename.split() and len(word) > 4)


def _danger_login(codename: str, word: str) -> services.PersonSession | None:
    """Log in with the codename whose last word is replaced by ``word``, as the person would."""
    phrase = " ".join([*codename.split()[:-1], word])
    return services.person_login(sealbox.normalise_codename(phrase))


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_form_never_makes_a_danger_phrase_a_captor_can_spot_by_a_word_outside_the_list(
    caseworker: Staff, language: str
) -> None:
    """Captor with the phone who knows this software: they check each word of the phrase they
    forced out against the public list. A phrase with a word outside it is the danger phrase."""
    client, codename = _started(language)
    word = OUTSIDE[language]

    client.post("/request/", {**REQUEST, "duress_word": word})

    spotted = any(typed not in sealbox.wordlist(language) for typed in sealbox.normalise_codename(word).split())
    assert spotted
    assert _danger_login(codename, word) is None, "a danger phrase with a word outside the list opens a case"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_typed_word_outside_the_list_is_refused_with_a_plain_explanation_and_nothing_typed_is_lost(
    caseworker: Staff, language: str
) -> None:
    client, _ = _started(language)
    typed = {**REQUEST, "contact_kind": "signal", "contact_value": "@kept-contact", "duress_word": OUTSIDE[language]}

    response = client.post("/request/", typed)

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert EXPLAINED[language] in page and OUTSIDE[language] in page
    assert "I am hiding at a friend's flat." in page and "@kept-contact" in page
    assert re.search(r'value="in_hiding"[^>]*checked', page)
    assert not Case.objects.exists()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_typed_word_from_the_codename_list_is_accepted_and_opens_the_cover(caseworker: Staff, language: str) -> None:
    client, codename = _started(language)
    word = _list_word(language, codename)

    response = client.post("/request/", {**REQUEST, "duress_word": word.upper()})

    assert response.status_code == 302, response.content.decode()[:3000]
    forced = _danger_login(codename, word)
    assert forced is not None and forced.credential.is_duress


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_form_offers_random_words_from_the_codename_list_and_a_picked_one_works(
    caseworker: Staff, language: str
) -> None:
    client, codename = _started(language)
    page = client.get("/request/").content.decode()
    offered = _candidates(page)

    assert len(offered) >= 4
    assert all(word in sealbox.wordlist(language) for word in offered)
    assert not set(offered) & set(codename.split())
    assert _candidates(client.get("/request/").content.decode()) != offered, "drawn afresh, not from the codename"
    assert WHY[language] in html.unescape(page)

    response = client.post("/request/", {**REQUEST, "duress_pick": offered[2]})

    assert response.status_code == 302, response.content.decode()[:3000]
    assert _danger_login(codename, offered[2]) is not None
    assert PersonCredential.objects.filter(is_duress=True).count() == 1


def test_the_list_is_the_one_the_codename_was_made_in_not_the_page_language(caseworker: Staff) -> None:
    """A Russian codename, read on /start/ in Russian; the person then switched to English."""
    client, codename = _started("ru", switch_to="en")
    page = client.get("/request/").content.decode()
    assert all(word in sealbox.wordlist("ru") for word in _candidates(page))

    refused = client.post("/request/", {**REQUEST, "duress_word": _list_word("en", "")})
    assert refused.status_code == 400
    assert EXPLAINED["en"] in html.unescape(refused.content.decode())
    assert "Russian" in refused.content.decode()

    word = _list_word("ru", codename)
    assert client.post("/request/", {**REQUEST, "duress_word": word}).status_code == 302
    assert _danger_login(codename, word) is not None


def test_a_picked_word_that_was_not_offered_is_still_checked_against_the_list(caseworker: Staff) -> None:
    """Someone editing the form by hand gains nothing: the pick is checked like a typed word."""
    client, codename = _started("en")
    response = client.post("/request/", {**REQUEST, "duress_pick": OUTSIDE["en"]})
    assert response.status_code == 400
    assert _danger_login(codename, OUTSIDE["en"]) is None


@pytest.mark.parametrize("position", [0, 5], ids=["first word", "last word"])
def test_a_word_of_the_codename_itself_is_refused(caseworker: Staff, position: int) -> None:
    client, codename = _started("en")
    response = client.post("/request/", {**REQUEST, "duress_word": codename.split()[position]})
    assert response.status_code == 400
    assert "This word is part of your secret phrase" in response.content.decode()


def test_picking_a_word_and_typing_another_asks_to_keep_one(caseworker: Staff) -> None:
    client, codename = _started("en")
    offered = _candidates(client.get("/request/").content.decode())
    typed = _list_word("en", codename + " " + " ".join(offered))

    response = client.post("/request/", {**REQUEST, "duress_pick": offered[0], "duress_word": typed})

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "pick a word above or type your own, not both" in page
    assert offered[0] in _candidates(page), "the picked word is offered again"
    assert re.search(rf'value="{offered[0]}"[^>]*checked', page)


def test_the_service_refuses_a_danger_word_outside_the_codename_list() -> None:
    """No other way in: the service checks the word too, whatever called it."""
    codename = sealbox.generate_codename("ru")
    with pytest.raises(services.DuressWordNotInList):
        services.duress_phrase(codename, "ласточка")
    with pytest.raises(services.DuressWordNotInList):
        services.duress_phrase(codename, "gosling")  # in a list, but not in the codename's
    with pytest.raises(services.DuressWordInCodename):
        services.duress_phrase(codename, codename.split()[1])
    word = _list_word("ru", codename)
    assert services.duress_phrase(codename, word).split() == [*codename.split()[:-1], word]
