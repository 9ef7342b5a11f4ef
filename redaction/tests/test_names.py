"""One skeleton for every spelling of a name; nominatives of every Russian case."""

from __future__ import annotations

import pytest

from redaction import names


@pytest.mark.parametrize(
    "spellings",
    [
        ("Дудаев", "Dudaev", "Dudayev", "Doudaev", "Dudajew"),
        ("Зелимхан", "Zelimkhan", "Zelimhan", "Selimchan"),
        ("Хадижат", "Khadizhat", "Hadizhat"),
        ("Саид-Магомед", "Said-Magomed", "Saidmagomed", "Саьид-Мохьмад"),
        ("Мохьмад", "Магомед", "Muhammad", "Mohammed"),
        ("Юсуп", "Yusup", "Yusuf", "Jusuf"),
        ("Илья", "Ilya"),
        ("Наталья", "Natalya", "Наташа"),
        ("Иван", "Ваня", "Ivan", "Vanya"),
        ("Евгений", "Yevgeny", "Evgeniy"),
    ],
)
def test_it_gives_one_skeleton_to_every_spelling_of_a_name(spellings: tuple[str, ...]) -> None:
    assert len({names.skeleton(spelling) for spelling in spellings}) == 1


@pytest.mark.parametrize(
    "forms",
    [
        ("Соловьёва", "Соловьевой", "Solovyova", "Solovyeva"),
        ("Дудаев", "Дудаева", "Дудаеву", "Дудаевым", "Дудаевой", "Dudaeva"),
        ("Тимиров", "Тимирова", "Тимирову", "Timirov"),
        ("Лыкова", "Лыковой", "Lykova"),
    ],
)
def test_it_keys_a_surname_in_every_case_and_both_sexes_alike(forms: tuple[str, ...]) -> None:
    assert len({names.surname_key(form) for form in forms}) == 1


@pytest.mark.parametrize(
    ("inflected", "nominative"),
    [("Ислама", "ислам"), ("Исламом", "ислам"), ("Зелимхану", "зелимхан"), ("Мовсаром", "мовсар"), ("Хеду", "хеда")],
)
def test_it_finds_the_nominative_of_a_given_name(inflected: str, nominative: str) -> None:
    assert names.given_lemma(inflected) == nominative


def test_it_does_not_guess_a_name_from_a_known_word() -> None:
    # «Жена» (wife) is not Женя, «Людей» (people) is not Люда.
    assert names.given_lemma("Жена") is None
    assert names.given_lemma("Людей") is None


def test_a_name_capitalised_in_mid_sentence_is_guessed_from_its_ending() -> None:
    assert names.given_lemma("Седой", guess=True) == "седа"


def test_it_tells_the_sex_a_form_allows() -> None:
    assert names.genders("Дудаевой", "surname") == {"f"}
    assert names.genders("Dudaeva", "surname") == {"f"}
    assert names.genders("Dudaev", "surname") == {"m"}
    assert names.genders("Ислам", "given") == {"m"}


def test_a_pseudonym_alphabet_cannot_spell_a_name() -> None:
    from redaction.people import _ALPHABET

    assert not set("AEIOUY") & set(_ALPHABET)
    assert len(_ALPHABET) == 16
