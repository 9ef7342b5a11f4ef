"""Spans of a text that a redaction replaces, and how overlapping proposals are settled."""

from __future__ import annotations

from dataclasses import dataclass, field

# What is removed. PERSON mentions get a pseudonym; the others a [LABEL] placeholder.
LABELS = (
    "PERSON", "PRIVATE_PLACE", "PHONE", "EMAIL", "HANDLE", "LINK", "PLATE", "DOCUMENT", "DOB",
    "EMPLOYER",
)  # fmt: skip
# What is kept on purpose; recognised so that nothing else claims it.
KEPT = ("PUBLIC_PLACE", "UNIT")
# When two proposals overlap, the more specific recogniser wins, then the longer span.
PRIORITY = {
    "LINK": 9, "EMAIL": 9, "PHONE": 8, "DOB": 8, "PLATE": 7, "DOCUMENT": 7, "HANDLE": 7,
    "UNIT": 6, "PUBLIC_PLACE": 5, "PERSON": 4, "EMPLOYER": 3, "PRIVATE_PLACE": 2,
}  # fmt: skip


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    source: str = ""  # which recogniser proposed it, for the review screen
    # For PERSON: the words of the name with their roles ("given", "surname", "patronymic",
    # "initial"), filled by the recogniser that knows them.
    parts: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def text(self, document: str) -> str:
        return document[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def settle(proposals: list[Span]) -> list[Span]:
    """Non-overlapping spans in text order: each overlap goes to the higher priority, then the longer."""
    proposals = [s for s in proposals if not _kept_inside_a_name(s, proposals)]
    ranked = sorted(proposals, key=lambda s: (-_rank(s), -(s.end - s.start), s.start))
    chosen: list[Span] = []
    for span in ranked:
        if not any(span.overlaps(taken) for taken in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _rank(span: Span) -> int:
    if span.label in KEPT:
        # A listed public place or unit outranks an address shape around the same words
        # ("Red Square"); one strictly inside a longer name was dropped before (above).
        return max(9, _SOURCE_RANK.get(span.source, 0))
    # A whole address (ул. Ленина, д. 5) outranks the person a street is named after.
    return _SOURCE_RANK.get(span.source) or PRIORITY.get(span.label, 0)


# A card number is not also a phone, nor a birth date an ordinary date.
_SOURCE_RANK = {
    "address": 8, "place": 8, "company": 8, "card": 9, "birth": 9, "account": 10, "unit": 9, "unit-name": 9,
    "settlement-shape": 2, "street-shape": 2,
}  # fmt: skip
# A workplace or venue named after a public place ("Dagestan State Medical University",
# "Grozny-City Towers") is removed whole: the public place inside it does not protect it.
_CONTAINERS = frozenset({"employer", "company", "place", "address"})


def _kept_inside_a_name(span: Span, proposals: list[Span]) -> bool:
    if span.label not in KEPT or span.source == "unit-name":
        return False
    return any(
        other.source in _CONTAINERS
        and other.start <= span.start
        and span.end <= other.end
        and (other.end - other.start) > (span.end - span.start)
        for other in proposals
    )
