"""Who each name mention is, and the pseudonym that stands for them.

A mention's words are reduced to skeletons (names.py): given name and surname. A full mention
("Ислама Дудаева", "Islam Dudayev") names an identity; a partial one ("Ислам", "Dudaev",
"И. Дудаев") is attached to the one identity of the same document that fits it, else to the
one identity of the whole batch that fits it, else it stands alone. The pseudonym is a keyed
HMAC of the identity, so the same person gets the same pseudonym in every document and in
both languages under one key, and pseudonyms made under two keys cannot be joined.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from redaction import names

# Sixteen consonants (one per half byte, so every letter is equally likely): a pseudonym can
# never spell, or contain, a name.
_ALPHABET = "BCDFGHJKLMNPRSTV"
CODE_LENGTH = 6


@dataclass(frozen=True)
class Identity:
    given: str = ""
    surname: str = ""
    initial: str = ""  # of the given name («Х.» in «Магомедов Х.И.»)
    surname_initial: str = ""  # of the surname («W.» in "Grace W.")
    # Which sexes the words allow; not part of the key (Дудаева may be either).
    sexes: frozenset[str] = field(default=names.BOTH, compare=False)

    @property
    def full(self) -> bool:
        return bool(self.given and self.surname)

    def key(self) -> str:
        if self.full:
            # Unordered: a foreign name whose words the lexicons read the other way round
            # ("Харпер" taken for a given name) is still the same person.
            return "|".join(sorted((self.given, self.surname)))
        return f"{self.given}|{self.surname}|{self.initial}|{self.surname_initial}"


def identity_of(parts: Iterable[tuple[str, str]]) -> Identity:
    given = surname = initial = surname_initial = ""
    unknown: list[str] = []
    sexes = names.BOTH
    for word, role in parts:
        if role in ("given", "surname", "patronymic"):
            sexes = (sexes & names.genders(word, role)) or sexes
        if role == "given" and not given:
            given = names.name_key(word)
        elif role == "surname" and not surname:
            surname = names.surname_key(word)
        elif role == "initial" and (given or unknown) and not surname and not surname_initial:
            surname_initial = names.initial_key(word)
        elif role == "initial" and not initial and not given:
            initial = names.initial_key(word)
        elif role in ("unknown", "common_given"):
            unknown.append(word)
    return _fill_unknown(Identity(given, surname, initial, surname_initial, sexes), unknown)


def _fill_unknown(identity: Identity, unknown: list[str]) -> Identity:
    given, surname = identity.given, identity.surname
    if not given and not surname and len(unknown) == 1 and not names.looks_like_surname(unknown[0]):
        # A lone word the lexicons lack and that does not end like a surname: most often a
        # given name (Мохьмад-Салах, Ширвани).
        return Identity(names.name_key(unknown[0]), "", identity.initial, identity.surname_initial, identity.sexes)
    for word in unknown:
        if not given and (surname or len(unknown) > 1):
            given = names.name_key(word)
        elif not surname:
            surname = names.surname_key(word)
    return Identity(given, surname, identity.initial, identity.surname_initial, identity.sexes)


def close(a: str, b: str) -> bool:
    """The same skeleton, or one letter apart in a long one (a typo, Magomed/Magamed)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    return _edit_distance_at_most_one(a, b)


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] != b[j]:
            edits += 1
            if edits > 1:
                return False
            if len(a) == len(b):
                i += 1
            j += 1
            continue
        i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def fits(partial: Identity, full: Identity) -> bool:
    if not partial.sexes & full.sexes:
        return False
    if partial.given and not close(partial.given, full.given):
        return False
    if partial.surname and not close(partial.surname, full.surname):
        return False
    if partial.initial and not full.given.startswith(partial.initial):
        return False
    if partial.surname_initial and not full.surname.startswith(partial.surname_initial):
        return False
    return bool(partial.given or partial.surname)


def fits_either_way(partial: Identity, full: Identity) -> bool:
    """A lone word may be a given name or a surname: "Дудаев" alone, "Islam" alone."""
    if not partial.sexes & full.sexes:
        return False
    if fits(partial, full):
        return True
    word = partial.given or partial.surname
    return bool(word) and not partial.initial and (close(word, full.given) or close(word, full.surname))


class Directory:
    """The full identities of a batch, indexed so that resolving each mention costs a bucket's
    worth of comparisons, not the whole batch's (a batch of thousands of documents)."""

    def __init__(self, batch: Iterable[Identity]) -> None:
        fulls = [identity for identity in batch if identity.full]
        # One entry per identity, allowing every sex any of its mentions allows.
        sexes: dict[Identity, frozenset[str]] = defaultdict(frozenset)
        for identity in fulls:
            sexes[identity] = sexes[identity] | identity.sexes
        self.counts = Counter({replace(identity, sexes=sexes[identity]): 0 for identity in sexes})
        self.counts.update(fulls)
        self._given: dict[str, list[Identity]] = defaultdict(list)
        self._surname: dict[str, list[Identity]] = defaultdict(list)
        for identity in self.counts:
            self._given[identity.given[:1]].append(identity)
            self._surname[identity.surname[:1]].append(identity)
        self._canonical: dict[Identity, Identity] = {}

    def canonical(self, identity: Identity) -> Identity:
        """One representative for full identities a letter apart (Magomed Dudaev / Magamed Dudaev)."""
        if identity not in self._canonical:
            similar = [
                other
                for other in self._surname.get(identity.surname[:1], ())
                if close(other.given, identity.given) and close(other.surname, identity.surname)
            ]
            self._canonical[identity] = min(similar or [identity], key=Identity.key)
        return self._canonical[identity]

    def pool_for(self, partial: Identity) -> list[Identity]:
        """The full identities a partial one could be (its words' first letters, either way round)."""
        letters = {word[:1] for word in (partial.given, partial.surname) if word}
        if partial.initial:
            letters.add(partial.initial)
        found: dict[Identity, None] = {}
        for letter in letters:
            for identity in [*self._given.get(letter, []), *self._surname.get(letter, [])]:
                found[identity] = None
        return list(found)


def resolve(partial: Identity, document: list[Identity], directory: Directory) -> Identity:
    if partial.full:
        return directory.canonical(partial)
    for pool in (document, directory.pool_for(partial)):
        candidates = {full for full in pool if full.full and fits(partial, full)}
        if len(candidates) == 1:
            return directory.canonical(candidates.pop())
        if not candidates:
            candidates = {full for full in pool if full.full and fits_either_way(partial, full)}
            if len(candidates) == 1:
                return directory.canonical(candidates.pop())
        if len(candidates) > 1:
            # The person most often named in the batch is the likelier one.
            return directory.canonical(max(candidates, key=lambda full: (directory.counts[full], full.key())))
    return partial


def pseudonym(identity: Identity, key: bytes) -> str:
    return pseudonym_of_key(identity.key(), key)


def pseudonym_of_key(identity_key: str, key: bytes) -> str:
    digest = hmac.new(key, b"sp.person.v1|" + identity_key.encode(), hashlib.sha256).digest()
    code = "".join(_ALPHABET[byte & 0x0F] for byte in digest[:CODE_LENGTH])
    return f"[PERSON-{code}]"
