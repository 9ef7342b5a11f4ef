"""Shared setup for the funds tests: a second coordinator holding the case key (four eyes),
and entries written through the real services."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

from django.utils import timezone

from accounts.keyring import staff_private_key_unlock
from accounts.models import Role
from casework import keys
from casework.models import Case, CaseKeyWrap
from evacuation.funds import services
from evacuation.funds.models import LedgerEntry
from tests.personas import PASSWORD, Staff, make_staff


def private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def second_coordinator(coordinator: Staff, case: Case) -> Staff:
    """Another coordinator, given the case key by the first one."""
    second = make_staff("second-coordinator", role=Role.COORDINATOR, invited_by=coordinator)
    case_key = keys.current_case_key(case)
    if not CaseKeyWrap.objects.filter(case_key=case_key, member=second.member).exists():
        opened = keys.current_key_open(case, coordinator.member, private_key(coordinator))
        keys.wrap_case_key_for(second.member, case_key, opened)
    return second


def entry(
    case: Case,
    staff: Staff,
    amount: str,
    *,
    currency: str = "RUB",
    category: str = "travel",
    payee: str = "bus tickets",
    paid_on: date | None = None,
    confirm: bool = False,
) -> LedgerEntry:
    data = services.EntryInput(
        category=category,
        amount=Decimal(amount),
        currency=currency,
        paid_on=paid_on or timezone.localdate(),
        payee=payee,
    )
    return services.entry_create(
        case=case, actor=staff.member, actor_private_key=private_key(staff), data=data, confirm_over_budget=confirm
    )


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def words(response: object) -> str:
    """The page's text without its tags, as a reader sees it."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", text(response)))
