"""Build the stress evaluation set from its hand-written markup and check it.

    python redaction/evaluation/build_stress.py            # writes stress.jsonl
    python redaction/evaluation/build_stress.py --stats    # and prints counts per label, language, person
    python redaction/evaluation/build_stress.py --audit    # and lists capitalised words labelled in one
                                                           # document but plain in another

The stress split uses the markup described in README.md, with person ids ``s01``, ``s02``, ... so
that they never clash with the dev and test splits. Any error stops the build before the file is
written, so stress.jsonl on disk always matches a source that passed every check.
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
SOURCE = HERE / "source" / "stress.txt"
OUTPUT = HERE / "stress.jsonl"

REMOVE_LABELS = frozenset(
    {"PERSON", "PRIVATE_PLACE", "PHONE", "EMAIL", "HANDLE", "LINK", "PLATE", "DOCUMENT", "DOB", "EMPLOYER"}
)
KEEP_LABELS = frozenset({"PUBLIC_PLACE", "UNIT"})
LABELS = REMOVE_LABELS | KEEP_LABELS
LANGS = {"ru": "ru", "en": "en", "-": None}

PERSON_ID = re.compile(r"s\d{2}")
HEADER = re.compile(r"=== (\S+) (\S+)\s*")
MARKUP = re.compile(r"\[\[([^\[\]|]+)\|([A-Z_]+)(?:\|([^\[\]|]+))?\]\]|\{\{([^{}]+)\}\}")
CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ][\w'-]+", re.UNICODE)


class BuildError(Exception):
    pass


@dataclass
class Span:
    start: int
    end: int
    text: str
    label: str
    person: str | None = None

    def as_json(self) -> dict[str, object]:
        row: dict[str, object] = {"start": self.start, "end": self.end, "text": self.text, "label": self.label}
        if self.person is not None:
            row["person"] = self.person
        return row


@dataclass
class Document:
    doc_id: str
    lang: str | None
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    traps: list[tuple[int, int]] = field(default_factory=list)


def parse(path: Path) -> tuple[dict[str, str], list[Document]]:
    roster: dict[str, str] = {}
    docs: list[Document] = []
    lines: list[str] = []
    current: Document | None = None

    def close() -> None:
        if current is not None:
            render(current, "\n".join(lines).strip("\n"))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("%%"):
            continue
        if line.startswith("@person "):
            pid, _, desc = line[len("@person ") :].partition(" ")
            if not PERSON_ID.fullmatch(pid) or pid in roster:
                raise BuildError(f"line {number}: bad or repeated person id {pid!r}")
            roster[pid] = desc
            continue
        if line.startswith("==="):
            header = HEADER.fullmatch(line)
            if header is None or header.group(2) not in LANGS:
                raise BuildError(f"line {number}: bad header {line!r}")
            close()
            current = Document(header.group(1), LANGS[header.group(2)])
            docs.append(current)
            lines = []
            continue
        if current is None:
            if line.strip():
                raise BuildError(f"line {number}: text before the first header")
            continue
        lines.append(line)
    close()
    return roster, docs


def render(doc: Document, marked: str) -> None:
    out: list[str] = []
    length = 0
    last = 0
    for match in MARKUP.finditer(marked):
        plain = marked[last : match.start()]
        out.append(plain)
        length += len(plain)
        surface, label, person, trap = match.groups()
        shown = trap if trap is not None else surface
        if shown != shown.strip() or not shown:
            raise BuildError(f"{doc.doc_id}: white space at the ends of {shown!r}")
        if trap is not None:
            doc.traps.append((length, length + len(trap)))
        else:
            if label not in LABELS:
                raise BuildError(f"{doc.doc_id}: unknown label {label!r}")
            if (label == "PERSON") != (person is not None):
                raise BuildError(f"{doc.doc_id}: person id misplaced on {surface!r} ({label})")
            doc.spans.append(Span(length, length + len(surface), surface, label, person))
        out.append(shown)
        length += len(shown)
        last = match.end()
    out.append(marked[last:])
    doc.text = "".join(out)
    for leftover in ("[[", "]]", "{{", "}}"):
        if leftover in doc.text:
            raise BuildError(f"{doc.doc_id}: broken markup near {leftover!r}")


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    pattern = re.compile(r"(?<![\w@./-])" + re.escape(needle) + r"(?![\w])")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def check(roster: dict[str, str], docs: list[Document]) -> None:
    seen_ids: set[str] = set()
    used: set[str] = set()
    for doc in docs:
        if doc.doc_id in seen_ids:
            raise BuildError(f"{doc.doc_id}: repeated document id")
        seen_ids.add(doc.doc_id)
        if not doc.text:
            raise BuildError(f"{doc.doc_id}: empty document")
        previous_end = 0
        names: dict[str, str] = {}
        for span in doc.spans:
            if doc.text[span.start : span.end] != span.text:
                raise BuildError(f"{doc.doc_id}: offsets do not give back {span.text!r}")
            if span.start < previous_end:
                raise BuildError(f"{doc.doc_id}: overlapping span {span.text!r}")
            previous_end = span.end
            if span.person is not None:
                if span.person not in roster:
                    raise BuildError(f"{doc.doc_id}: undeclared person {span.person}")
                used.add(span.person)
                if names.setdefault(span.text, span.person) != span.person:
                    raise BuildError(f"{doc.doc_id}: {span.text!r} points to two persons")
        check_every_occurrence(doc)
    unused = set(roster) - used
    if unused:
        raise BuildError(f"declared but unused persons: {sorted(unused)}")


def check_every_occurrence(doc: Document) -> None:
    covered = [(s.start, s.end) for s in doc.spans] + doc.traps
    for surface in {s.text for s in doc.spans}:
        for start, end in occurrences(doc.text, surface):
            if not any((a <= start and end <= b) or (a < end and start < b) for a, b in covered):
                raise BuildError(f"{doc.doc_id}: {surface!r} at {start} is labelled elsewhere but plain here")


def stats(roster: dict[str, str], docs: list[Document]) -> None:
    labels = Counter(s.label for d in docs for s in d.spans)
    langs = Counter(d.lang or "none" for d in docs)
    print(f"documents: {len(docs)}  " + "  ".join(f"{k}={v}" for k, v in sorted(langs.items())))
    print(f"spans: {sum(labels.values())}  traps: {sum(len(d.traps) for d in docs)}")
    for label in sorted(labels):
        print(f"  {label:14} {labels[label]}")
    per_person: dict[str, set[str]] = defaultdict(set)
    person_langs: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for span in doc.spans:
            if span.person is not None:
                per_person[span.person].add(doc.doc_id)
                person_langs[span.person].add(doc.lang or "none")
    print(f"persons: {len(per_person)}")
    for pid in sorted(roster):
        print(f"  {pid} docs={len(per_person[pid])} langs={','.join(sorted(person_langs[pid]))}  {roster[pid][:50]}")


def audit(docs: list[Document]) -> None:
    labelled: set[str] = set()
    for doc in docs:
        for span in doc.spans:
            labelled.update(w for w in re.findall(r"[\w'-]+", span.text) if w[:1].isupper())
    for doc in docs:
        covered = [(s.start, s.end) for s in doc.spans] + doc.traps
        for match in CAPITALISED.finditer(doc.text):
            inside = any(a <= match.start() < b for a, b in covered)
            if not inside and match.group() in labelled:
                print(f"{doc.doc_id}: plain {match.group()!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stats", action="store_true", help="print counts per label, language and person")
    parser.add_argument("--audit", action="store_true", help="list plain words that are labelled elsewhere")
    args = parser.parse_args(argv)
    try:
        roster, docs = parse(SOURCE)
        check(roster, docs)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with OUTPUT.open("w", encoding="utf-8") as handle:
        for doc in docs:
            row = {"id": doc.doc_id, "lang": doc.lang, "text": doc.text, "spans": [s.as_json() for s in doc.spans]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.stats:
        stats(roster, docs)
    if args.audit:
        audit(docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
