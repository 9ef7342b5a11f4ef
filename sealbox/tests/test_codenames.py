"""Codenames: forgiving normalisation, generation from the wordlists, and the lists themselves."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sealbox.codenames as codenames
from sealbox import CODENAME_WORDS, InvalidCodename, codename_entropy_bits, generate_codename, normalise_codename
from sealbox.codenames import LANGUAGES, MAX_INPUT_CHARS, wordlist

REAL_WORDLIST_DIR = codenames._WORDLIST_DIR

# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("гора лес река", "гора лес река"),
        ("ГОРА ЛЕС РЕКА", "гора лес река"),
        ("Гора лес река", "гора лес река"),  # autocorrect capitalises the first word
        ("Apple banana cherry", "apple banana cherry"),
        ("ёлка Ёж берёза", "елка еж береза"),
        ("е\u0308лка", "елка"),  # ё typed as е + combining diaeresis: NFKC composes, then ё → е
        ("гора   лес\tрека\nтуман", "гора лес река туман"),
        ("   гора лес   ", "гора лес"),
        ("гора, лес. река; туман! мост? берег", "гора лес река туман мост берег"),
        ("гора-лес—река–туман−мост", "гора лес река туман мост"),
        ("«гора» (лес) 'река' \"туман\"", "гора лес река туман"),
        ("ＡＰＰＬＥ ｂａｎａｎａ", "apple banana"),  # full-width letters from an East Asian keyboard
        ("\ufb01sh", "fish"),  # the fi ligature
        ("гора\u00a0лес\u202fрека", "гора лес река"),  # no-break spaces from a phone keyboard
        ("гора1 лес_река", "гора лес река"),  # digits and underscores are not part of any word
    ],
)
def test_it_forgives_how_a_frightened_person_types_the_codename(typed: str, normalised: str) -> None:
    assert normalise_codename(typed) == normalised


@pytest.mark.parametrize("text", ["", " ", "\t\n ", "...", "!!! — ???", "-- -- --", "123 456", "___", "🙂🙂"])
def test_it_refuses_text_with_no_words_as_invalid(text: str) -> None:
    with pytest.raises(InvalidCodename):
        normalise_codename(text)


def test_it_refuses_text_far_too_long_to_be_a_codename() -> None:
    with pytest.raises(InvalidCodename, match="too long"):
        normalise_codename("а" * (MAX_INPUT_CHARS + 1))
    assert normalise_codename("гора " * (MAX_INPUT_CHARS // 5)) == " ".join(["гора"] * (MAX_INPUT_CHARS // 5))


def test_an_invalid_codename_is_a_value_error_for_form_validation() -> None:
    assert issubclass(InvalidCodename, ValueError)


typed_text = st.text(
    alphabet=st.sampled_from(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЕЖЯabcxyzABCXYZ 0123456789.,;:!?-—–_'\"«»\t\n\u00a0"
    ),
    max_size=80,
)


@settings(max_examples=200)
@given(typed_text)
def test_normalising_twice_changes_nothing(text: str) -> None:
    try:
        once = normalise_codename(text)
    except InvalidCodename:
        return
    assert normalise_codename(once) == once


@settings(max_examples=200)
@given(typed_text)
def test_a_normalised_codename_is_lower_case_words_separated_by_single_spaces(text: str) -> None:
    try:
        normalised = normalise_codename(text)
    except InvalidCodename:
        return
    assert re.fullmatch(r"[a-zа-я]+( [a-zа-я]+)*", normalised), normalised
    assert "ё" not in normalised


@settings(max_examples=100)
@given(st.lists(st.sampled_from(["гора", "лес", "река", "туман", "мост"]), min_size=1, max_size=6), st.data())
def test_any_separator_between_the_words_gives_the_same_codename(words: list[str], data: st.DataObject) -> None:
    punctuation = " ,.-—–;:\t\n\u00a0!?"
    separators = st.text(alphabet=punctuation, min_size=1, max_size=4)
    typed = data.draw(st.text(alphabet=punctuation, max_size=3)) + words[0]
    for word in words[1:]:
        typed += data.draw(separators) + word
    typed += data.draw(st.text(alphabet=punctuation, max_size=3))
    assert normalise_codename(typed) == " ".join(words)


# --- generation (against a small temporary wordlist) ------------------------------------------

SMALL_LISTS = {
    "ru": ("гора", "лес", "река", "туман", "мост", "берег", "поле", "сад"),
    "en": ("apple", "bridge", "cloud", "delta", "ember", "forest", "grove", "harbor"),
}


def write_wordlists(directory: Path, lists: dict[str, tuple[str, ...]]) -> None:
    for language, words in lists.items():
        (directory / f"{language}.txt").write_text("\n".join(words) + "\n", encoding="utf-8")


@pytest.fixture
def small_wordlists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, tuple[str, ...]]]:
    write_wordlists(tmp_path, SMALL_LISTS)
    monkeypatch.setattr(codenames, "_WORDLIST_DIR", tmp_path)
    wordlist.cache_clear()
    yield SMALL_LISTS
    wordlist.cache_clear()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_generated_codename_is_codename_words_words_from_the_list(
    small_wordlists: dict[str, tuple[str, ...]], language: str
) -> None:
    for _ in range(20):
        words = generate_codename(language).split(" ")
        assert len(words) == CODENAME_WORDS == 6
        assert set(words) <= set(small_wordlists[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_generated_codename_is_already_normalised(small_wordlists: dict[str, tuple[str, ...]], language: str) -> None:
    codename = generate_codename(language)
    assert normalise_codename(codename) == codename


def test_words_are_drawn_with_the_secrets_module(
    small_wordlists: dict[str, tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[str, ...]] = []

    def recording_choice(seq: tuple[str, ...]) -> str:
        drawn.append(seq)
        return seq[0]

    monkeypatch.setattr(codenames.secrets, "choice", recording_choice)
    assert generate_codename("en") == " ".join(["apple"] * CODENAME_WORDS)
    assert drawn == [small_wordlists["en"]] * CODENAME_WORDS


def test_entropy_is_words_times_log2_of_the_list_length(small_wordlists: dict[str, tuple[str, ...]]) -> None:
    assert codename_entropy_bits("en") == pytest.approx(6 * 3)
    assert codename_entropy_bits("en", words=4) == pytest.approx(4 * 3)


def test_a_7776_word_list_gives_six_word_codenames_77_5_bits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synthetic = tuple("".join(letters) for letters in itertools.product("abcdef", repeat=5))
    write_wordlists(tmp_path, {"en": synthetic})
    monkeypatch.setattr(codenames, "_WORDLIST_DIR", tmp_path)
    wordlist.cache_clear()
    try:
        assert codename_entropy_bits("en") == pytest.approx(6 * math.log2(7776)) == pytest.approx(77.55, abs=0.01)
    finally:
        wordlist.cache_clear()


def test_it_refuses_a_wordlist_that_repeats_a_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_wordlists(tmp_path, {"en": ("apple", "bridge", "apple")})
    monkeypatch.setattr(codenames, "_WORDLIST_DIR", tmp_path)
    wordlist.cache_clear()
    try:
        with pytest.raises(ValueError, match="repeats"):
            wordlist("en")
    finally:
        wordlist.cache_clear()


def test_there_is_no_wordlist_for_another_language() -> None:
    with pytest.raises(ValueError, match="no wordlist"):
        wordlist("de")


# --- the real lists (sealbox/wordlists/) ------------------------------------------------------


@pytest.fixture
def real_wordlists() -> Iterator[None]:
    assert codenames._WORDLIST_DIR == REAL_WORDLIST_DIR
    wordlist.cache_clear()
    yield
    wordlist.cache_clear()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_real_list_exists_with_7776_unique_words(real_wordlists: None, language: str) -> None:
    assert (REAL_WORDLIST_DIR / f"{language}.txt").is_file()
    words = wordlist(language)
    assert len(words) == 7776
    assert len(set(words)) == 7776


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_word_in_the_real_list_is_a_prefix_of_another(real_wordlists: None, language: str) -> None:
    ordered = sorted(wordlist(language))
    # In sorted order a word's extensions follow it directly, so neighbours suffice.
    offenders = [(a, b) for a, b in itertools.pairwise(ordered) if b.startswith(a)]
    assert offenders == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_codename_from_the_real_list_has_at_least_77_bits(real_wordlists: None, language: str) -> None:
    assert codename_entropy_bits(language) >= 77


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_real_word_is_its_own_normalised_form(real_wordlists: None, language: str) -> None:
    # Otherwise a codename shown to a person would not be the codename that logs them in.
    changed = [word for word in wordlist(language) if normalise_codename(word) != word]
    assert changed == []


def test_the_real_lists_are_in_their_scripts(real_wordlists: None) -> None:
    assert all(re.fullmatch(r"[a-z]+", word) for word in wordlist("en"))
    assert all(re.fullmatch(r"[а-я]+", word) for word in wordlist("ru"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_codename_from_the_real_list_round_trips_through_normalisation(real_wordlists: None, language: str) -> None:
    codename = generate_codename(language)
    assert len(codename.split(" ")) == CODENAME_WORDS
    assert normalise_codename(codename.upper().replace(" ", " - ")) == codename


# --- the danger word's list ---------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_generated_codename_is_known_to_come_from_its_own_list(language: str) -> None:
    codename = generate_codename(language)
    assert codenames.codename_language(codename) == language
    assert codenames.codename_language(codename.upper().replace(" ", ", ")) == language


def test_a_phrase_with_a_word_from_no_list_or_from_two_lists_has_no_language() -> None:
    assert codenames.codename_language(generate_codename("ru") + " ласточка") is None
    mixed = " ".join([*generate_codename("ru").split()[:-1], wordlist("en")[0]])
    assert codenames.codename_language(mixed) is None


def test_the_lists_share_no_word() -> None:
    assert not set(wordlist("ru")) & set(wordlist("en"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_danger_word_candidates_come_from_the_codename_list_and_avoid_its_words(language: str) -> None:
    codename = generate_codename(language)
    offered = codenames.danger_word_candidates(codename, 6)
    assert len(set(offered)) == 6
    assert all(codenames.in_wordlist(language, word) for word in offered)
    assert not set(offered) & set(codename.split())


def test_in_wordlist_normalises_and_refuses_what_is_not_a_word() -> None:
    word = wordlist("ru")[10]
    assert codenames.in_wordlist("ru", f"  {word.upper()}. ")
    assert not codenames.in_wordlist("en", word)
    assert not codenames.in_wordlist("ru", "...")
    assert not codenames.in_wordlist("ru", f"{word} {word}")
