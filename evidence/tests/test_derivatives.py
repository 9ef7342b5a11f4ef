"""Redacted copies: proposed over the case's whole locker, reviewed by staff, every change kept."""

from __future__ import annotations

import dataclasses
import re

import pytest

from casework import keys
from casework.sealed import EditConflict, Refused
from evidence import derivatives, selectors, services
from evidence.models import Derivative, EvidenceItem
from evidence.tests.test_locker import TERMS, private_key
from redaction.pipeline import Proposed, person_of
from tests.personas import PersonAtRisk, Staff

FIRST = "Меня зовут Ислам Дудаев. Нас держали в Аргуне, звонить можно на +7 928 123-45-67."
SECOND = "Исламу Дудаеву угрожал сосед, Ахмед Тимиров, с улицы Ленина, д. 5."


def locker(staff: Staff, person: PersonAtRisk) -> tuple[EvidenceItem, EvidenceItem, dict[int, bytes]]:
    key = private_key(staff)
    consent = services.consent_record(case=person.case, actor=staff.member, actor_private_key=key, terms=TERMS)
    items = [
        services.item_promote_testimony(
            case=person.case, actor=staff.member, actor_private_key=key, consent=consent, title=t, text=text
        )
        for t, text in (("first", FIRST), ("second", SECOND))
    ]
    opened = keys.case_private_keys(person.case, staff.member, key)
    return items[0], items[1], opened


def propose(staff: Staff, item: EvidenceItem, opened: dict[int, bytes]) -> Derivative:
    return derivatives.derivative_propose(
        item=item, actor=staff.member, actor_private_key=private_key(staff), opened=opened
    )


def test_the_proposal_covers_names_in_every_case_across_the_locker(caseworker: Staff, person: PersonAtRisk) -> None:
    first, second, opened = locker(caseworker, person)
    text = derivatives.preview(propose(caseworker, second, opened), opened)
    assert text is not None and "Дудаев" not in text and "Тимиров" not in text and "Ленина" not in text
    first_text = derivatives.preview(propose(caseworker, first, opened), opened)
    assert first_text is not None and "Аргуне" in first_text and "928" not in first_text
    # Ислам Дудаев opens both texts' list of pseudonyms: the same one in both items.
    assert re.findall(r"\[PERSON-[A-Z]+\]", first_text)[0] == re.findall(r"\[PERSON-[A-Z]+\]", text)[0]


def test_review_keeps_what_staff_took_back_and_added(caseworker: Staff, person: PersonAtRisk) -> None:
    _, second, opened = locker(caseworker, person)
    derivative = propose(caseworker, second, opened)
    plan = derivatives.open_plan(derivative, opened)
    assert plan is not None
    street = next(r for r in plan.removals if "Ленина" in SECOND[r.start : r.end])
    start = SECOND.index("сосед")
    added = Proposed(start, start + len("сосед"), "PERSON", "staff", person_of("Ахмед Тимиров"))
    removals = [r for r in plan.removals if r != street] + [added]
    saved = derivatives.derivative_review(
        derivative=derivative, actor=caseworker.member, actor_private_key=private_key(caseworker), opened=opened,
        removals=removals, revision=1, approve=True,
    )  # fmt: skip
    reopened = derivatives.open_plan(saved, opened)
    assert reopened is not None and reopened.proposed == plan.proposed
    (change,) = reopened.changes
    assert change["taken_back"] == [dataclasses.asdict(street)] and change["added"] == [dataclasses.asdict(added)]
    text = derivatives.preview(saved, opened)
    assert text is not None and "Ленина" in text and "сосед" not in text
    actions = [e.action for _, e in selectors.custody_entries(second, opened)]
    assert actions[-1] == "derivative"
    assert saved.reviewed_by_id == caseworker.member.pk


def test_a_stale_review_is_refused_and_changes_nothing(caseworker: Staff, person: PersonAtRisk) -> None:
    _, second, opened = locker(caseworker, person)
    derivative = propose(caseworker, second, opened)
    kwargs = {
        "actor": caseworker.member,
        "actor_private_key": private_key(caseworker),
        "opened": opened,
        "approve": False,
    }
    derivatives.derivative_review(derivative=derivative, removals=[], revision=1, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(EditConflict):
        derivatives.derivative_review(derivative=derivative, removals=[], revision=1, **kwargs)  # type: ignore[arg-type]
    assert Derivative.objects.get(pk=derivative.pk).revision == 2


def test_overlapping_or_outside_spans_are_refused(caseworker: Staff, person: PersonAtRisk) -> None:
    _, second, opened = locker(caseworker, person)
    derivative = propose(caseworker, second, opened)
    kwargs = {
        "actor": caseworker.member,
        "actor_private_key": private_key(caseworker),
        "opened": opened,
        "approve": False,
    }
    with pytest.raises(Refused, match="overlap"):
        derivatives.derivative_review(
            derivative=derivative,
            removals=[Proposed(0, 6, "PERSON"), Proposed(3, 9, "PERSON")],
            revision=1,
            **kwargs,  # type: ignore[arg-type]
        )
    with pytest.raises(Refused, match="outside"):
        derivatives.derivative_review(
            derivative=derivative, removals=[Proposed(0, 9999, "PHONE")], revision=1, **kwargs
        )  # type: ignore[arg-type]


def test_the_plan_is_sealed(caseworker: Staff, person: PersonAtRisk) -> None:
    _, second, opened = locker(caseworker, person)
    derivative = propose(caseworker, second, opened)
    assert "Тимиров".encode() not in bytes(derivative.plan_ct) and b"PERSON" not in bytes(derivative.plan_ct)
