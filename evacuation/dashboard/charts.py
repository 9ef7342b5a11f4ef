"""Chart geometry for the dashboard, worked out here and drawn by the template.

Every number that goes into an SVG attribute is formatted here with a dot for decimals, never
by the template (Russian formatting would write "12,5", which SVG does not understand), and
every label reaches the page through the template's autoescaping, never as markup built here.
Numbers shown to people are formatted for the active language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format

from evacuation.dashboard.selectors import Count_, Occupancy
from evacuation.funds.models import Category
from evacuation.funds.selectors import ReportRow

# One colour per category (the Okabe-Ito set, told apart by most colour-blind readers too).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#6B7280")
CATEGORY_COLOURS = {value: PALETTE[index % len(PALETTE)] for index, value in enumerate(Category.values)}


def _share(part: float | Decimal, whole: float | Decimal) -> str:
    """``part`` as a percentage of ``whole`` for an SVG attribute (0-100, dot decimals)."""
    if not whole or part <= 0:
        return "0"
    return f"{min(100.0, float(part) * 100.0 / float(whole)):.2f}"


def count(value: int) -> str:
    return number_format(value, force_grouping=True)


def amount(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


@dataclass(frozen=True)
class BarRow:
    key: str
    label: str
    count: int
    shown: str
    width: str
    x: str  # where the bar starts: centred, so the stages read as a funnel
    level: int


def bar_rows(rows: Sequence[Count_]) -> list[BarRow]:
    """Bars scaled to the largest count, so small stages stay visible next to big ones."""
    largest = max((row.count for row in rows), default=0)
    bars = []
    for row in rows:
        width = _share(row.count, largest)
        bars.append(BarRow(row.key, row.label, row.count, count(row.count), width, _centred(width), row.level))
    return bars


def _centred(width: str) -> str:
    return f"{(100.0 - float(width)) / 2:.2f}"


@dataclass(frozen=True)
class HouseBar:
    code_name: str
    capacity: int
    taken: int
    free: int
    shown_capacity: str
    shown_taken: str
    shown_free: str
    width: str
    full: bool


def occupancy_rows(houses: Iterable[Occupancy]) -> list[HouseBar]:
    rows = []
    for house in houses:
        free = max(0, house.capacity - house.taken)
        rows.append(
            HouseBar(
                house.code_name,
                house.capacity,
                house.taken,
                free,
                count(house.capacity),
                count(house.taken),
                count(free),
                _share(house.taken, house.capacity),
                house.taken >= house.capacity,
            )
        )
    return rows


@dataclass(frozen=True)
class Segment:
    label: str
    colour: str
    x: str
    width: str
    shown: str


@dataclass(frozen=True)
class MonthBar:
    label: str
    shown_total: str
    segments: list[Segment]


@dataclass(frozen=True)
class MoneyRow:
    month: str
    category: str
    colour: str
    approved: str
    pending: str
    entries: str


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str


@dataclass(frozen=True)
class CurrencyChart:
    currency: str
    months: list[MonthBar]
    legend: list[LegendItem]
    table: list[MoneyRow]
    shown_total: str


def money_charts(rows: Sequence[ReportRow]) -> list[CurrencyChart]:
    """One stacked bar chart per currency (no conversion between them): a bar per month, a
    segment per category of what was paid (approved); the table also shows what waits."""
    by_currency: dict[str, list[ReportRow]] = defaultdict(list)
    for row in rows:
        by_currency[row.currency].append(row)
    return [_currency_chart(currency, by_currency[currency]) for currency in sorted(by_currency)]


def _currency_chart(currency: str, rows: list[ReportRow]) -> CurrencyChart:
    months: dict[date, list[ReportRow]] = defaultdict(list)
    for row in rows:
        months[row.month].append(row)
    totals = {month: sum((row.approved for row in cells), Decimal("0")) for month, cells in months.items()}
    largest = max(totals.values(), default=Decimal("0"))
    order = {value: index for index, value in enumerate(Category.values)}
    bars = []
    for month in sorted(months, reverse=True):
        x = Decimal("0")
        segments = []
        for row in sorted(months[month], key=lambda r: order.get(r.category, 99)):
            if row.approved <= 0:
                continue
            segments.append(
                Segment(
                    row.category_label,
                    CATEGORY_COLOURS.get(row.category, PALETTE[-1]),
                    _share(x, largest),
                    _share(row.approved, largest),
                    amount(row.approved),
                )
            )
            x += row.approved
        bars.append(MonthBar(date_format(month, "YEAR_MONTH_FORMAT"), amount(totals[month]), segments))
    used = {row.category for row in rows}
    legend = [LegendItem(str(label), CATEGORY_COLOURS[value]) for value, label in Category.choices if value in used]
    table = [
        MoneyRow(
            date_format(row.month, "YEAR_MONTH_FORMAT"),
            row.category_label,
            CATEGORY_COLOURS.get(row.category, PALETTE[-1]),
            amount(row.approved),
            amount(row.pending),
            count(row.entries),
        )
        for row in rows
    ]
    return CurrencyChart(currency, bars, legend, table, amount(sum(totals.values(), Decimal("0"))))
