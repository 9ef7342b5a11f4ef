"""Redact a batch of documents: find, settle, spread what was learnt, resolve persons, replace."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redaction import names
from redaction.entities import calendar_word, function_word, recognise, word_roles
from redaction.patterns import dates_beside_names
from redaction.people import Directory, Identity, identity_of, pseudonym_of_key, resolve
from redaction.spans import KEPT, Span, settle
from redaction.tokens import Token, common_english, never_a_name, tokenise

PLACEHOLDERS = {"PRIVATE_PLACE": "[PLACE]"}


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    lang: str | None = None


@dataclass
class Redacted:
    id: str
    text: str
    pseudonyms: dict[str, str]
    # What was removed, in the original's offsets, and what replaced each.
    spans: list[Span] = field(default_factory=list)
    replacements: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Proposed:
    """One proposed removal (or, in ``Proposal.kept``, one thing recognised and kept).

    ``person`` is the identity a PERSON span was resolved to (people.Identity.key): the pseudonym
    is made from it under the export's key, so a reviewed proposal renders the same way under
    any key, and a span staff add by hand gets one from its words (``person_of``).
    """

    start: int
    end: int
    label: str
    source: str = ""
    person: str = ""


@dataclass
class Proposal:
    id: str
    text: str
    removals: list[Proposed]
    kept: list[Proposed]


def propose(documents: Sequence[Document]) -> list[Proposal]:
    """What to remove from each document of the batch, for staff to review before it is rendered."""
    found = [settle(recognise(doc.text, doc.lang)) for doc in documents]
    given, surnames = _name_words(documents, found)
    found = [settle(spans + _spread(doc, spans, given, surnames)) for doc, spans in zip(documents, found, strict=True)]
    found = [_with_births(doc, spans) for doc, spans in zip(documents, found, strict=True)]
    identities = [[_identity(doc, span) for span in spans] for doc, spans in zip(documents, found, strict=True)]
    _link_nicknames(documents, found, identities)
    directory = Directory(identity for doc_ids in identities for identity in doc_ids if identity and identity.full)
    return [_proposal(doc, spans, ids, directory) for doc, spans, ids in zip(documents, found, identities, strict=True)]


def _proposal(doc: Document, spans: list[Span], ids: list[Identity | None], directory: Directory) -> Proposal:
    document_ids = [identity for identity in ids if identity and identity.full]
    removals: list[Proposed] = []
    kept: list[Proposed] = []
    for span, identity in zip(spans, ids, strict=True):
        person = resolve(identity, document_ids, directory).key() if identity is not None else ""
        proposed = Proposed(span.start, span.end, span.label, span.source, person)
        (kept if span.label in KEPT else removals).append(proposed)
    return Proposal(doc.id, doc.text, removals, kept)


def person_of(words: str) -> str:
    """The identity key of a name staff mark by hand."""
    return identity_of(word_roles(tokenise(words))).key()


def render(text: str, removals: Sequence[Proposed], key: bytes) -> tuple[str, dict[str, str], list[str]]:
    """The text with each removal replaced (a pseudonym under ``key`` for a person), the map of
    replaced names to pseudonyms, and each removal's replacement in text order."""
    ordered = sorted(removals, key=lambda r: r.start)
    for left, right in itertools.pairwise(ordered):
        if right.start < left.end:
            raise ValueError("removals overlap")
    mapping: dict[str, str] = {}
    replacements = [_replacement(text, removal, key, mapping) for removal in ordered]
    out = text
    for removal, replacement in reversed(list(zip(ordered, replacements, strict=True))):
        out = out[: removal.start] + replacement + out[removal.end :]
    return out, dict(sorted(mapping.items())), replacements


def _replacement(text: str, removal: Proposed, key: bytes, mapping: dict[str, str]) -> str:
    if removal.label == "PERSON" and removal.person:
        code = pseudonym_of_key(removal.person, key)
        mapping[text[removal.start : removal.end]] = code
        return code
    return PLACEHOLDERS.get(removal.label, f"[{removal.label}]")


def redact(documents: Sequence[Document], key: bytes) -> list[Redacted]:
    """Propose and render in one go, applying every proposal (the command line)."""
    results = []
    for proposal in propose(documents):
        text, mapping, replacements = render(proposal.text, proposal.removals, key)
        spans = [Span(r.start, r.end, r.label, r.source) for r in sorted(proposal.removals, key=lambda r: r.start)]
        results.append(Redacted(proposal.id, text, mapping, spans, replacements))
    return results


def _with_births(doc: Document, spans: list[Span]) -> list[Span]:
    persons = sorted((s for s in spans if s.label == "PERSON"), key=lambda s: s.end)
    return settle(spans + dates_beside_names(doc.text, persons))


def _identity(doc: Document, span: Span) -> Identity | None:
    if span.label != "PERSON":
        return None
    parts = span.parts or word_roles(tokenise(span.text(doc.text)))
    return identity_of(parts)


_NICKNAME_REACH = 60


def _link_nicknames(
    documents: Sequence[Document], found: list[list[Span]], identities: list[list[Identity | None]]
) -> None:
    """A nickname takes the identity of the name it was given to ("Сулейман Цакаев, его ещё зовут
    «Шериф»"), here and wherever else the batch uses it alone ("Sheriff")."""
    linked: dict[str, Identity] = {}
    for doc, spans, ids in zip(documents, found, identities, strict=True):
        for index, span in enumerate(spans):
            owner = _named_before(doc.text, spans, ids, index) if span.source == "nickname" else None
            if owner is not None:
                ids[index] = owner
                linked[_nickname_key(doc.text, span)] = owner
    for doc, spans, ids in zip(documents, found, identities, strict=True):
        for index, span in enumerate(spans):
            if span.label == "PERSON" and len(span.parts) <= 1 and _nickname_key(doc.text, span) in linked:
                ids[index] = linked[_nickname_key(doc.text, span)]


def _named_before(text: str, spans: list[Span], ids: list[Identity | None], index: int) -> Identity | None:
    start = spans[index].start
    for earlier in range(index - 1, -1, -1):
        span, identity = spans[earlier], ids[earlier]
        if start - span.end > _NICKNAME_REACH or re.search(r"[.!?\n]", text[span.end : start]):
            return None
        if identity is not None and identity.full and span.source != "nickname":
            return identity
    return None


def _nickname_key(text: str, span: Span) -> str:
    return names.skeleton(span.text(text).strip("«»\"“”'"))


def _name_words(documents: Sequence[Document], found: list[list[Span]]) -> tuple[set[str], set[str]]:
    """Skeletons of the given names and surnames found anywhere in the batch."""
    given: set[str] = set()
    surnames: set[str] = set()
    for doc, spans in zip(documents, found, strict=True):
        for span in spans:
            if span.label != "PERSON":
                continue
            parts = span.parts or word_roles(tokenise(span.text(doc.text)))
            for word, role in parts:
                # In "Ширвани Алиева" the word the lexicons lack is the given name.
                # A nickname is spread like a given name (Бульдог, Бульдогу).
                if role in ("unknown", "common_given") and (len(parts) > 1 or span.source == "nickname"):
                    role = "given"
                if role == "given" and len(word) > 2:
                    given.add(names.name_key(word))
                elif role == "surname" and len(word) > 3:
                    surnames.add(names.surname_key(word))
    return given, surnames


def _spread(doc: Document, spans: list[Span], given: set[str], surnames: set[str]) -> list[Span]:
    """Every other capitalised word, in any case or script, that is a name found elsewhere."""
    taken = spans
    extra = []
    tokens = tokenise(doc.text)
    for token in tokens:
        if not token.capitalised or len(token.text) < 3 or _inside(token, taken) or _common(token):
            continue
        # A word that is also the name of someone in the batch (Надежда, Ислам) is removed even
        # where it may be the noun: leaving it could point at her or him; review restores it.
        if never_a_name(token) or function_word(token) or calendar_word(token, tokens):
            continue
        role = _spread_role(token, given, surnames)
        if role:
            extra.append(Span(token.start, token.end, "PERSON", "batch", ((token.text, role),)))
    return extra + _lowercase_names(tokens, taken, given, surnames)


_CHAT_SHARE = 0.4


def _lowercase_names(tokens: list[Token], taken: list[Span], given: set[str], surnames: set[str]) -> list[Span]:
    """Names typed without a capital: a word that can only be a name (мадина, серёжа) anywhere,
    and in a chat written in lowercase also a name found elsewhere in the batch (ислам, dima)."""
    chat = _lowercase_style(tokens)
    found = []
    for token in tokens:
        if token.capitalised or len(token.text) < 3 or token.text.isdigit() or _inside(token, taken):
            continue
        if function_word(token) or token.lower in common_english() or never_a_name(token):
            continue
        if token.cyrillic and names.only_a_name(token.lower):
            found.append(Span(token.start, token.end, "PERSON", "lowercase", ((token.text, "unknown"),)))
        elif chat:
            role = _spread_role(token, given, surnames)
            if role:
                found.append(Span(token.start, token.end, "PERSON", "lowercase", ((token.text, role),)))
    return found


def _lowercase_style(tokens: list[Token]) -> bool:
    openings = [t for t in tokens if t.sentence_start and not t.text.isdigit()]
    lowered = sum(1 for t in openings if t.text[:1].islower())
    return bool(openings) and lowered / len(openings) >= _CHAT_SHARE


def _spread_role(token: Token, given: set[str], surnames: set[str]) -> str:
    keys = names.nominative_keys(token.text) if token.cyrillic else {names.name_key(token.text)}
    if names.name_key(token.text) in given or (token.cyrillic and keys & given):
        return "given"
    if names.surname_key(token.text) in surnames or keys & surnames:
        return "surname"
    return ""


def _inside(token: Token, spans: Iterable[Span]) -> bool:
    return any(span.start <= token.start and token.end <= span.end for span in spans)


def _common(token: Token) -> bool:
    return not token.cyrillic and token.lower in common_english() and not names.is_given_name(token.text)
