"""Words of a text with their offsets, and what the lexicons say about them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from redaction.morphology import parses
from redaction.names import read_lexicon

# A word may hold hyphens and apostrophes (Мескер-Юрт, O'Brien) and end in a number (ППСП-2).
_WORD = re.compile(r"[^\W\d_](?:[^\W_]|[-'’](?=[^\W\d_])|-(?=\d))*|\d+", re.UNICODE)
# A sentence (or a chat line: "[23:14] зелим: ...") ends at these marks.
_SENTENCE_END = re.compile(r"(?:[.!?…:;\]]|\n)[\s\"'«»“”()\-–—]*$")
_CYRILLIC = re.compile("[а-яёА-ЯЁӀ]")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    index: int
    sentence_start: bool
    period_after: bool = False

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def cyrillic(self) -> bool:
        return bool(_CYRILLIC.search(self.text))

    @property
    def lower(self) -> str:
        return self.text.lower().replace("ё", "е")


def tokenise(text: str) -> list[Token]:
    tokens = []
    for index, match in enumerate(_WORD.finditer(text)):
        before = text[max(0, match.start() - 6) : match.start()]
        first = index == 0 or bool(_SENTENCE_END.search(before)) or not text[: match.start()].strip()
        period = text[match.end() : match.end() + 1] == "."
        tokens.append(Token(match.group(), match.start(), match.end(), index, first, period))
    return tokens


def readings(token: Token) -> frozenset[str]:
    """Every form a word may stand for: itself lowercased, and for Russian each dictionary lemma."""
    return _readings(token.lower)


@cache
def _readings(lowered: str) -> frozenset[str]:
    found = {lowered, re.sub(r"['’]s$", "", lowered)}
    if _CYRILLIC.search(lowered):
        found.update(reading.lemma for reading in parses(lowered))
    return frozenset(found)


class Phrases:
    """Multi-word names from a lexicon, matched word by word on any reading of each word."""

    def __init__(self, lines: list[str]) -> None:
        self.phrases: dict[str, list[tuple[str, ...]]] = {}
        for line in lines:
            words = tuple(t.lower for t in tokenise(line))
            if words:
                self.phrases.setdefault(words[0], []).append(words)
                for reading in _readings(words[0]):
                    self.phrases.setdefault(reading, []).append(words)

    def match_at(self, tokens: list[Token], index: int) -> int:
        """How many tokens from ``index`` on form a listed phrase (0 if none): the longest."""
        best = 0
        for first in readings(tokens[index]):
            for words in self.phrases.get(first, ()):
                if len(words) > best and self._matches(tokens, index, words):
                    best = len(words)
        return best

    def _matches(self, tokens: list[Token], index: int, words: tuple[str, ...]) -> bool:
        if index + len(words) > len(tokens):
            return False
        for offset, word in enumerate(words):
            token = tokens[index + offset]
            if word != token.lower and not (word in readings(token) or _readings(word) & readings(token)):
                return False
        return True


@cache
def public_places() -> Phrases:
    return Phrases(read_lexicon("public_places.txt"))


@cache
def units() -> Phrases:
    return Phrases([line for line in read_lexicon("units.txt") if not line.startswith("~")])


@cache
def unit_starters() -> frozenset[str]:
    return frozenset(line[1:].lower() for line in read_lexicon("units.txt") if line.startswith("~"))


@cache
def common_english() -> frozenset[str]:
    return frozenset(word.lower() for word in read_lexicon("common_en.txt"))


@cache
def not_names() -> frozenset[str]:
    return frozenset(word.lower().replace("ё", "е") for word in read_lexicon("not_names.txt"))


def never_a_name(token: Token) -> bool:
    """A car, an app, an abbreviation (ЧР, ОМС): capitalised, never a person."""
    if token.text.isupper() and 1 < len(token.text) <= 4:
        return True
    return bool(readings(token) & not_names())
