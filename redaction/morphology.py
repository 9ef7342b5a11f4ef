"""Russian morphology and named entities, loaded once per process from the installed wheels.

pymorphy2 (which natasha uses) still calls ``inspect.getargspec``, removed in Python 3.11; the
shim below gives it the same four fields from ``getfullargspec``. Its dictionary path is passed
explicitly, so nothing depends on ``pkg_resources`` (not installed on servers).
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, NamedTuple


def _getargspec(function: Any) -> tuple[Any, ...]:
    spec = inspect.getfullargspec(function)
    return (spec.args, spec.varargs, spec.varkw, spec.defaults)


if not hasattr(inspect, "getargspec"):
    inspect.getargspec = _getargspec  # type: ignore[attr-defined]  # removed in 3.11; put back for pymorphy2

import pymorphy2  # noqa: E402
import pymorphy2_dicts_ru  # noqa: E402


class Parse(NamedTuple):
    lemma: str
    tags: frozenset[str]
    score: float


@cache
def analyzer() -> Any:
    return pymorphy2.MorphAnalyzer(path=pymorphy2_dicts_ru.get_path())


@cache
def parses(word: str) -> tuple[Parse, ...]:
    """The dictionary's readings of one word, most likely first (lemma lowercased, ё as е)."""
    found = []
    for reading in analyzer().parse(word):
        grammemes = frozenset(str(reading.tag).replace(" ", ",").split(","))
        found.append(Parse(reading.normal_form.replace("ё", "е"), grammemes, float(reading.score)))
    return tuple(found)


@cache
def word_is_known(word: str) -> bool:
    """Whether the dictionary has the word itself (not a guess from its ending)."""
    return bool(analyzer().word_is_known(word))


@cache
def ner_pipeline() -> tuple[Any, Any]:
    """natasha's segmenter and news NER tagger (navec embeddings and slovnet weights from the wheels)."""
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


class Entity(NamedTuple):
    start: int
    end: int
    kind: str  # PER, LOC or ORG


def entities(text: str) -> list[Entity]:
    from natasha import Doc

    segmenter, tagger = ner_pipeline()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [Entity(span.start, span.stop, span.type) for span in doc.spans]
