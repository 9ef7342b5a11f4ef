"""Identifiers with a shape, in the formats people write them."""

from __future__ import annotations

import pytest

from redaction.patterns import shaped
from redaction.spans import settle


def found(text: str) -> list[tuple[str, str]]:
    return [(span.label, span.text(text)) for span in settle(shaped(text))]


@pytest.mark.parametrize(
    "phone",
    [
        "+7 928 123-45-67", "8 (928) 1234567", "89281234567", "+7(928)123 45 67", "8-928-123-45-67",
        "+79281234567", "+7 (8712) 22-33-44", "+49 151 23456789", "+33 6 12 34 56 78", "+995 555 12 34 56",
        "123-45-67",
    ],
)  # fmt: skip
def test_it_finds_phones_in_every_common_format(phone: str) -> None:
    assert found(f"Звоните: {phone}, вечером.") == [("PHONE", phone)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Почта: islam.d94@mail.ru.", [("EMAIL", "islam.d94@mail.ru")]),
        (
            "Канал t.me/zelim_95, страница https://vk.com/id12345.",
            [("LINK", "t.me/zelim_95"), ("LINK", "https://vk.com/id12345")],
        ),
        ("Пишите @zelimkhan_95 в телеграм.", [("HANDLE", "@zelimkhan_95")]),
        ("His Signal username: said.m.94", [("HANDLE", "said.m.94")]),
        ("Машина А123ВС 95 и а123вс95.", [("PLATE", "А123ВС 95"), ("PLATE", "а123вс95")]),
        ("Номер B 777 OP 777 RUS.", [("PLATE", "B 777 OP 777 RUS")]),
        ("A car with German plates HH-PK 2017.", [("PLATE", "HH-PK 2017")]),
        ("Паспорт 96 12 345678.", [("DOCUMENT", "96 12 345678")]),
        ("Паспорт РФ: серия 9612 номер 345678.", [("DOCUMENT", "9612 номер 345678")]),
        ("Карта 4276 1234 5678 9012.", [("DOCUMENT", "4276 1234 5678 9012")]),
        ("IBAN DE89 3704 0044 0532 0130 00.", [("DOCUMENT", "DE89 3704 0044 0532 0130 00")]),
        ("Жалоба под номером 45123/17.", [("DOCUMENT", "45123/17")]),
        ("The file reference is 7234561-160.", [("DOCUMENT", "7234561-160")]),
    ],
)
def test_it_finds_identifiers_with_a_shape(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "birth"),
    [
        ("Родился 12.03.1994 в Грозном.", "12.03.1994"),
        ("Ислам, 1994 г.р., задержан.", "1994 г.р."),
        ("Хава, 05.08.1989 г.р.", "05.08.1989 г.р."),
        ("Родилась 5 мая 1990 года.", "5 мая 1990 года"),
        ("14 июля 1987 года рождения.", "14 июля 1987 года рождения"),
        ("He was born on 12 March 1994.", "12 March 1994"),
        ("DOB: 1994-03-12.", "1994-03-12"),
    ],
)
def test_it_finds_dates_of_birth(text: str, birth: str) -> None:
    assert ("DOB", birth) in found(text)


def test_it_keeps_dates_that_are_not_births_and_ranges_of_years() -> None:
    assert found("Задержан 12.05.2017, отпущен в 2017-2018 годах; case opened in March 2017.") == []
