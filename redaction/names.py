"""Person names: one skeleton for every spelling of a name, and the lexicons that recognise them.

A man written «Ислама Дудаева», "Islam Dudayev" and "Dudajew" must get one pseudonym. Each
word of a name is reduced to a *skeleton*: Cyrillic is romanised letter by letter, then the
differences between the usual romanisations (BGN/PCGN, ISO 9, passport, German, French) are
folded away (kh/ch/h, zh/j/dzh, y/j/i, ou/u, w/v, doubled letters, a glide between vowels), and
forms of one given name (Мохьмад/Магомед/Muhammad, Ваня/Иван) are mapped to one. A skeleton
is only ever compared with other skeletons; it is a key, not a spelling anyone reads.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from redaction.morphology import parses, word_is_known

LEXICON = Path(__file__).resolve().parent / "lexicon"

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i",
    "ӏ": "", "Ӏ": "", "є": "e", "ї": "i", "ў": "u",
}  # fmt: skip
# Longest first: each romanisation's spelling of one Russian sound becomes one letter.
_FOLDS = (
    ("tsch", "h"), ("shch", "s"), ("dsch", "z"), ("sch", "s"), ("dzh", "z"), ("tch", "h"),
    ("dj", "z"), ("zh", "z"), ("kh", "h"), ("ch", "h"), ("sh", "s"), ("ts", "c"), ("tz", "c"),
    ("ou", "u"), ("ph", "f"), ("ck", "k"), ("w", "v"), ("x", "h"), ("q", "k"), ("j", "i"),
    ("y", "i"), ("z", "s"), ("io", "ie"),
)  # fmt: skip
_VOWELS = "aeiou"
_GLIDE = re.compile(r"(?<=[aeiou])i(?=[aeiou])")
_LEADING_IE = re.compile(r"^i(?=e)")
_DOUBLED = re.compile(r"(.)\1+")
_FEMININE_SURNAME = (("skaia", "ski"), ("ckaia", "cki"), ("aia", "i"), ("ova", "ov"), ("eva", "ev"),
                     ("ina", "in"))  # fmt: skip


# After a consonant (not х: Chechen хь is one letter, Хьава), a soft sign before a vowel is a "y".
_SOFT_SIGN_BEFORE_VOWEL = re.compile("(?<=[бвгджзклмнпрстфцчшщ])[ьъ](?=[аеёиоуыэюя])")
_LATIN_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "ı": "i"})


def romanise(word: str) -> str:
    """Lowercase Latin letters only: Cyrillic letter by letter, accents dropped.

    A soft sign before a vowel is the "y" of Solovyova, Ilya, Darya.
    """
    lowered = _SOFT_SIGN_BEFORE_VOWEL.sub("й", word.lower())
    lowered = "".join(_CYRILLIC.get(ch, ch) for ch in lowered).translate(_LATIN_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


def fold(latin: str) -> str:
    for spelling, letter in _FOLDS:
        latin = latin.replace(spelling, letter)
    latin = _LEADING_IE.sub("", latin)
    latin = _GLIDE.sub("", latin)
    return _DOUBLED.sub(r"\1", latin)


def skeleton(word: str) -> str:
    """The spelling-independent key of one word of a name (given names: its canonical form's).

    A compound name is keyed part by part: Саьид-Мохьмад and Said-Magomed agree.
    """
    parts = [fold(romanise(part)) for part in re.split(r"[-‐‑]", word) if part]
    whole = "".join(parts)
    if whole in _variants():
        return _variants()[whole]
    return "".join(_variants().get(part, part) for part in parts)


def surname_skeleton(word: str) -> str:
    """A surname's skeleton with the feminine ending made masculine (Дудаева, Dudaeva: dudaev)."""
    key = fold(romanise(word))
    for ending, replacement in _FEMININE_SURNAME:
        if key.endswith(ending) and len(key) > len(ending) + 2:
            return key[: -len(ending)] + replacement
    return key


def read_lexicon(name: str) -> list[str]:
    text = (LEXICON / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _variants() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in read_lexicon("name_variants.txt"):
        forms = line.split()
        canonical = fold(romanise(forms[0]))
        for form in forms:
            mapping.setdefault(fold(romanise(form)), canonical)
    return mapping


@cache
def given_names() -> frozenset[str]:
    """Skeletons of given names: the dictionary's, the North Caucasian list and every variant."""
    words = read_lexicon("given_names_dictionary.txt") + read_lexicon("given_names_extra.txt")
    words += [form for line in read_lexicon("name_variants.txt") for form in line.split()]
    return frozenset(skeleton(w) for w in words if len(w) > 1)


@cache
def cyrillic_given_names() -> frozenset[str]:
    words = read_lexicon("given_names_dictionary.txt") + read_lexicon("given_names_extra.txt")
    words += [form for line in read_lexicon("name_variants.txt") for form in line.split()]
    return frozenset(w.lower().replace("ё", "е") for w in words)


@cache
def surnames() -> frozenset[str]:
    return frozenset(surname_skeleton(w) for w in read_lexicon("surnames_dictionary.txt"))


@cache
def patronymics() -> frozenset[str]:
    return frozenset(w.lower().replace("ё", "е") for w in read_lexicon("patronymics_dictionary.txt"))


_RU_SURNAME = re.compile(
    r"(?:(?:ов|ев|ёв|ин|ын)(?:а|у|ым|ой|ом|е|ых|ою)?|(?:ск|цк)(?:ий|ая|ой|ую|им|ом|ого|ому|ая)|енко|швили|дзе|"
    r"ян|янц|ук|юк|ич)$"
)
_RU_PATRONYMIC = re.compile(r"(?:ович|евич|ич|овна|евна|ична|инична)$")
_LATIN_SURNAME = re.compile(
    r"(?:ov|ev|yev|iev|aev|in|yn|ova|eva|yeva|ina|sky|ski|skiy|skii|skaya|enko|shvili|dze|yan|ian|uk|"
    r"off|eff|ieff|ow|ew|ewa|owa|jew|jewa|ine)$"
)
_LATIN_PATRONYMIC = re.compile(r"(?:ovich|evich|ovych|ovna|evna|ichna|owitsch|ewitsch)$")


_SURNAME_CASES = re.compile(r"(ов|ев|ин|ын)(?:а|у|ым|ой|ом|е|ых|ою)$")
_ADJECTIVE_SURNAME_CASES = re.compile(r"(ск|цк)(?:ая|ой|ую|им|ом|ого|ому)$")


def _surname_nominative(lowered: str) -> str:
    """A surname the dictionary lacks, put in the masculine nominative by its ending (Лыковой: лыков)."""
    lowered = _SURNAME_CASES.sub(r"\1", lowered)
    return _ADJECTIVE_SURNAME_CASES.sub(r"\1ий", lowered)


def looks_like_surname(word: str) -> bool:
    lowered = word.lower()
    if len(lowered) < 4:
        return False
    if re.search("[а-яё]", lowered):
        return bool(_RU_SURNAME.search(lemma(word, "surname")) or _RU_SURNAME.search(lowered))
    return bool(_LATIN_SURNAME.search(lowered))


def looks_like_patronymic(word: str) -> bool:
    lowered = word.lower().replace("ё", "е")
    if re.search("[а-я]", lowered):
        return bool(_RU_PATRONYMIC.search(lemma(word))) or lemma(word) in patronymics()
    return bool(_LATIN_PATRONYMIC.search(lowered))


def lemma(word: str, role: str = "given") -> str:
    """The nominative of one word of a Russian name (Ислама: ислам, Дудаевым: дудаев).

    Readings in the plural are skipped: «Тимиров» is the surname, not "of the Timirs".
    """
    lowered = word.lower().replace("ё", "е")
    if not re.search("[а-я]", lowered):
        return re.sub(r"['’]s$", "", lowered)
    readings = [r for r in parses(lowered) if "plur" not in r.tags]
    order = ("Surn", "Name", "Patr") if role == "surname" else ("Name", "Surn", "Patr")
    for wanted in order:
        for reading in readings:
            if wanted in reading.tags:
                return reading.lemma
    if role == "surname" and _RU_SURNAME.search(lowered):
        return _surname_nominative(lowered)
    for reading in readings:
        if "NOUN" in reading.tags and "anim" in reading.tags:
            return reading.lemma
    return readings[0].lemma if readings else lowered


def is_given_name(word: str) -> bool:
    lowered = word.lower().replace("ё", "е")
    if re.search("[а-я]", lowered):
        # A compound the lists lack (Саьид-Мохьмад) is known by its parts' skeleton.
        return given_lemma(word) is not None or ("-" in lowered and skeleton(lowered) in given_names())
    if "-" in lowered and all(skeleton(part) in given_names() for part in lowered.split("-") if part):
        return True  # Jean-Marc
    return skeleton(lemma(word)) in given_names()


_CASE_ENDINGS = ("ом", "ем", "ым", "ой", "ей", "ою", "у", "а", "е", "ы", "и", "ю", "я")


def given_lemma(word: str, guess: bool = False) -> str | None:
    """The nominative of a Russian given name, also of one the dictionary lacks (Мовсаром: мовсар).

    The case ending is guessed for words the dictionary lacks, and for any word when ``guess``
    says it is capitalised in mid-sentence («с Седой» is Седа there, not "grey").
    """
    lowered = word.lower().replace("ё", "е")
    known = cyrillic_given_names()
    for candidate in (lemma(word), lowered):
        if candidate in known:
            return candidate
    if _RU_SURNAME.search(lowered) or (word_is_known(lowered) and not guess):
        # Guessing a case ending only for words the dictionary lacks: «Жена» is not «Женя».
        return None
    for ending in _CASE_ENDINGS:
        if lowered.endswith(ending) and len(lowered) > len(ending) + 2:
            stem = lowered[: -len(ending)]
            for candidate in (stem, stem + "а", stem + "я", stem + "й", stem + "ь"):
                if candidate in known:
                    return candidate
    return None


def is_known_surname(word: str) -> bool:
    return surname_skeleton(lemma(word, "surname")) in surnames()


def surname_key(word: str) -> str:
    return surname_skeleton(lemma(word, "surname"))


def name_key(word: str) -> str:
    """The skeleton of one word of a name after putting it in the nominative (a word taken for
    a name may have its case ending guessed: «Магу» is Мага, Магомед)."""
    return skeleton(given_lemma(word, guess=True) or lemma(word))


def initial_key(word: str) -> str:
    """The first letter of a name's skeleton (Х. and Kh. agree with Hasan)."""
    return fold(romanise(word))[:1]


BOTH = frozenset({"m", "f"})
_FEMININE_LATIN = re.compile(r"(?:ova|eva|yeva|ina|yna|aya|skaya|ska|owa|ewa)$")
_MASCULINE_LATIN = re.compile(r"(?:ov|ev|yev|in|yn|sky|skiy|skii|ski|off|ow|ew)$")


def genders(word: str, role: str) -> frozenset[str]:
    """Which sexes a word of a name allows: Дудаевой and Dudaeva only a woman, Исламу only a man."""
    lowered = word.lower().replace("ё", "е")
    if re.search("[а-я]", lowered):
        wanted = {"given": "Name", "surname": "Surn", "patronymic": "Patr"}.get(role, "")
        found = set()
        for reading in parses(lowered):
            if wanted in reading.tags and "plur" not in reading.tags:
                found |= {"m"} if "masc" in reading.tags else set()
                found |= {"f"} if "femn" in reading.tags else set()
        return frozenset(found) or BOTH
    if role == "surname" and _FEMININE_LATIN.search(lowered):
        return frozenset({"f"})
    if role == "surname" and _MASCULINE_LATIN.search(lowered):
        return frozenset({"m"})
    return BOTH


def nominative_keys(word: str) -> set[str]:
    """Skeletons of every nominative a capitalised word may stand for (Харперу: harper, harpera)."""
    lowered = word.lower().replace("ё", "е")
    keys = {skeleton(lemma(word)), surname_key(word), skeleton(lowered)}
    if re.search("[а-я]", lowered):
        for ending in _CASE_ENDINGS:
            if lowered.endswith(ending) and len(lowered) > len(ending) + 2:
                stem = lowered[: -len(ending)]
                keys |= {skeleton(stem), skeleton(stem + "а"), skeleton(stem + "я")}
    return keys


@cache
def only_a_name(lowered: str) -> bool:
    """A Russian word every dictionary reading of which is a name (мадина, тимур, серёжа)."""
    readings = parses(lowered)
    if not word_is_known(lowered) or not readings:
        return False
    return all({"Name", "Surn", "Patr"} & reading.tags for reading in readings)
