"""Redacting a batch: names in every case and script, one pseudonym per person, kept places."""

from __future__ import annotations

import re

import pytest

from redaction.pipeline import Document, Redacted, redact

KEY = bytes(range(32))


def one(text: str, lang: str | None = "ru", key: bytes = KEY) -> Redacted:
    return redact([Document("1", text, lang)], key)[0]


def pseudonyms_in(text: str) -> list[str]:
    return re.findall(r"\[PERSON-[A-Z]{6}\]", text)


def test_it_replaces_a_name_in_every_case_with_one_pseudonym() -> None:
    result = one("Ислама Дудаева забрали. Исламу звонили. С Исламом Дудаевым говорил брат. Дудаеву угрожали.")
    assert "Ислам" not in result.text and "Дудаев" not in result.text
    assert len(set(pseudonyms_in(result.text))) == 1


def test_the_same_person_gets_the_same_pseudonym_across_documents_and_scripts() -> None:
    results = redact(
        [
            Document("ru", "Меня зовут Ислам Дудаев, я из Грозного.", "ru"),
            Document("en", "Islam Dudayev reached Berlin; Dudaev is safe.", "en"),
            Document("ru2", "Исламу Дудаеву нужна помощь.", None),
        ],
        KEY,
    )
    codes = {code for result in results for code in pseudonyms_in(result.text)}
    assert len(codes) == 1
    assert results[1].pseudonyms == {"Dudaev": codes.pop(), "Islam Dudayev": results[1].pseudonyms["Dudaev"]}


def test_two_keys_give_pseudonyms_that_cannot_be_joined() -> None:
    text = "Ахмед Тимиров пропал."
    assert pseudonyms_in(one(text).text) != pseudonyms_in(one(text, key=bytes(32)).text)


def test_namesakes_with_different_given_names_stay_apart() -> None:
    result = one("Хеда Дудаева и Ислам Дудаев уехали. Хеда позвонила, Ислам нет.")
    first, second, third, fourth = pseudonyms_in(result.text)
    assert first == third and second == fourth and first != second


def test_it_keeps_public_places_and_units() -> None:
    result = one("Его увезли из Грозного в Аргун, в полк ППСП-2 имени Ахмата Кадырова, потом в Москву.")
    for kept in ("Грозного", "Аргун", "ППСП-2 имени Ахмата Кадырова", "Москву"):
        assert kept in result.text


def test_it_removes_private_places_employers_and_identifiers() -> None:
    text = (
        "Живу в с. Цоци-Юрт, ул. Ленина, д. 5, кв. 12. Работал кассиром в ООО «Вайнах Строй». "
        "Мой номер +7 928 123-45-67, почта a.b@mail.ru, машина А123ВС 95."
    )
    result = one(text)
    for secret in ("Цоци-Юрт", "Ленина", "Вайнах", "928", "mail.ru", "А123ВС"):
        assert secret not in result.text
    assert "[PLACE]" in result.text and "[EMPLOYER]" in result.text and "[PHONE]" in result.text


def test_it_leaves_a_trap_word_that_is_nobodys_name() -> None:
    result = one("Надежда есть. Вера в Аллаха нас держит. Я подарил ему розу.")
    assert result.text == "Надежда есть. Вера в Аллаха нас держит. Я подарил ему розу."


def test_a_month_is_not_a_name_but_a_woman_called_may_is() -> None:
    result = one("In May 2017 my friend May Lindqvist called. Grace Holloway answered.", "en")
    assert result.text.startswith("In May 2017 my friend [PERSON-")
    assert "Lindqvist" not in result.text and "Holloway" not in result.text


def test_a_nickname_takes_the_pseudonym_of_the_man_it_was_given_to() -> None:
    results = redact(
        [
            Document("a", "Одного я узнала: это Сулейман Цакаев, его ещё зовут «Шериф».", "ru"),
            Document("b", 'The man they call "Sheriff" was there again.', "en"),
        ],
        KEY,
    )
    codes = {code for result in results for code in pseudonyms_in(result.text)}
    assert len(codes) == 1 and "Шериф" not in results[0].text and "Sheriff" not in results[1].text


def test_a_name_found_in_one_document_is_removed_from_the_others() -> None:
    results = redact(
        [Document("a", "Меня зовут Мовсар Юсупов.", "ru"), Document("b", "Передайте Мовсаром занялись.", "ru")],
        KEY,
    )
    assert "Мовсар" not in results[1].text


def test_the_spans_and_replacements_line_up_with_the_original() -> None:
    text = "Звоните Ахмеду: 89281234567."
    result = one(text)
    rebuilt = text
    for span, replacement in sorted(zip(result.spans, result.replacements, strict=True), key=lambda p: -p[0].start):
        rebuilt = rebuilt[: span.start] + replacement + rebuilt[span.end :]
    assert rebuilt == result.text


def test_a_reviewed_proposal_renders_what_staff_kept_and_added() -> None:
    from redaction.pipeline import Proposed, person_of, propose, render

    text = "Ахмед Тимиров звонил из кафе «Жаннат». Ахмед сказал, что Тимиров в безопасности."
    proposal = propose([Document("1", text, "ru")])[0]
    cafe = next(r for r in proposal.removals if "Жаннат" in text[r.start : r.end])
    # Staff decide the café may stay, and mark the second surname by hand.
    reviewed = [r for r in proposal.removals if r != cafe and "Тимиров в" not in text[r.start : r.end + 2]]
    start = text.rindex("Тимиров")
    reviewed.append(Proposed(start, start + len("Тимиров"), "PERSON", "staff", person_of("Ахмед Тимиров")))
    out, mapping, _ = render(text, reviewed, KEY)
    assert "Жаннат" in out and "Тимиров" not in out and "Ахмед" not in out
    assert len(set(mapping.values())) == 1


def test_overlapping_removals_are_refused() -> None:
    from redaction.pipeline import Proposed, render

    with pytest.raises(ValueError, match="overlap"):
        render("Ахмед Тимиров", [Proposed(0, 8, "PERSON"), Proposed(6, 13, "PERSON")], KEY)


def test_french_addresses_lowercase_streets_and_settlements_are_removed() -> None:
    result = one("He stays at 12 rue des Tanneurs, appt 4B; before that on marata st, near tsotsi-yurt.", "en")
    for secret in ("Tanneurs", "4B", "marata", "tsotsi"):
        assert secret not in result.text


def test_a_numbered_line_does_not_make_a_name_a_month() -> None:
    results = redact([Document("a", "Present: May Lindqvist.\n1. May will publish nothing before May 20.", "en")], KEY)
    assert results[0].text.count("May") == 1 and "before May 20" in results[0].text
