"""Amounts as staff type them, as pages show them, and as a CSV cell carries them.

Staff type amounts in two languages: Russian writes ``1 500,50``, English ``1,500.50``. To never
read "1,500" as one and a half or as fifteen hundred by mistake, a comma or a dot is a decimal
separator only when one or two digits follow it; anything else (``1,500``, ``1.500.000``, both
separators) is refused with a message asking for the plain form. Spaces between digit groups
are allowed.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format

# Group separators people type or paste: space, no-break space, narrow no-break space, apostrophe.
_GROUP_SEPARATORS = re.compile(r"[ \u00a0\u202f']")
_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]{1,2})?")


class AmountUnclear(ValueError):
    """The text is not an amount written in a way that cannot be misread."""


def parse_amount(text: str) -> Decimal:
    """The amount in ``text``, or AmountUnclear. Never negative, never more than 2 decimals."""
    compact = _GROUP_SEPARATORS.sub("", text.strip())
    if not _PLAIN_AMOUNT.fullmatch(compact):
        raise AmountUnclear(text)
    try:
        return Decimal(compact.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise AmountUnclear(text) from None


def show_amount(amount: Decimal) -> str:
    """An amount with two decimals in the active language's format (``1 500,50`` / ``1,500.50``)."""
    return number_format(
        amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), 2, use_l10n=True, force_grouping=True
    )


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: a cell that would start a
    formula gets a leading apostrophe."""
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text
