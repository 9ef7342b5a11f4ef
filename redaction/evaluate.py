"""Measure redaction against an annotated set (redaction/evaluation/README.md has the format).

Figures, all computed on the redaction of the whole set under one key:
- recall per label: the share of identifying spans with every letter and digit removed;
- persons findable: the share of persons any word of whose name (three letters or more,
  as written in the set) still appears as a whole word anywhere in the output;
- public places damaged: the share of kept spans (PUBLIC_PLACE, UNIT) with anything removed;
- pseudonym consistency: of the persons mentioned in two documents or more, the share whose
  mentions were all given one and the same pseudonym.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redaction.pipeline import Document, Redacted, redact
from redaction.spans import KEPT

EVALUATION_KEY = bytes(32)


@dataclass
class Figures:
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # label: (removed, total)
    persons_findable: tuple[int, int] = (0, 0)
    kept_damaged: dict[str, tuple[int, int]] = field(default_factory=dict)
    consistency: tuple[int, int] = (0, 0)
    misses: list[str] = field(default_factory=list)
    findable: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)
    # Removed spans that touch no identifying span of the set (over-redaction beyond places).
    needless: list[str] = field(default_factory=list)
    removed_spans: int = 0
    # Lenient: the span's text no longer appears in its document's output (the way a reader
    # searching the output would look for it).
    text_gone: tuple[int, int] = (0, 0)

    def overall_recall(self) -> float:
        removed = sum(r for r, _ in self.recall.values())
        total = sum(t for _, t in self.recall.values())
        return removed / total if total else 1.0


def evaluate_file(path: Path) -> Figures:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return evaluate(records)


def evaluate(records: list[dict[str, Any]]) -> Figures:
    documents = [Document(r["id"], r["text"], r.get("lang")) for r in records]
    results = redact(documents, EVALUATION_KEY)
    figures = Figures()
    _recall(records, results, figures)
    _findable(records, results, figures)
    _consistency(records, results, figures)
    return figures


def _removed_positions(result: Redacted) -> set[int]:
    return {i for span in result.spans for i in range(span.start, span.end)}


def _recall(records: list[dict[str, Any]], results: list[Redacted], figures: Figures) -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    damaged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    gone = [0, 0]
    for record, result in zip(records, results, strict=True):
        removed = _removed_positions(result)
        for gold in record["spans"]:
            if gold["label"] not in KEPT:
                gone[1] += 1
                gone[0] += gold["text"] not in result.text
        for gold in record["spans"]:
            letters = [i for i in range(gold["start"], gold["end"]) if record["text"][i].isalnum()]
            if gold["label"] in KEPT:
                damaged[gold["label"]][1] += 1
                if any(i in removed for i in letters):
                    damaged[gold["label"]][0] += 1
                    figures.damaged.append(f"{record['id']} {gold['label']} {gold['text']!r}")
                continue
            counts[gold["label"]][1] += 1
            if all(i in removed for i in letters):
                counts[gold["label"]][0] += 1
            else:
                figures.misses.append(f"{record['id']} {gold['label']} {gold['text']!r}")
        gold_spans = [g for g in record["spans"] if g["label"] not in KEPT]
        for span in result.spans:
            figures.removed_spans += 1
            if not any(span.start < g["end"] and g["start"] < span.end for g in gold_spans):
                figures.needless.append(f"{record['id']} {span.label} {span.text(record['text'])!r}")
    figures.recall = {label: (c[0], c[1]) for label, c in sorted(counts.items())}
    figures.text_gone = (gone[0], gone[1])
    figures.kept_damaged = {label: (c[0], c[1]) for label, c in sorted(damaged.items())}


def _findable(records: list[dict[str, Any]], results: list[Redacted], figures: Figures) -> None:
    words: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for gold in record["spans"]:
            if gold["label"] == "PERSON":
                words[gold["person"]].update(w for w in re.findall(r"[^\W\d_]{3,}", gold["text"]))
    output = "\n".join(result.text for result in results)
    found = 0
    for person, person_words in sorted(words.items()):
        visible = sorted(w for w in person_words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", output))
        if visible:
            found += 1
            figures.findable.append(f"{person}: {', '.join(visible)}")
    figures.persons_findable = (found, len(words))


def _consistency(records: list[dict[str, Any]], results: list[Redacted], figures: Figures) -> None:
    given: dict[str, set[str]] = defaultdict(set)
    documents: dict[str, set[str]] = defaultdict(set)
    for record, result in zip(records, results, strict=True):
        for gold in record["spans"]:
            if gold["label"] != "PERSON":
                continue
            documents[gold["person"]].add(record["id"])
            for span, replacement in zip(result.spans, result.replacements, strict=True):
                if span.start < gold["end"] and gold["start"] < span.end and replacement.startswith("[PERSON-"):
                    given[gold["person"]].add(replacement)
    recurring = [person for person, docs in documents.items() if len(docs) > 1]
    consistent = [person for person in recurring if len(given[person]) == 1]
    figures.split = [f"{p}: {sorted(given[p])}" for p in sorted(set(recurring) - set(consistent))]
    figures.consistency = (len(consistent), len(recurring))


def _share(pair: tuple[int, int]) -> str:
    part, whole = pair
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else "0/0"


def report(figures: Figures, details: bool = True) -> str:
    lines = ["Recall of identifying spans (removed / total):"]
    lines += [f"  {label:14} {_share(pair)}" for label, pair in figures.recall.items()]
    removed = sum(r for r, _ in figures.recall.values())
    total = sum(t for _, t in figures.recall.values())
    lines.append(f"  {'all':14} {_share((removed, total))}")
    lines.append(f"Spans whose text is gone from the output: {_share(figures.text_gone)}")
    lines.append(f"Persons still findable: {_share(figures.persons_findable)}")
    for label, pair in figures.kept_damaged.items():
        lines.append(f"Kept spans damaged ({label}): {_share(pair)}")
    lines.append(f"One pseudonym per recurring person: {_share(figures.consistency)}")
    lines.append(
        f"Removed spans that touch nothing identifying: {_share((len(figures.needless), figures.removed_spans))}"
    )
    if details:
        for title, items in (("Missed", figures.misses), ("Findable", figures.findable),
                             ("Damaged", figures.damaged), ("Split", figures.split),
                             ("Needless", figures.needless)):  # fmt: skip
            lines += [f"{title}:"] + [f"  {item}" for item in items]
    return "\n".join(lines)
