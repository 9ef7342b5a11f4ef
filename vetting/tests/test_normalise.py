"""Normalising texts before hashing: the same item however it is written (no database)."""

from __future__ import annotations

from vetting import normalise


def test_case_yo_punctuation_filler_words_and_single_letters_do_not_matter() -> None:
    assert normalise.tokens("Ул. ЛЁНИНА, д. 15 — и кв.42!") == ["ул", "ленина", "15", "кв", "42"]


def test_a_number_matches_however_it_is_grouped() -> None:
    assert normalise.tokens("+7 (912) 345-67-89") == ["79123456789"]
    assert normalise.tokens("дом 15, 42") == ["дом", "15", "42"]  # a comma is not inside a number


def test_an_item_is_remembered_by_pairs_of_words_and_a_draft_by_words_and_pairs() -> None:
    assert normalise.item_shingles("Мария Соколова, Казань") == {"мария соколова", "соколова казань"}
    assert normalise.item_shingles("Соколова") == {"соколова"}
    assert normalise.draft_shingles("Спросите Марию") == {"спросите", "марию", "спросите марию"}


def test_how_much_of_an_item_a_draft_must_hold() -> None:
    assert [normalise.needed_matches(n) for n in (1, 2, 3, 8, 9, 40)] == [1, 2, 2, 2, 3, 3]


def test_handles_lose_the_at_sign_spaces_and_case() -> None:
    assert normalise.handle(" @Kazbek_Free ") == "kazbek_free"
    assert list(normalise.contact_forms("8 912 345 67 89")) == [("phone", "79123456789"), ("handle", "89123456789")]
    assert list(normalise.contact_forms("@Kazbek")) == [("handle", "kazbek")]
