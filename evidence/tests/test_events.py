"""Events in the HURIDOCS shape: validated against the vocabularies, sealed whole, exported as
JSON records and one CSV row per act without the individual perpetrators' names."""

from __future__ import annotations

import csv
import io

import pytest

from casework import keys
from casework.sealed import EditConflict, Refused
from evidence import esf, events, services
from evidence.tests.test_locker import TERMS, private_key
from tests.personas import PersonAtRisk, Staff

DETENTION = esf.Event(
    title="Round-up in Argun",
    description="Held twelve days in the former military base.",
    start=esf.When("2017-02", "month"),
    place="Аргун",
    acts=(
        esf.Act("arrest", "the person", esf.When("2017-02-26"), place="Грозный", perpetrator_units=("ППСП-2",),
                perpetrator_individuals=("Мохьмад Исаев",)),
        esf.Act("torture", "the person", esf.When("2017-02", "month"), perpetrator_units=("ППСП-2",)),
        esf.Act("handover_to_family", "the person", esf.When("2017-03-10")),
    ),
    sources=(esf.Source("victim", "high"),),
    interventions=(esf.Intervention("evacuation", "the organisation", esf.When("2017-04", "month")),),
)  # fmt: skip


def test_the_vocabularies_have_both_languages() -> None:
    for vocabulary in (esf.ACT_TYPES, esf.DATE_PRECISION, esf.SOURCE_TYPES, esf.RELIABILITY, esf.INTERVENTION_TYPES):
        for english, russian in vocabulary.values():
            assert english and russian and any("а" <= ch <= "я" for ch in russian.lower())


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (esf.Event(""), "title"),
        (esf.Event("t", acts=(esf.Act("flogging", "x"),)), "act 1 type"),
        (esf.Event("t", start=esf.When("26.02.2017")), "start"),
        (esf.Event("t", start=esf.When("2017", "roughly")), "start precision"),
        (esf.Event("t", sources=(esf.Source("victim", "certain"),)), "source 1 reliability"),
        (esf.Event("t", sources=(esf.Source("victim", "high", ("not-an-item",)),)), "source 1"),
        (esf.Event("t", related=(("followed", "no-such-event"),)), "relation"),
    ],
)
def test_an_event_outside_the_format_is_refused_naming_the_field(event: esf.Event, field: str) -> None:
    with pytest.raises(esf.EventInvalid, match=field):
        esf.validate(event)


def test_json_round_trip() -> None:
    assert esf.from_json(esf.to_json(DETENTION)) == DETENTION


def test_the_export_leaves_out_individual_perpetrators_and_gives_one_csv_row_per_act() -> None:
    record = esf.to_record("e1", DETENTION)
    assert "Исаев" not in str(record)
    assert record["acts"][0]["type"] == {"code": "arrest", "en": "Arrest", "ru": "Задержание"}
    rows = list(csv.DictReader(io.StringIO(esf.to_csv([record]))))
    assert [row["act_type"] for row in rows] == ["arrest", "torture", "handover_to_family"]
    assert rows[0]["perpetrator_units"] == "ППСП-2" and rows[0]["event_start_precision"] == "month"


def test_an_event_is_sealed_and_opens_for_the_case(caseworker: Staff, person: PersonAtRisk) -> None:
    key = private_key(caseworker)
    event = events.event_create(case=person.case, actor=caseworker.member, actor_private_key=key, content=DETENTION)
    assert "Исаев".encode() not in bytes(event.content_ct) and b"torture" not in bytes(event.content_ct)
    opened = keys.case_private_keys(person.case, caseworker.member, key)
    assert events.open_event(event, opened) == DETENTION


def test_an_event_cites_only_items_of_its_own_case(
    caseworker: Staff, person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    key = private_key(caseworker)
    consent = services.consent_record(
        case=other_person.case, actor=caseworker.member, actor_private_key=key, terms=TERMS
    )
    other_item = services.item_promote_testimony(
        case=other_person.case, actor=caseworker.member, actor_private_key=key, consent=consent, title="t", text="x"
    )
    citing = esf.Event("t", sources=(esf.Source("victim", "high", (str(other_item.pk),)),))
    with pytest.raises(Refused, match="not evidence items of this case"):
        events.event_create(case=person.case, actor=caseworker.member, actor_private_key=key, content=citing)
    events.event_create(case=other_person.case, actor=caseworker.member, actor_private_key=key, content=citing)


def test_events_chain_and_a_stale_edit_is_refused(caseworker: Staff, person: PersonAtRisk) -> None:
    key = private_key(caseworker)
    first = events.event_create(case=person.case, actor=caseworker.member, actor_private_key=key, content=DETENTION)
    later = esf.Event("Threats to the family", related=(("followed", str(first.pk)),),
                      acts=(esf.Act("threats_to_family", "the person's mother"),))  # fmt: skip
    second = events.event_create(case=person.case, actor=caseworker.member, actor_private_key=key, content=later)
    events.event_edit(event=second, actor=caseworker.member, actor_private_key=key, content=later, revision=1)
    with pytest.raises(EditConflict):
        events.event_edit(event=second, actor=caseworker.member, actor_private_key=key, content=later, revision=1)
