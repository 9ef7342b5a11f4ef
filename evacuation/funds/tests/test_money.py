"""Amounts typed the Russian or the English way, shown in each language, and CSV cells."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from config.env import env_amounts
from evacuation.funds.money import AmountUnclear, csv_safe, parse_amount, show_amount


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500", "1500"),
        ("1500.5", "1500.5"),
        ("1500,50", "1500.50"),
        ("1 500,50", "1500.50"),
        ("1\u00a0500 000", "1500000"),
        ("0.01", "0.01"),
        (" 42 ", "42"),
        ("99999999999.99", "99999999999.99"),
    ],
)
def test_an_amount_is_read_the_way_it_was_meant(typed: str, amount: str) -> None:
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    "typed",
    ["1,500", "1.500", "1,500.50", "1.500,50", "12.345", "-5", "+5", "1e5", "NaN", "Infinity", "", "5 руб", "٣"],
)
def test_an_amount_that_could_be_misread_is_refused(typed: str) -> None:
    with pytest.raises(AmountUnclear):
        parse_amount(typed)


def test_amounts_are_shown_in_each_language_with_two_decimals() -> None:
    with translation.override("ru"):
        assert show_amount(Decimal("1234567.5")) == "1\xa0234\xa0567,50"
        assert show_amount(Decimal("0.005")) == "0,01"
    with translation.override("en"):
        assert show_amount(Decimal("1234567.5")) == "1,234,567.50"
        assert show_amount(Decimal("-10")) == "-10.00"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+7 999", "'+7 999"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("CASE-1234", "CASE-1234"),
        ("1500.00", "1500.00"),
    ],
)
def test_a_csv_cell_never_starts_a_formula(cell: str, safe: str) -> None:
    assert csv_safe(cell) == safe


def test_the_approval_limits_setting_is_read_without_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SP_TEST_LIMITS", "RUB:50000, EUR:500.50,")
    assert env_amounts("SP_TEST_LIMITS", "") == {"RUB": Decimal("50000"), "EUR": Decimal("500.50")}
    for bad in ("rub:5", "RUB:", "RUB:-1", "RUB:0", "RUB:five", "RUB:5,RUB:6", "RUBL:5", "RUB:NaN"):
        monkeypatch.setenv("SP_TEST_LIMITS", bad)
        with pytest.raises(ImproperlyConfigured):
            env_amounts("SP_TEST_LIMITS", "")
