from __future__ import annotations

from decimal import Decimal

from django import template

from evacuation.funds.money import show_amount

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    """``1 500,50`` in Russian, ``1,500.50`` in English; an empty string for no amount."""
    return "" if amount is None else show_amount(amount)
