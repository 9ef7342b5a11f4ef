"""Build the redaction evaluation set from its hand-written markup and check it.

    python redaction/evaluation/build.py            # writes dev.jsonl, test.jsonl and stress.jsonl
    python redaction/evaluation/build.py --stats    # and prints counts per label and language
    python redaction/evaluation/build.py --audit    # and lists words labelled in one document
                                                    # but left plain in another (traps to review)

The markup is described in README.md. Any error stops the build before a file is written, so
a .jsonl on disk always matches a source that passed every check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
# stress: chats, forms and foreign spellings, written separately (person ids s01, s02, ...).
SPLITS = ("dev", "test", "stress")

REMOVE_LABELS = frozenset(
    {"PERSON", "PRIVATE_PLACE", "PHONE", "EMAIL", "HANDLE", "LINK", "PLATE", "DOCUMENT", "DOB", "EMPLOYER"}
)
KEEP_LABELS = frozenset({"PUBLIC_PLACE", "UNIT"})
LABELS = REMOVE_LABELS | KEEP_LABELS
LANGS = {"ru": "ru", "en": "en", "-": None}

HEADER = re.compile(r"^=== (?P<id>[a-z0-9][a-z0-9-]*) (?P<lang>ru|en|-)$")
ROSTER = re.compile(r"^@person (?P<id>[ps]\d{2,3}) (?P<name>.+)$")
SPAN = re.compile(r"\[\[(?P<text>[^\[\]|]+)\|(?P<label>[A-Z_]+)(?:\|(?P<person>[ps]\d{2,3}))?\]\]")
# A trap: a word written like a name or place that is deliberately left unlabelled ("надежда есть").
TRAP = re.compile(r"\{\{(?P<trap>[^{}\[\]|]+)\}\}")
MARKUP = re.compile(f"{SPAN.pattern}|{TRAP.pattern}")
COMMENT = "%%"


class MarkupError(Exception):
    """A source file breaks the markup rules; the message names file and line."""


@dataclass
class Span:
    start: int
    end: int
    text: str
    label: str
    person: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"start": self.start, "end": self.end, "text": self.text, "label": self.label}
        if self.person is not None:
            out["person"] = self.person
        return out


@dataclass
class Document:
    id: str
    lang: str | None
    text: str
    spans: list[Span]
    line: int
    # Kept out of the .jsonl: the output format is spans only; traps serve the checks and the audit.
    traps: list[Span] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "lang": self.lang, "text": self.text, "spans": [s.as_json() for s in self.spans]}


@dataclass
class Source:
    split: str
    roster: dict[str, str] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)


def parse_spans(body: str, where: str) -> tuple[str, list[Span], list[Span]]:
    """Strip the markup from one document body: plain text, its spans, and its traps (label "TRAP")."""
    plain: list[str] = []
    spans: list[Span] = []
    traps: list[Span] = []
    length = 0
    cursor = 0
    for match in MARKUP.finditer(body):
        before = body[cursor : match.start()]
        plain.append(before)
        length += len(before)
        cursor = match.end()
        if match["trap"] is not None:
            traps.append(Span(length, length + len(match["trap"]), match["trap"], "TRAP"))
            plain.append(match["trap"])
            length += len(match["trap"])
            continue
        surface, label, person = match["text"], match["label"], match["person"]
        if label not in LABELS:
            raise MarkupError(f"{where}: unknown label {label!r} on {surface!r}")
        if (label == "PERSON") != (person is not None):
            raise MarkupError(f"{where}: a person id goes with PERSON and only with it: {match[0]!r}")
        if surface != surface.strip():
            raise MarkupError(f"{where}: span {surface!r} starts or ends with white space")
        spans.append(Span(length, length + len(surface), surface, label, person))
        plain.append(surface)
        length += len(surface)
    plain.append(body[cursor:])
    text = "".join(plain)
    for leftover in ("[[", "]]", "{{", "}}", "|"):
        if leftover in text:
            raise MarkupError(f"{where}: stray {leftover!r} left in the text (broken markup?)")
    return text, spans, traps


def parse_source(split: str, path: Path) -> Source:
    source = Source(split)
    current: tuple[str, str | None, int] | None = None
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        doc_id, lang, line = current
        where = f"{path.name}:{line} ({doc_id})"
        text, spans, traps = parse_spans("\n".join(body).strip("\n"), where)
        if not text.strip():
            raise MarkupError(f"{where}: empty document")
        source.documents.append(Document(doc_id, lang, text, spans, line, traps))

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith(COMMENT):
            continue
        if raw.startswith("@person "):
            roster = ROSTER.match(raw)
            if roster is None or roster["id"] in source.roster:
                raise MarkupError(f"{path.name}:{number}: bad or repeated roster line {raw!r}")
            source.roster[roster["id"]] = roster["name"]
            continue
        if raw.startswith("==="):
            header = HEADER.match(raw)
            if header is None:
                raise MarkupError(f"{path.name}:{number}: bad document header {raw!r}")
            close()
            current, body = (header["id"], LANGS[header["lang"]], number), []
            continue
        if current is None:
            if raw.strip():
                raise MarkupError(f"{path.name}:{number}: text before the first document header")
            continue
        body.append(raw.rstrip())
    close()
    return source


def check_source(source: Source) -> list[str]:
    """Everything the markup alone cannot guarantee; returns error messages."""
    errors: list[str] = []
    seen_ids: set[str] = set()
    used: set[str] = set()
    for doc in source.documents:
        where = f"{source.split}:{doc.line} ({doc.id})"
        if doc.id in seen_ids:
            errors.append(f"{where}: document id used twice")
        seen_ids.add(doc.id)
        previous_end = 0
        for span in doc.spans:
            if doc.text[span.start : span.end] != span.text:
                errors.append(f"{where}: offsets {span.start}-{span.end} do not give {span.text!r}")
            if span.start < previous_end:
                errors.append(f"{where}: span {span.text!r} overlaps the one before it")
            previous_end = span.end
            if span.person is not None:
                used.add(span.person)
                if span.person not in source.roster:
                    errors.append(f"{where}: person {span.person} is not in the roster")
        errors.extend(f"{where}: {problem}" for problem in unmarked_repeats(doc))
        errors.extend(f"{where}: {problem}" for problem in conflicting_persons(doc))
    errors.extend(f"{source.split}: roster person {p} never appears" for p in sorted(source.roster.keys() - used))
    return errors


def coverage(doc: Document) -> list[bool]:
    """Which characters are inside a span or a declared trap."""
    covered = [False] * len(doc.text)
    for span in doc.spans + doc.traps:
        covered[span.start : span.end] = [True] * (span.end - span.start)
    return covered


def unmarked_repeats(doc: Document) -> list[str]:
    """Every occurrence is to be marked: a labelled string found plain in the same document is a miss."""
    covered = coverage(doc)
    problems = []
    for surface in {s.text for s in doc.spans}:
        for found in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", doc.text):
            if not any(covered[found.start() : found.end()]):
                problems.append(f"{surface!r} also occurs unmarked at {found.start()}")
    return problems


def conflicting_persons(doc: Document) -> list[str]:
    """Within one document the same written name cannot stand for two people."""
    seen: dict[str, str] = {}
    problems = []
    for span in doc.spans:
        if span.person is None:
            continue
        first = seen.setdefault(span.text, span.person)
        if first != span.person:
            problems.append(f"{span.text!r} is {first} and {span.person} in the same document")
    return problems


def check_across(sources: list[Source]) -> list[str]:
    errors: list[str] = []
    owner: dict[str, str] = {}
    doc_owner: dict[str, str] = {}
    for source in sources:
        for person in source.roster:
            if person in owner:
                errors.append(f"person id {person} is in both {owner[person]} and {source.split}")
            owner[person] = source.split
        for doc in source.documents:
            if doc.id in doc_owner and doc_owner[doc.id] != source.split:
                errors.append(f"document id {doc.id} is in both {doc_owner[doc.id]} and {source.split}")
            doc_owner[doc.id] = source.split
    return errors


def print_stats(source: Source) -> None:
    docs = source.documents
    langs = Counter(doc.lang or "-" for doc in docs)
    print(f"== {source.split}: {len(docs)} documents ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))})")
    by_label: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for span in doc.spans:
            by_label[span.label][doc.lang or "-"] += 1
    print(f"   {'label':<14}{'total':>7}{'ru':>7}{'en':>7}{'-':>7}   kind")
    for label in sorted(by_label, key=lambda lab: (lab in KEEP_LABELS, lab)):
        row = by_label[label]
        kind = "keep" if label in KEEP_LABELS else "remove"
        print(f"   {label:<14}{sum(row.values()):>7}{row['ru']:>7}{row['en']:>7}{row['-']:>7}   {kind}")
    documents_of: dict[str, set[str]] = defaultdict(set)
    langs_of: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for span in doc.spans:
            if span.person is not None:
                documents_of[span.person].add(doc.id)
                langs_of[span.person].add(doc.lang or "-")
    spread = Counter(min(len(ids), 6) for ids in documents_of.values())
    both = sum(1 for langs_seen in langs_of.values() if {"ru", "en"} <= langs_seen)
    lengths = sorted(len(doc.text) for doc in docs)
    print(
        f"   persons {len(documents_of)}; documents per person: "
        + ", ".join(f"{'6+' if k == 6 else k}: {v}" for k, v in sorted(spread.items()))
        + f"; in both ru and en: {both}"
    )
    print(f"   document length in characters: min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}")


def print_audit(sources: list[Source]) -> None:
    """Words that carry a label somewhere and stand plain elsewhere: intended traps or forgotten spans."""
    labelled: dict[str, str] = {}
    for source in sources:
        for doc in source.documents:
            for span in doc.spans:
                if span.label in REMOVE_LABELS:
                    for word in re.findall(r"\w{3,}", span.text):
                        labelled.setdefault(word.casefold(), span.label)
    for source in sources:
        for doc in source.documents:
            covered = coverage(doc)
            for found in re.finditer(r"\w{3,}", doc.text):
                label = labelled.get(found[0].casefold())
                if label and not covered[found.start()] and found[0][0].isupper():
                    print(f"{source.split} {doc.id}: plain {found[0]!r} is labelled {label} elsewhere")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stats", action="store_true", help="print counts per label and language")
    parser.add_argument("--audit", action="store_true", help="list plain words that are labelled elsewhere")
    parser.add_argument("--split", choices=SPLITS, action="append", help="build only this split (repeatable)")
    args = parser.parse_args(argv)
    try:
        sources = [parse_source(split, HERE / "source" / f"{split}.txt") for split in args.split or SPLITS]
    except MarkupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    errors = [e for source in sources for e in check_source(source)] + check_across(sources)
    if errors:
        print("\n".join(f"error: {e}" for e in errors), file=sys.stderr)
        return 1
    for source in sources:
        lines = (json.dumps(doc.as_json(), ensure_ascii=False) + "\n" for doc in source.documents)
        (HERE / f"{source.split}.jsonl").write_text("".join(lines), encoding="utf-8")
        if args.stats:
            print_stats(source)
    if args.audit:
        print_audit(sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
