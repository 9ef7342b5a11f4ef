"""Reads of money paid out: a case's ledger opened for one member, its budget, and reports
across all cases built from the plaintext columns only (no payee text ever leaves a case)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.models import StaffMember
from casework.models import Case
from casework.sealed import open_text
from casework.selectors import cases_visible_to
from evacuation.funds import crypto
from evacuation.funds.models import CaseBudget, Category, EntryStatus, LedgerEntry
from evacuation.funds.money import csv_safe
from evacuation.funds.services import COUNTS_AGAINST_BUDGET


@dataclass(frozen=True)
class EntryView:
    id: uuid.UUID
    category: str
    category_label: str
    amount: Decimal
    currency: str
    paid_on: date
    status: str
    status_label: str
    needs_approval: bool
    over_budget: bool
    entered_by: str
    entered_by_id: int
    updated_by_id: int
    revision: int
    payee: str | None  # None: sealed to a key version this member does not hold
    decided_by: str
    decided_at: datetime | None
    reason: str | None

    @property
    def pending(self) -> bool:
        return self.status == EntryStatus.PENDING


def open_entry(entry: LedgerEntry, opened: dict[int, bytes]) -> EntryView:
    payee = open_text(
        opened, entry.case_key_id, bytes(entry.payee_ct), ctx=crypto.payee_ctx(entry.id.bytes, entry.case)
    )
    reason: str | None = ""
    if entry.decided_by_id is not None and bytes(entry.reason_ct):
        ctx = crypto.reason_ctx(entry.id.bytes, entry.case, entry.decided_by_id, entry.status)
        reason = open_text(opened, entry.decision_key_id, bytes(entry.reason_ct), ctx=ctx)
    return EntryView(
        id=entry.id,
        category=entry.category,
        category_label=str(Category(entry.category).label),
        amount=entry.amount,
        currency=entry.currency,
        paid_on=entry.paid_on,
        status=entry.status,
        status_label=str(EntryStatus(entry.status).label),
        needs_approval=entry.needs_approval,
        over_budget=entry.over_budget,
        entered_by=entry.entered_by.username,
        entered_by_id=entry.entered_by_id,
        updated_by_id=entry.updated_by_id,
        revision=entry.revision,
        payee=payee,
        decided_by=entry.decided_by.username if entry.decided_by else "",
        decided_at=entry.decided_at,
        reason=reason,
    )


def entry_on_case(case: Case, entry_id: uuid.UUID) -> LedgerEntry | None:
    return LedgerEntry.objects.select_related("case", "entered_by", "decided_by").filter(case=case, pk=entry_id).first()


def case_entries(case: Case, opened: dict[int, bytes]) -> list[EntryView]:
    rows = (
        LedgerEntry.objects.filter(case=case)
        .select_related("case", "entered_by", "decided_by")
        .order_by("-paid_on", "-entered_at")
    )
    return [open_entry(entry, opened) for entry in rows]


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    approved: Decimal
    pending: Decimal


@dataclass(frozen=True)
class BudgetSummary:
    budget: CaseBudget | None
    totals: list[CurrencyTotal]  # every currency the case has entries in, budget currency first

    @property
    def in_budget_currency(self) -> CurrencyTotal | None:
        if self.budget is None:
            return None
        for total in self.totals:
            if total.currency == self.budget.currency:
                return total
        return CurrencyTotal(self.budget.currency, Decimal("0"), Decimal("0"))

    @property
    def remaining(self) -> Decimal | None:
        """Budget minus approved and waiting entries in its currency (negative: beyond it)."""
        counted = self.in_budget_currency
        if self.budget is None or counted is None:
            return None
        return self.budget.amount - counted.approved - counted.pending

    @property
    def other_currencies(self) -> list[CurrencyTotal]:
        budget_currency = self.budget.currency if self.budget else None
        return [total for total in self.totals if total.currency != budget_currency]


def budget_summary(case: Case) -> BudgetSummary:
    budget = CaseBudget.objects.filter(case=case).select_related("set_by").first()
    sums: dict[str, dict[str, Decimal]] = {}
    grouped = (
        LedgerEntry.objects.filter(case=case, status__in=COUNTS_AGAINST_BUDGET)
        .values("currency", "status")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in grouped:
        sums.setdefault(row["currency"], {})[row["status"]] = row["total"]
    zero = Decimal("0")
    totals = [
        CurrencyTotal(currency, by.get(EntryStatus.APPROVED, zero), by.get(EntryStatus.PENDING, zero))
        for currency, by in sums.items()
    ]
    first = budget.currency if budget else ""
    totals.sort(key=lambda total: (total.currency != first, total.currency))
    return BudgetSummary(budget, totals)


# --- reports across all cases (plaintext columns only) --------------------------------------


@dataclass(frozen=True)
class ReportRow:
    month: date
    category: str
    category_label: str
    currency: str
    approved: Decimal
    pending: Decimal
    entries: int


def report_by_category_and_month(*, year: int | None = None) -> list[ReportRow]:
    """Approved and waiting amounts by month, category and currency, newest month first.
    Rejected entries are left out: that money was not paid."""
    entries = LedgerEntry.objects.filter(status__in=COUNTS_AGAINST_BUDGET)
    if year is not None:
        entries = entries.filter(paid_on__year=year)
    grouped = (
        entries.annotate(month=TruncMonth("paid_on"))
        .values("month", "category", "currency", "status")
        .annotate(total=Sum("amount"), entries=Count("id"))
        .order_by()
    )
    # Each cell: the Decimal amount for each status, and the number of entries under "entries".
    cells: dict[tuple[date, str, str], dict[str, Any]] = {}
    for row in grouped:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        cell = cells.setdefault(
            (month, row["category"], row["currency"]),
            {EntryStatus.APPROVED: Decimal("0"), EntryStatus.PENDING: Decimal("0"), "entries": 0},
        )
        cell[row["status"]] = row["total"]
        cell["entries"] = int(cell["entries"]) + row["entries"]
    order = {value: index for index, value in enumerate(Category.values)}
    rows = [
        ReportRow(
            month=month,
            category=category,
            category_label=str(Category(category).label),
            currency=currency,
            approved=cell[EntryStatus.APPROVED],
            pending=cell[EntryStatus.PENDING],
            entries=cell["entries"],
        )
        for (month, category, currency), cell in cells.items()
    ]
    rows.sort(key=lambda row: (-row.month.toordinal(), order.get(row.category, 99), row.currency))
    return rows


def export_rows(*, year: int | None = None) -> QuerySet[LedgerEntry]:
    """One row per entry for the CSV: case reference, category, month, currency, amount,
    status. Only these columns are read, so no ciphertext is even loaded."""
    entries = LedgerEntry.objects.all()
    if year is not None:
        entries = entries.filter(paid_on__year=year)
    return (
        entries.select_related("case")
        .only("case__public_id", "category", "paid_on", "currency", "amount", "status")
        .order_by("paid_on", "case__public_id", "entered_at")
    )


def csv_lines(entries: QuerySet[LedgerEntry]) -> Iterator[list[str]]:
    """Every cell passed through csv_safe: none can start a spreadsheet formula, whatever a
    database writer put into a column."""
    for entry in entries.iterator(chunk_size=2000):
        cells = (
            entry.case.public_id,
            entry.category,
            entry.paid_on.strftime("%Y-%m"),
            entry.currency,
            f"{entry.amount:.2f}",
            entry.status,
        )
        yield [csv_safe(cell) for cell in cells]


def waiting_for(member: StaffMember) -> QuerySet[LedgerEntry]:
    """Entries waiting for approval on cases ``member`` can read, oldest first."""
    return (
        LedgerEntry.objects.filter(status=EntryStatus.PENDING, case__in=cases_visible_to(member))
        .select_related("case", "entered_by")
        .order_by("entered_at")
    )
