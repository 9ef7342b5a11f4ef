"""Codenames: generation from wordlists and forgiving normalisation.

A codename is CODENAME_WORDS words drawn uniformly (``secrets``) from a 7,776-word list:
6 x log2(7776) = 77.5 bits. The lists (sealbox/wordlists/, built by tools/make_wordlists.py)
hold common, short words with no word a prefix of another, in Russian and in English.

The danger word (a duress phrase is the codename with its last word replaced) is a word of
the same list, so the phrase a captor forces out of a person shows no word from outside it;
``danger_word_candidates`` draws the words offered for it with ``secrets``, independently
of the codename, so the danger word tells nothing about the codename's last word.

Normalisation forgives what a frightened person on a phone keyboard gets wrong: letter case,
ё typed as е, extra spaces, commas, dots or dashes between words, and autocorrect's capitals.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from functools import cache
from pathlib import Path

CODENAME_WORDS = 6
LANGUAGES = ("ru", "en")
_WORDLIST_DIR = Path(__file__).with_name("wordlists")
_NOT_A_LETTER = re.compile(r"[^\w]|[\d_]", re.UNICODE)
MAX_INPUT_CHARS = 400


class InvalidCodename(ValueError):
    """The text cannot be a codename (empty, far too long)."""


@cache
def wordlist(language: str) -> tuple[str, ...]:
    if language not in LANGUAGES:
        raise ValueError(f"no wordlist for {language!r}")
    words = (_WORDLIST_DIR / f"{language}.txt").read_text(encoding="utf-8").split()
    if len(set(words)) != len(words):
        raise ValueError(f"the {language} wordlist repeats a word")
    return tuple(words)


def codename_entropy_bits(language: str, words: int = CODENAME_WORDS) -> float:
    return words * math.log2(len(wordlist(language)))


def generate_codename(language: str, words: int = CODENAME_WORDS) -> str:
    choices = wordlist(language)
    return " ".join(secrets.choice(choices) for _ in range(words))


@cache
def _word_set(language: str) -> frozenset[str]:
    return frozenset(wordlist(language))


def codename_language(codename: str) -> str | None:
    """The language of the list every word of ``codename`` comes from, or None if no list
    holds them all. The lists do not share a word (Cyrillic and Latin letters), so a
    generated codename has exactly one."""
    words = normalise_codename(codename).split()
    for language in LANGUAGES:
        if _word_set(language).issuperset(words):
            return language
    return None


def in_wordlist(language: str, word: str) -> bool:
    """Whether ``word`` (normalised first) is a word of ``language``'s list."""
    try:
        normalised = normalise_codename(word)
    except InvalidCodename:
        return False
    return normalised in _word_set(language)


def danger_word_candidates(codename: str, count: int) -> list[str]:
    """``count`` different words of the codename's list, none of them in the codename."""
    language = codename_language(codename)
    if language is None:
        raise ValueError("the codename's words come from no known list")
    taken = set(normalise_codename(codename).split())
    choices = wordlist(language)
    picked: list[str] = []
    while len(picked) < count:
        word = secrets.choice(choices)
        if word not in taken and word not in picked:
            picked.append(word)
    return picked


def normalise_codename(text: str) -> str:
    """Lower-case words separated by single spaces; ё becomes е; everything else is dropped."""
    if len(text) > MAX_INPUT_CHARS:
        raise InvalidCodename("too long to be a codename")
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    words = _NOT_A_LETTER.sub(" ", folded).split()
    if not words:
        raise InvalidCodename("empty")
    return " ".join(words)
