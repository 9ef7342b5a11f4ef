"""Four eyes over a window, not per entry: a payment waits for another coordinator when it takes
the case's payments in its currency that no coordinator approved, entered within
SP_FUNDS_APPROVAL_WINDOW_DAYS, over the limit. One large payment split into small ones still
reaches a coordinator."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from casework import keys
from casework.models import Case
from casework.sealed import Refused
from evacuation.funds import services
from evacuation.funds.models import EntryStatus, LedgerEntry
from evacuation.funds.tests.helpers import entry, private_key, second_coordinator, words
from tests.personas import PersonAtRisk, Staff, make_staff

LIMITS = {"RUB": Decimal("50000"), "EUR": Decimal("500")}


@pytest.fixture(autouse=True)
def _limits(settings: object) -> None:
    settings.SP_FUNDS_APPROVAL_OVER = LIMITS  # type: ignore[attr-defined]
    settings.SP_FUNDS_APPROVAL_WINDOW_DAYS = 30  # type: ignore[attr-defined]


def _holding_the_key(username: str, role: str, coordinator: Staff, case: Case) -> Staff:
    member = make_staff(username, role=role, invited_by=coordinator)
    opened = keys.current_key_open(case, coordinator.member, private_key(coordinator))
    keys.wrap_case_key_for(member.member, keys.current_case_key(case), opened)
    return member


def _edit(saved: LedgerEntry, staff: Staff, amount: str, *, currency: str = "RUB", payee: str = "bus") -> LedgerEntry:
    current = LedgerEntry.objects.get(pk=saved.pk)
    return services.entry_edit(
        entry=current,
        actor=staff.member,
        actor_private_key=private_key(staff),
        data=services.EntryInput("travel", Decimal(amount), currency, current.paid_on, payee),
        expected_revision=current.revision,
    )


def _entered_days_ago(saved: LedgerEntry, days: int) -> None:
    LedgerEntry.objects.filter(pk=saved.pk).update(entered_at=timezone.now() - timedelta(days=days))


def test_two_entries_each_under_the_limit_whose_sum_is_over_it_make_the_second_wait(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    """Attacker: a staff member who splits one payment of 60,000 into two of 30,000 so that no
    coordinator ever sees it."""
    first = entry(person.case, caseworker, "30000")
    second = entry(person.case, caseworker, "30000")
    assert first.status == EntryStatus.APPROVED
    assert (second.status, second.needs_approval) == (EntryStatus.PENDING, True)


def test_two_staff_members_splitting_a_payment_between_them_are_counted_together(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    """Attacker: two colluding staff, each entering half of a payment on the same case. The
    total is the case's, whoever entered its parts."""
    # Another caseworker given the key (logistics staff read a case only once it is verified).
    colleague = _holding_the_key("colleague", Role.CASEWORKER, coordinator, person.case)
    assert entry(person.case, caseworker, "30000").status == EntryStatus.APPROVED
    assert entry(person.case, colleague, "30000").status == EntryStatus.PENDING


def test_an_entry_dated_back_still_counts_in_the_window(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a staff member who dates the parts of a split payment months apart. The window
    is counted by when entries were entered (the server's clock), not the date paid (typed)."""
    today = timezone.localdate()
    assert entry(person.case, caseworker, "30000", paid_on=today - timedelta(days=90)).status == EntryStatus.APPROVED
    assert entry(person.case, caseworker, "30000", paid_on=today).status == EntryStatus.PENDING


def test_entries_entered_further_apart_than_the_window_are_counted_apart(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    first = entry(person.case, caseworker, "30000")
    _entered_days_ago(first, 31)
    assert entry(person.case, caseworker, "30000").status == EntryStatus.APPROVED


def test_other_currencies_and_other_cases_are_counted_apart(
    caseworker: Staff, person: PersonAtRisk, other_person: PersonAtRisk
) -> None:
    assert entry(person.case, caseworker, "40000").status == EntryStatus.APPROVED
    assert entry(person.case, caseworker, "400", currency="EUR").status == EntryStatus.APPROVED
    assert entry(other_person.case, caseworker, "40000").status == EntryStatus.APPROVED


def test_payments_a_coordinator_approved_do_not_make_later_small_ones_wait(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    """What escapes a second coordinator is bounded: at most the limit per case, currency and
    window. A payment a coordinator already approved has had its four eyes."""
    big = entry(person.case, caseworker, "60000")
    services.entry_decide(
        entry=big, actor=coordinator.member, actor_private_key=private_key(coordinator), approve=True, reason="ok"
    )
    assert entry(person.case, caseworker, "500").status == EntryStatus.APPROVED
    waiting = entry(person.case, caseworker, "49600")
    assert waiting.status == EntryStatus.PENDING  # 500 + 49,600 that no coordinator approved
    services.entry_decide(
        entry=waiting, actor=coordinator.member, actor_private_key=private_key(coordinator), approve=False, reason="no"
    )
    assert entry(person.case, caseworker, "49500").status == EntryStatus.APPROVED  # the rejected one was never paid


def test_an_edit_that_raises_an_amount_checks_the_window_again(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a staff member who records a small amount and raises it afterwards."""
    entry(person.case, caseworker, "20000")
    second = entry(person.case, caseworker, "20000")
    raised = _edit(second, caseworker, "40000")
    assert (raised.status, raised.needs_approval) == (EntryStatus.PENDING, True)


def test_moving_an_entry_to_another_currency_counts_it_there(caseworker: Staff, person: PersonAtRisk) -> None:
    entry(person.case, caseworker, "300", currency="EUR")
    moved = _edit(entry(person.case, caseworker, "300"), caseworker, "300", currency="EUR")
    assert moved.status == EntryStatus.PENDING


def test_raising_an_old_entry_counts_what_was_entered_around_it(caseworker: Staff, person: PersonAtRisk) -> None:
    """An entry entered 40 days ago and raised today is checked against everything entered from
    30 days before it until now, not only against the last 30 days."""
    old = entry(person.case, caseworker, "10000")
    _entered_days_ago(old, 40)
    later = entry(person.case, caseworker, "35000")
    _entered_days_ago(later, 35)
    assert _edit(old, caseworker, "20000").status == EntryStatus.PENDING


def test_correcting_an_entry_without_adding_money_keeps_it_approved(caseworker: Staff, person: PersonAtRisk) -> None:
    old = entry(person.case, caseworker, "30000")
    _entered_days_ago(old, 40)
    later = entry(person.case, caseworker, "30000")
    _entered_days_ago(later, 5)
    corrected = _edit(old, caseworker, "30000", payee="bus tickets to Vladikavkaz")
    assert (corrected.status, corrected.needs_approval) == (EntryStatus.APPROVED, False)
    assert _edit(old, caseworker, "25000").status == EntryStatus.APPROVED


def test_lowering_a_waiting_entry_under_what_the_window_allows_approves_it(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    entry(person.case, caseworker, "30000")
    waiting = entry(person.case, caseworker, "30000")
    assert waiting.status == EntryStatus.PENDING
    assert _edit(waiting, caseworker, "20000").status == EntryStatus.APPROVED


def test_the_case_page_says_how_payments_add_up(caseworker: Staff, person: PersonAtRisk) -> None:
    page = words(caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "over the limit within 30 days" in page
    page = words(caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "за 30 дней" in page


@pytest.mark.django_db(transaction=True)
def test_two_parts_of_a_payment_saved_at_once_cannot_both_escape_approval(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    """Attacker: two colluding staff saving the two halves of a payment at the same moment, so
    that each check runs before the other half is written. The case row lock serialises them:
    exactly one half waits."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL")
    keys_of = {coordinator.member.pk: private_key(coordinator), caseworker.member.pk: private_key(caseworker)}
    start = threading.Barrier(2)
    statuses: list[str] = []

    def pay(staff: Staff) -> None:
        data = services.EntryInput("housing", Decimal("30000"), "RUB", timezone.localdate(), "landlord")
        try:
            start.wait(10)
            saved = services.entry_create(
                case=person.case, actor=staff.member, actor_private_key=keys_of[staff.member.pk], data=data
            )
            statuses.append(saved.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(staff,)) for staff in (coordinator, caseworker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [EntryStatus.APPROVED, EntryStatus.PENDING]


def test_a_second_coordinator_still_decides_a_split_payment(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    own_first = entry(person.case, coordinator, "30000")
    own_second = entry(person.case, coordinator, "30000")
    assert (own_first.status, own_second.status) == (EntryStatus.APPROVED, EntryStatus.PENDING)
    with pytest.raises(Refused):
        services.entry_decide(
            entry=own_second,
            actor=coordinator.member,
            actor_private_key=private_key(coordinator),
            approve=True,
            reason="mine",
        )
    second = second_coordinator(coordinator, person.case)
    decided = services.entry_decide(
        entry=own_second, actor=second.member, actor_private_key=private_key(second), approve=True, reason="receipts"
    )
    assert decided.status == EntryStatus.APPROVED
