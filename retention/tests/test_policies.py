"""Retention policies and legal holds decide when the worker shreds a closed case. Attackers:
a database writer (who can change any row but has no instance secret) trying to have a case
shredded early or kept past its time, or to lift a hold; staff of other roles (the access
matrix covers the pages)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from audit.models import Action, AuditEntry
from casework.lifecycle import State, case_transition
from casework.models import Case, Message
from evacuation.checkins.tests.helpers import Clock
from retention import policies
from retention.models import HoldReason, LegalHold, RetentionPolicy, Tombstone
from tests.personas import PersonAtRisk, Staff, open_case

pytestmark = pytest.mark.django_db


def _closed(caseworker: Staff, reason: str = "safe") -> PersonAtRisk:
    person = open_case(body="please help")
    case_transition(case=person.case, member=caseworker.member, to_state=State.CLOSED, reason=reason)
    return person


def _shredded(person: PersonAtRisk) -> bool:
    return Tombstone.objects.filter(case=person.case).exists()


def test_the_defaults_are_in_force_and_the_shortest_is_a_month(db: None) -> None:
    assert policies.policies_in_force() == {str(k): v for k, v in policies.DEFAULT_KEEP_DAYS.items()}
    assert policies.shortest_retention_period() == timedelta(days=30)


def test_a_closed_case_is_shredded_by_the_worker_once_due_and_not_before(caseworker: Staff, clock: Clock) -> None:
    safe = _closed(caseworker, "safe")
    declined = _closed(caseworker, "declined")
    infiltrator = _closed(caseworker, "suspected_infiltrator")
    still_open = open_case(body="still talking")
    clock.move(days=29)
    assert policies.retention_sweep() == (0, 0)
    clock.move(days=2)
    call_command("worker", "--once")  # the periodic sweep is queued and run by the worker
    assert _shredded(declined) and not _shredded(safe) and not _shredded(infiltrator)
    assert not Message.objects.filter(case=declined.case).exists()
    clock.move(days=150)
    assert policies.retention_sweep()[1] == 1  # (and the declined one's files are finished)
    assert _shredded(safe) and not _shredded(infiltrator) and not _shredded(still_open)
    entry = AuditEntry.objects.filter(action=Action.CASE_SHRED, case_public_id=safe.case.public_id).get()
    assert entry.details == {"basis": "policy", "files": 0, "reason": "safe", "keep_days": 180}


def test_reopening_cancels_the_due_date(coordinator: Staff, caseworker: Staff, clock: Clock) -> None:
    person = _closed(caseworker, "declined")
    assert policies.shred_due(Case.objects.get(pk=person.case.pk)).at is not None
    case_transition(case=person.case, member=coordinator.member, to_state=State.TRIAGED)
    assert policies.shred_due(Case.objects.get(pk=person.case.pk)).at is None
    clock.move(days=40)
    policies.retention_sweep()
    assert not _shredded(person)


def test_a_held_case_is_never_shredded_until_the_hold_is_lifted(
    coordinator: Staff, caseworker: Staff, clock: Clock
) -> None:
    person = _closed(caseworker, "declined")
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=True, reason=HoldReason.LEGAL)
    clock.move(days=400)
    policies.retention_sweep()
    assert not _shredded(person)
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=False)
    policies.retention_sweep()
    assert _shredded(person)
    actions = list(
        AuditEntry.objects.filter(case_public_id=person.case.public_id)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [Action.CASE_HOLD_SET, Action.CASE_HOLD_LIFT, Action.CASE_SHRED]


def test_a_database_writer_cannot_shorten_a_policy(caseworker: Staff, clock: Clock) -> None:
    person = _closed(caseworker, "safe")
    RetentionPolicy.objects.filter(reason="safe").update(keep_days=1)  # no certificate for it
    clock.move(days=2)
    policies.retention_sweep()
    assert not _shredded(person)
    assert policies.policy_in_force("safe") is None  # fail closed: that reason's cases are kept
    assert policies.policies_untrusted() == ["safe"]
    assert policies.shortest_retention_period() == timedelta(days=30)


def test_an_earlier_certified_policy_put_back_does_not_count(
    coordinator: Staff, caseworker: Staff, clock: Clock
) -> None:
    """The writer kept the row of a 30-day policy and puts it back after a coordinator set a
    year: the audit log names the year, so the row does not count (and nothing is shredded)."""
    old = RetentionPolicy.objects.get(reason="declined")
    policies.policy_set(reason="declined", keep_days=365, actor=coordinator.member)
    assert policies.policy_in_force("declined") == 365
    RetentionPolicy.objects.filter(reason="declined").delete()
    RetentionPolicy.objects.create(pk=old.pk, reason="declined", keep_days=30, certificate=old.certificate)
    person = _closed(caseworker, "declined")
    clock.move(days=31)
    policies.retention_sweep()
    assert not _shredded(person)


def test_removing_a_policy_keeps_that_reason(coordinator: Staff, caseworker: Staff, clock: Clock) -> None:
    policies.policy_set(reason="declined", keep_days=None, actor=coordinator.member)
    person = _closed(caseworker, "declined")
    clock.move(days=3000)
    policies.retention_sweep()
    assert not _shredded(person)


def test_a_hold_row_changed_or_deleted_by_a_database_writer_still_holds(
    coordinator: Staff, caseworker: Staff, clock: Clock
) -> None:
    changed = _closed(caseworker, "declined")
    deleted = _closed(caseworker, "declined")
    for person in (changed, deleted):
        policies.hold_set(case=person.case, actor=coordinator.member, on_hold=True, reason=HoldReason.EVIDENCE)
    LegalHold.objects.filter(case=changed.case).update(on_hold=False)
    LegalHold.objects.filter(case=deleted.case).delete()
    clock.move(days=40)
    policies.retention_sweep()
    assert not _shredded(changed) and not _shredded(deleted)
    state = policies.hold_state(changed.case)
    assert state.held and state.untrusted


def test_a_case_row_closed_by_a_database_writer_is_not_shredded(caseworker: Staff, clock: Clock) -> None:
    person = open_case(body="still talking")
    Case.objects.filter(pk=person.case.pk).update(status=State.CLOSED)
    clock.move(days=4000)
    policies.retention_sweep()
    assert not _shredded(person)


def test_only_a_coordinator_sets_a_policy_or_shreds_now(coordinator: Staff, caseworker: Staff) -> None:
    person = _closed(caseworker, "safe")
    with pytest.raises(policies.RetentionRefused):
        policies.case_shred_now(case=person.case, actor=caseworker.member)
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=True, reason=HoldReason.PERSON)
    with pytest.raises(policies.RetentionRefused):
        policies.case_shred_now(case=person.case, actor=coordinator.member)
    policies.hold_set(case=person.case, actor=coordinator.member, on_hold=False)
    tombstone = policies.case_shred_now(case=person.case, actor=coordinator.member)
    assert tombstone.basis == "coordinator"


def test_a_coordinator_changes_the_policies_on_their_page(coordinator: Staff, caseworker: Staff) -> None:
    console = coordinator.console(language="en")
    page = console.get("/retention/").content.decode()
    assert 'name="safe"' in page and 'value="180"' in page
    posted = {reason: str(days) for reason, days in policies.DEFAULT_KEEP_DAYS.items()}
    posted.update(safe="90", declined="")
    assert console.post("/retention/", posted).status_code == 302
    assert policies.policy_in_force("safe") == 90
    assert policies.policy_in_force("declined") is None
    changes = AuditEntry.objects.filter(action=Action.RETENTION_POLICY_SET).order_by("sequence")
    assert [entry.details for entry in changes] == [
        {"reason": "safe", "keep_days": 90},
        {"reason": "declined", "keep_days": None},
    ]
    assert console.post("/retention/", {**posted, "safe": "0"}).status_code == 400  # at least a day
    assert caseworker.console().get("/retention/").status_code == 403


def test_the_tombstone_keeps_when_and_why_the_case_was_closed(caseworker: Staff, clock: Clock) -> None:
    person = _closed(caseworker, "duplicate")
    closed_at = clock.now
    clock.move(days=31)
    policies.retention_sweep()
    tombstone = Tombstone.objects.get(case=person.case)
    assert (tombstone.closing_reason, tombstone.basis, tombstone.policy_days) == ("duplicate", "policy", 30)
    assert tombstone.closed_at is not None and abs(tombstone.closed_at - closed_at) < timedelta(seconds=5)


def test_a_coordinator_puts_a_case_on_hold_from_its_page_and_lifts_it(coordinator: Staff, caseworker: Staff) -> None:
    person = _closed(caseworker, "declined")
    console = coordinator.console(language="en")
    section = f"/cases/{person.case.public_id}/?section=state"
    assert "will be shredded on" in console.get(section).content.decode()
    response = console.post(f"/cases/{person.case.public_id}/hold/", {"on_hold": "1", "reason": "legal"})
    assert response.status_code == 302
    page = console.get(section).content.decode()
    assert "On hold: this case is never shredded" in page and "Legal proceedings" in page
    assert console.post(f"/cases/{person.case.public_id}/hold/", {"on_hold": "1"}).status_code == 400  # no reason
    assert caseworker.console().post(f"/cases/{person.case.public_id}/hold/", {"on_hold": "0"}).status_code == 403
    assert policies.hold_state(person.case).held
    console.post(f"/cases/{person.case.public_id}/hold/", {"on_hold": "0"})
    assert not policies.hold_state(person.case).held


def test_the_operator_command_lists_then_shreds_what_is_due(caseworker: Staff, clock: Clock) -> None:
    person = _closed(caseworker, "declined")
    clock.move(days=31)
    out = io.StringIO()
    call_command("retention_sweep", "--list", stdout=out)
    assert out.getvalue().startswith(f"{person.case.public_id} due since ")
    assert not _shredded(person)
    out = io.StringIO()
    call_command("retention_sweep", stdout=out)
    assert _shredded(person)
    assert "cases shredded: 1" in out.getvalue()


def test_a_tombstone_planted_by_a_database_writer_does_not_keep_a_case(caseworker: Staff, clock: Clock) -> None:
    """The writer makes a due case look shredded already (to keep it past its time): without
    the audit log's entry the tombstone counts for nothing, and the case is shredded."""
    person = _closed(caseworker, "declined")
    Tombstone.objects.create(case=person.case, state=Tombstone.State.SHREDDED, basis="policy")
    clock.move(days=31)
    assert policies.retention_sweep()[1] == 1
    assert not Message.objects.filter(case=person.case).exists()
    assert AuditEntry.objects.filter(action=Action.CASE_SHRED, case_public_id=person.case.public_id).exists()
