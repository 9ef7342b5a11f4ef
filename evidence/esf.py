"""Events in the shape of HURIDOCS Events Standard Formats, with Russian and English vocabularies.

An event (what happened, when, where) holds acts: what was done to one victim (arrest,
detention, torture, forced outing...), by whom (perpetrator units by name; an individual
perpetrator's name is sealed with the rest), when and where, each date with its precision.
Events chain (one event "followed" or "is part of" another), cite sources with a reliability,
list interventions (who acted, how), and name the evidence items they rest on.

Plain data: the whole event is sealed to its case's key as one JSON document (evidence.models
.Event), validated here; exports (``to_rows``, ``to_records``) carry vocabulary codes with both
languages' labels, so a recipient's tool can map them to its own thesaurus.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Vocabulary = Mapping[str, tuple[str, str]]  # code: (English, Russian)

ACT_TYPES: Vocabulary = {
    "arrest": ("Arrest", "Задержание"),
    "detention": ("Detention", "Содержание под стражей"),
    "incommunicado_detention": ("Incommunicado detention", "Содержание без связи с внешним миром"),
    "abduction": ("Abduction", "Похищение"),
    "enforced_disappearance": ("Enforced disappearance", "Насильственное исчезновение"),
    "torture": ("Torture", "Пытки"),
    "beating": ("Beating", "Избиение"),
    "ill_treatment": ("Cruel, inhuman or degrading treatment", "Жестокое, бесчеловечное обращение"),
    "sexual_violence": ("Sexual violence", "Сексуальное насилие"),
    "killing": ("Killing", "Убийство"),
    "death_in_custody": ("Death in custody", "Смерть под стражей"),
    "forced_outing": ("Forced outing", "Принудительный аутинг"),
    "handover_to_family": ("Handed over to the family", "Передача родственникам"),
    "threats_to_family": ("Threats to the family", "Угрозы семье"),
    "threats": ("Threats", "Угрозы"),
    "blackmail": ("Blackmail, extortion", "Шантаж, вымогательство"),
    "entrapment": ("Entrapment (a set-up meeting)", "Провокация (подставная встреча)"),
    "phone_seizure": ("Phone seized and searched", "Изъятие и обыск телефона"),
    "forced_confession": ("Forced confession or video", "Принудительное признание или видео"),
    "public_humiliation": ("Public humiliation", "Публичное унижение"),
    "surveillance": ("Surveillance", "Слежка"),
    "denial_of_medical_care": ("Denial of medical care", "Отказ в медицинской помощи"),
    "forced_return": ("Forced return", "Принудительное возвращение"),
    "other": ("Other", "Другое"),
}
DATE_PRECISION: Vocabulary = {
    "day": ("Exact day", "Точный день"),
    "month": ("Month", "Месяц"),
    "year": ("Year", "Год"),
    "approximate": ("Approximate", "Приблизительно"),
    "unknown": ("Unknown", "Неизвестно"),
}
RELATION_TYPES: Vocabulary = {
    "followed": ("Followed", "Последовало за"),
    "part_of": ("Part of", "Часть"),
    "related": ("Related", "Связано"),
}
SOURCE_TYPES: Vocabulary = {
    "victim": ("The victim", "Пострадавший"),
    "relative": ("A relative", "Родственник"),
    "witness": ("A witness", "Свидетель"),
    "media": ("Media", "СМИ"),
    "ngo": ("Another organisation", "Другая организация"),
    "official": ("An official document", "Официальный документ"),
    "other": ("Other", "Другое"),
}
RELIABILITY: Vocabulary = {
    "high": ("High", "Высокая"),
    "medium": ("Medium", "Средняя"),
    "low": ("Low", "Низкая"),
    "unknown": ("Not assessed", "Не оценена"),
}
INTERVENTION_TYPES: Vocabulary = {
    "evacuation": ("Evacuation", "Эвакуация"),
    "shelter": ("Shelter", "Убежище"),
    "legal_aid": ("Legal aid", "Юридическая помощь"),
    "medical_aid": ("Medical aid", "Медицинская помощь"),
    "psychological_aid": ("Psychological support", "Психологическая поддержка"),
    "complaint": ("Complaint to the authorities", "Жалоба властям"),
    "international_communication": ("Communication to a UN or OSCE mechanism", "Обращение в механизм ООН или ОБСЕ"),
    "media": ("Publication", "Публикация"),
    "other": ("Other", "Другое"),
}

_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


class EventInvalid(ValueError):
    """An event that does not fit the format; the message names the field."""


@dataclass(frozen=True)
class When:
    date: str  # YYYY, YYYY-MM or YYYY-MM-DD
    precision: str = "day"


@dataclass(frozen=True)
class Act:
    type: str
    victim: str  # as the organisation refers to them (a pseudonym, "the person of this case")
    start: When | None = None
    end: When | None = None
    place: str = ""
    perpetrator_units: tuple[str, ...] = ()  # by name: ППСП-2, полк имени Кадырова
    perpetrator_individuals: tuple[str, ...] = ()  # sealed with the event, never exported unredacted
    note: str = ""


@dataclass(frozen=True)
class Source:
    type: str
    reliability: str
    item_ids: tuple[str, ...] = ()  # evidence items of the same case
    note: str = ""


@dataclass(frozen=True)
class Intervention:
    type: str
    by: str
    when: When | None = None
    note: str = ""


@dataclass(frozen=True)
class Event:
    title: str
    description: str = ""
    start: When | None = None
    end: When | None = None
    place: str = ""
    acts: tuple[Act, ...] = ()
    sources: tuple[Source, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    related: tuple[tuple[str, str], ...] = ()  # (relation type, other event id)


def _in(value: str, vocabulary: Vocabulary, what: str) -> None:
    if value not in vocabulary:
        raise EventInvalid(f"{what}: {value!r} is not in the vocabulary")


def _check_when(when: When | None, what: str) -> None:
    if when is None:
        return
    if not _DATE.match(when.date):
        raise EventInvalid(f"{what}: a date is YYYY, YYYY-MM or YYYY-MM-DD")
    _in(when.precision, DATE_PRECISION, f"{what} precision")


def validate(event: Event, *, item_ids: Iterable[str] = (), event_ids: Iterable[str] = ()) -> None:
    """Raise EventInvalid unless every code is in its vocabulary, every date well formed, and
    every item and related event one of those given (the same case's)."""
    if not event.title.strip():
        raise EventInvalid("title: an event needs a title")
    _check_when(event.start, "start")
    _check_when(event.end, "end")
    known_items, known_events = set(item_ids), set(event_ids)
    for number, act in enumerate(event.acts, start=1):
        _in(act.type, ACT_TYPES, f"act {number} type")
        _check_when(act.start, f"act {number} start")
        _check_when(act.end, f"act {number} end")
    for number, source in enumerate(event.sources, start=1):
        _in(source.type, SOURCE_TYPES, f"source {number} type")
        _in(source.reliability, RELIABILITY, f"source {number} reliability")
        unknown = set(source.item_ids) - known_items
        if unknown:
            raise EventInvalid(f"source {number}: {sorted(unknown)} are not evidence items of this case")
    for number, intervention in enumerate(event.interventions, start=1):
        _in(intervention.type, INTERVENTION_TYPES, f"intervention {number} type")
        _check_when(intervention.when, f"intervention {number} date")
    for relation, other in event.related:
        _in(relation, RELATION_TYPES, "relation")
        if other not in known_events:
            raise EventInvalid(f"relation: {other} is not an event of this organisation")


def to_json(event: Event) -> dict[str, Any]:
    return asdict(event)


def from_json(data: Mapping[str, Any]) -> Event:
    def when(value: Any) -> When | None:
        return When(**value) if value else None

    acts = tuple(
        Act(
            a["type"], a["victim"], when(a.get("start")), when(a.get("end")), a.get("place", ""),
            tuple(a.get("perpetrator_units", ())), tuple(a.get("perpetrator_individuals", ())), a.get("note", ""),
        )
        for a in data.get("acts", ())
    )  # fmt: skip
    sources = tuple(
        Source(s["type"], s["reliability"], tuple(s.get("item_ids", ())), s.get("note", ""))
        for s in data.get("sources", ())
    )
    interventions = tuple(
        Intervention(i["type"], i["by"], when(i.get("when")), i.get("note", "")) for i in data.get("interventions", ())
    )
    related = tuple((str(r[0]), str(r[1])) for r in data.get("related", ()))
    return Event(
        data["title"], data.get("description", ""), when(data.get("start")), when(data.get("end")),
        data.get("place", ""), acts, sources, interventions, related,
    )  # fmt: skip


def free_texts(event: Event) -> list[str]:
    """Every free text of an event that an export passes through the redaction."""
    texts = [event.title, event.description, event.place]
    texts += [text for act in event.acts for text in (act.victim, act.place)]
    texts += [intervention.by for intervention in event.interventions]
    return [text for text in texts if text]


def _label(code: str, vocabulary: Vocabulary) -> dict[str, str]:
    english, russian = vocabulary[code]
    return {"code": code, "en": english, "ru": russian}


def _when(when: When | None) -> dict[str, str] | None:
    return {"date": when.date, "precision": when.precision} if when else None


def to_record(event_id: str, event: Event, *, redact: Any = None) -> dict[str, Any]:
    """One event as exported: codes with both labels; individual perpetrators left out, and
    every free text passed through ``redact`` (the reviewed redaction) when given."""
    clean = redact or (lambda text: text)
    return {
        "event_id": event_id,
        "title": clean(event.title),
        "description": clean(event.description),
        "start": _when(event.start),
        "end": _when(event.end),
        "place": clean(event.place),
        "acts": [
            {
                "type": _label(act.type, ACT_TYPES),
                "victim": clean(act.victim),
                "start": _when(act.start),
                "end": _when(act.end),
                "place": clean(act.place),
                "perpetrator_units": list(act.perpetrator_units),
            }
            for act in event.acts
        ],
        "sources": [
            {
                "type": _label(s.type, SOURCE_TYPES),
                "reliability": _label(s.reliability, RELIABILITY),
                "items": list(s.item_ids),
            }
            for s in event.sources
        ],
        "interventions": [
            {"type": _label(i.type, INTERVENTION_TYPES), "by": clean(i.by), "date": _when(i.when)}
            for i in event.interventions
        ],
        "related": [{"relation": _label(r, RELATION_TYPES), "event_id": other} for r, other in event.related],
    }


CSV_COLUMNS = (
    "event_id", "event_title", "event_start", "event_start_precision", "event_place", "act_number", "act_type",
    "act_type_en", "act_type_ru", "victim", "act_start", "act_start_precision", "act_end", "act_place",
    "perpetrator_units",
)  # fmt: skip


def to_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """One row per act (an event without acts gets one row), as HURIDOCS flat exports do."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        acts = record["acts"] or [None]
        for number, act in enumerate(acts, start=1):
            writer.writerow(_csv_row(record, number, act))
    return out.getvalue()


def _csv_row(record: Mapping[str, Any], number: int, act: Mapping[str, Any] | None) -> dict[str, str]:
    start = record["start"] or {}
    row = {
        "event_id": record["event_id"], "event_title": record["title"], "event_start": start.get("date", ""),
        "event_start_precision": start.get("precision", ""), "event_place": record["place"],
    }  # fmt: skip
    if act is not None:
        act_start, act_end = act["start"] or {}, act["end"] or {}
        row |= {
            "act_number": str(number), "act_type": act["type"]["code"], "act_type_en": act["type"]["en"],
            "act_type_ru": act["type"]["ru"], "victim": act["victim"], "act_start": act_start.get("date", ""),
            "act_start_precision": act_start.get("precision", ""), "act_end": act_end.get("date", ""),
            "act_place": act["place"], "perpetrator_units": "; ".join(act["perpetrator_units"]),
        }  # fmt: skip
    return {column: row.get(column, "") for column in CSV_COLUMNS}
