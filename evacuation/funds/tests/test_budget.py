"""A case's budget: one currency, the remaining amount shown, going beyond it only after a
warning and a confirmation; other currencies listed apart and never converted."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEntry
from evacuation.funds import selectors, services
from evacuation.funds.models import CaseBudget, EntryStatus, LedgerEntry
from evacuation.funds.tests.helpers import entry, private_key, text, words
from tests.personas import PersonAtRisk, Staff


def _budget(coordinator: Staff, person: PersonAtRisk, amount: str, currency: str = "RUB") -> CaseBudget:
    return services.budget_set(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=private_key(coordinator),
        amount=Decimal(amount),
        currency=currency,
        expected_revision=CaseBudget.objects.filter(case=person.case).values_list("revision", flat=True).first(),
    )


def test_budget_remaining(coordinator: Staff, caseworker: Staff, person: PersonAtRisk) -> None:
    url = f"/cases/{person.case.public_id}/funds/budget/"
    assert coordinator.console(language="en").post(url, {"amount": "100 000", "currency": "RUB"}).status_code == 302
    assert AuditEntry.objects.filter(action=Action.FUNDS_BUDGET_SET).latest("sequence").details == {
        "revision": 1,
        "currency": "RUB",
    }
    entry(person.case, caseworker, "30000.25")  # approved at once
    waiting = entry(person.case, caseworker, "60000")  # above the limit: waits, and counts
    rejected = entry(person.case, caseworker, "70000", confirm=True)
    services.entry_decide(
        entry=rejected, actor=coordinator.member, actor_private_key=private_key(coordinator), approve=False, reason="no"
    )
    entry(person.case, caseworker, "400", currency="EUR")  # another currency: apart

    summary = selectors.budget_summary(person.case)
    assert summary.in_budget_currency is not None
    assert (summary.in_budget_currency.approved, summary.in_budget_currency.pending) == (
        Decimal("30000.25"),
        Decimal("60000"),
    )
    assert summary.remaining == Decimal("9999.75")
    assert [(t.currency, t.approved) for t in summary.other_currencies] == [("EUR", Decimal("400"))]
    assert waiting.status == EntryStatus.PENDING

    page = words(caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "remaining: 9,999.75 RUB" in page
    assert "EUR: paid and approved 400.00" in page
    page = words(caseworker.console(language="ru").get(f"/cases/{person.case.public_id}/?section=money"))
    assert "осталось: 9\xa0999,75 RUB" in page, page[page.find("Бюджет") :][:300]


def test_going_beyond_the_budget_needs_a_confirmation(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    _budget(coordinator, person, "1000")
    entry(person.case, caseworker, "900")
    url = f"/cases/{person.case.public_id}/funds/"
    form = {
        "category": "food",
        "amount": "100.01",
        "currency": "RUB",
        "paid_on": timezone.localdate().isoformat(),
        "payee": "groceries",
    }
    warned = caseworker.console(language="en").post(url, form)
    assert warned.status_code == 409
    page = text(warned)
    assert "This goes beyond the budget: 100.00 RUB remain, and this entry is 100.01 RUB." in page
    assert re.search(r'<input type="checkbox" name="confirm_over_budget"[^>]*>', page)
    assert 'value="groceries"' in page  # nothing typed is lost
    assert LedgerEntry.objects.count() == 1

    russian = caseworker.console(language="ru").post(url, form)
    assert russian.status_code == 409 and "Это сверх бюджета: осталось 100,00 RUB" in text(russian)

    # Exactly up to the budget needs no confirmation.
    assert caseworker.console(language="en").post(url, {**form, "amount": "100"}).status_code == 302
    confirmed = caseworker.console(language="en").post(url, {**form, "amount": "5", "confirm_over_budget": "on"})
    assert confirmed.status_code == 302
    last = LedgerEntry.objects.get(amount=Decimal("5"))
    assert last.over_budget is True
    audit = AuditEntry.objects.filter(action=Action.FUNDS_ENTRY_CREATE).latest("sequence")
    assert audit.details["over_budget"] is True
    assert selectors.budget_summary(person.case).remaining == Decimal("-5")
    assert "More has been paid out than the budget allows." in text(
        caseworker.console(language="en").get(f"/cases/{person.case.public_id}/?section=money")
    )


def test_an_entry_in_another_currency_never_meets_the_budget_check(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    _budget(coordinator, person, "10", currency="EUR")
    assert entry(person.case, caseworker, "5000", currency="RUB").over_budget is False


def test_only_a_coordinator_sets_the_budget_and_a_stale_form_is_refused(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    url = f"/cases/{person.case.public_id}/funds/budget/"
    assert caseworker.console(language="en").post(url, {"amount": "5", "currency": "RUB"}).status_code == 403
    _budget(coordinator, person, "1000")
    stale = coordinator.console(language="en").post(url, {"amount": "2000", "currency": "RUB"})
    assert stale.status_code == 409
    assert "changed the budget while you were editing it" in text(stale)
    ok = coordinator.console(language="en").post(url, {"amount": "2000", "currency": "EUR", "revision": "1"})
    assert ok.status_code == 302
    budget = CaseBudget.objects.get(case=person.case)
    assert (budget.amount, budget.currency, budget.revision) == (Decimal("2000"), "EUR", 2)
    bad = coordinator.console(language="ru").post(url, {"amount": "2,000", "currency": "RUB", "revision": "2"})
    assert bad.status_code == 400 and "Напишите сумму цифрами" in text(bad)


@pytest.mark.django_db(transaction=True)
def test_two_payments_saved_at_once_cannot_both_slip_under_the_budget(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    """Each payment alone fits what remains; together they do not. Exactly one is recorded,
    the other is stopped at the budget warning (the case row lock serialises the check)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real only on PostgreSQL")
    _budget(coordinator, person, "1000")
    keys_of = {coordinator.member.pk: private_key(coordinator), caseworker.member.pk: private_key(caseworker)}
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(staff: Staff) -> None:
        data = services.EntryInput("food", Decimal("600"), "RUB", timezone.localdate(), "groceries")
        try:
            start.wait(10)
            services.entry_create(
                case=person.case, actor=staff.member, actor_private_key=keys_of[staff.member.pk], data=data
            )
            outcomes.append("recorded")
        except services.OverBudget:
            outcomes.append("stopped")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(staff,)) for staff in (coordinator, caseworker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["recorded", "stopped"]
    assert LedgerEntry.objects.filter(case=person.case).count() == 1
    assert selectors.budget_summary(person.case).remaining == Decimal("400")


def test_raising_an_entry_beyond_the_budget_also_needs_a_confirmation(
    coordinator: Staff, caseworker: Staff, person: PersonAtRisk
) -> None:
    _budget(coordinator, person, "1000")
    saved = entry(person.case, caseworker, "900")
    url = f"/cases/{person.case.public_id}/funds/{saved.pk}/edit/"
    form = {
        "category": "travel",
        "amount": "1000.01",
        "currency": "RUB",
        "paid_on": timezone.localdate().isoformat(),
        "payee": "bus tickets, changed",
        "revision": "1",
    }
    warned = caseworker.console(language="en").post(url, form)
    assert warned.status_code == 409
    # The entry itself is not counted twice: 1000 remain before it.
    assert "1,000.00 RUB remain, and this entry is 1,000.01 RUB" in text(warned)
    assert 'value="bus tickets, changed"' in text(warned)
    assert LedgerEntry.objects.get(pk=saved.pk).amount == Decimal("900")
    assert caseworker.console(language="en").post(url, {**form, "confirm_over_budget": "on"}).status_code == 302
    saved.refresh_from_db()
    assert (saved.amount, saved.over_budget, saved.revision) == (Decimal("1000.01"), True, 2)
