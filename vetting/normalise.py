"""Normalising text, phone numbers and handles before they are hashed (no Django import).

Two texts that a person would call "the same" must give the same tokens: case, ё/е, punctuation
and the way digits are grouped ("8 (912) 345-67-89" and "89123456789") do not matter. Keyed
hashes of the results are all the server keeps (see vetting/digests.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Runs of letters or of digits; everything else (punctuation, spaces, symbols) separates.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
# Words that carry nothing and would make unrelated texts share pairs of words; single letters
# (the "д." of "д. 15") are dropped too, so "ул Ленина д 15" and "Ленина 15" share "ленина 15".
_FILLER = frozenset(
    "и в во на с со по к ко у о об от до за из не но а же ли бы то это как что для при или "
    "the a an of to in at on and or for by is are be it this that with from as".split()
)
SHINGLE_SIZE = 2


def tokens(text: str) -> list[str]:
    """Lowercased words and digit runs, ё→е, without filler words, with adjacent digit runs
    joined, so a number matches however it was grouped with spaces, dashes or brackets."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    result: list[str] = []
    for match in _TOKEN.finditer(folded):
        token = match.group()
        if not token.isdigit() and (len(token) == 1 or token in _FILLER):
            continue
        if token.isdigit() and result and result[-1].isdigit() and _only_separators(folded, match.start()):
            result[-1] += token
        else:
            result.append(token)
    return result


def _only_separators(text: str, end: int) -> bool:
    """Whether the characters just before ``end`` back to the previous digit are separators
    people put inside numbers (space, dash, dot, brackets, plus, slash)."""
    index = end - 1
    while index >= 0 and not text[index].isdigit():
        if text[index] not in " \t-.()+/":
            return False
        index -= 1
    return True


def item_shingles(text: str) -> set[str]:
    """What an item (or phrase) is remembered by: its pairs of adjacent tokens, or its one
    token when it has only one."""
    words = tokens(text)
    if not words:
        return set()
    size = min(SHINGLE_SIZE, len(words))
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def draft_shingles(text: str) -> set[str]:
    """Every token and pair of adjacent tokens of a text being checked (single tokens so that
    one-word items match too)."""
    words = tokens(text)
    return {" ".join(words[i : i + size]) for size in (1, 2) for i in range(len(words) - size + 1)}


def needed_matches(total: int) -> int:
    """How many of an item's shingles a draft must contain to be taken as quoting it: two (so
    "Ленина 15, кв 42" matches a full address written differently), three for long items,
    all of them for items of one or two."""
    return min(total, 2 if total <= 8 else 3)


def phone_digits(value: str) -> str | None:
    """A phone number as digits with the country code, or None when ``value`` is not one.
    Russian numbers written with a trunk 8 (8XXXXXXXXXX) or without a country code (9XXXXXXXXX)
    become 7XXXXXXXXXX; a leading international 00 is dropped."""
    if re.search(r"[^\d\s()+./-]", value):
        return None
    digits = re.sub(r"\D", "", value)
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits.startswith("9"):
        digits = "7" + digits
    return digits if 7 <= len(digits) <= 15 else None


def handle(value: str) -> str:
    """A messenger handle or address: lowercased, without a leading @ and without spaces."""
    folded = unicodedata.normalize("NFKC", value).casefold().replace("ё", "е")
    return re.sub(r"\s+", "", folded).lstrip("@")


def contact_forms(value: str) -> Iterable[tuple[str, str]]:
    """The normalised forms of a contact someone gave: (kind, text) pairs. A value made of
    digits is a phone number whichever app it was given for (Signal and WhatsApp use them)."""
    digits = phone_digits(value)
    if digits:
        yield ("phone", digits)
    normalised = handle(value)
    if normalised:
        yield ("handle", normalised)
