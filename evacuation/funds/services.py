"""Writes for money paid out. Each runs in one transaction with its audit entry.

Rules (docs/crypto.md and the module docstring of models.py say why):
- Who records money: coordinators, caseworkers and logistics staff who hold the current case
  key (writing seals the payee text, so the writer must open the key, not just have a wrap row).
- Four eyes over a window: an entry waits for a coordinator's approval when the case's entries
  in its currency that no coordinator approved, entered within SP_FUNDS_APPROVAL_WINDOW_DAYS,
  come to more than SP_FUNDS_APPROVAL_OVER with it (every entry waits in a currency without a
  limit). Otherwise it counts as approved at once. So one large payment split into small ones,
  by one member or several, still reaches a coordinator.
- Four eyes: the coordinator who approves or rejects must not be the one who entered the entry
  or last changed it, and must give a reason. With a single coordinator, such entries wait.
- Changing an entry runs the rule again when the change adds money (a higher amount, another
  currency) or the entry needed a coordinator: such an entry goes back to waiting after any
  change unless it now fits (the old decision is cleared). A correction that adds no money to an
  entry approved at once keeps it approved. A rejected entry cannot be changed.
- Writes to a case's ledger hold the case row (casework.sealed.lock_case): two entries saved
  at once cannot both pass the budget check, and the key version stays still meanwhile.
- Budget: one per case, in one currency, set by a coordinator. Entries in the budget's currency
  that are approved or waiting count against it. Going beyond it is allowed only when the
  person saving confirms it (the entry is marked ``over_budget``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework.models import Case, CaseKey
from casework.sealed import EditConflict, Refused, current_key_for, lock_case, require, seal_text
from evacuation.funds import crypto
from evacuation.funds.models import CaseBudget, EntryStatus, LedgerEntry

COUNTS_AGAINST_BUDGET = (EntryStatus.PENDING, EntryStatus.APPROVED)


class OverBudget(Exception):
    """Saving would go beyond the case's budget and nobody confirmed it."""

    def __init__(self, budget: CaseBudget, counted: Decimal, amount: Decimal) -> None:
        super().__init__(budget.case_id)
        self.budget, self.counted, self.amount = budget, counted, amount

    @property
    def remaining(self) -> Decimal:
        return self.budget.amount - self.counted


@dataclass(frozen=True)
class EntryInput:
    category: str
    amount: Decimal
    currency: str
    paid_on: date
    payee: str


def approval_limit(currency: str) -> Decimal | None:
    """The amount above which an entry in ``currency`` waits; None: every entry waits."""
    limit: Decimal | None = settings.SP_FUNDS_APPROVAL_OVER.get(currency)
    return limit


def unapproved_in_window(
    case: Case, currency: str, *, since: datetime, leaving_out: uuid.UUID | None = None
) -> Decimal:
    """What the case paid out in ``currency`` since ``since`` that no coordinator approved.

    Counted by when entries were entered (the server's clock), not by the date paid, which
    staff type and could date back to spread the parts of one payment across windows. Entries
    a coordinator decided are left out: approved ones had their four eyes, rejected ones were
    not paid."""
    entries = LedgerEntry.objects.filter(
        case=case, currency=currency, status=EntryStatus.APPROVED, needs_approval=False, entered_at__gte=since
    )
    if leaving_out is not None:
        entries = entries.exclude(pk=leaving_out)
    total: Decimal | None = entries.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def needs_approval(
    case: Case, amount: Decimal, currency: str, *, entered_at: datetime, leaving_out: uuid.UUID | None = None
) -> bool:
    """Whether an entry of ``amount`` entered at ``entered_at`` (now, for a new one) waits for a
    coordinator. Every entry from one window before it until now counts: for a new entry that
    is the window; for an old entry raised today it is longer, so a raise cannot slip past
    entries made between then and now. Call it with the case row locked."""
    limit = approval_limit(currency)
    if limit is None:
        return True
    since = min(entered_at, timezone.now()) - timedelta(days=settings.SP_FUNDS_APPROVAL_WINDOW_DAYS)
    return unapproved_in_window(case, currency, since=since, leaving_out=leaving_out) + amount > limit


def _require_recorder(member: StaffMember) -> None:
    require(
        permissions.can_record_payment(member),
        _("Only coordinators, caseworkers and logistics staff record money paid out."),
    )


def _check_currency(currency: str) -> None:
    if currency not in settings.SP_FUNDS_CURRENCIES:
        raise Refused(_("Choose one of the currencies in the list."))


def budget_counted(case: Case, currency: str, *, leaving_out: uuid.UUID | None = None) -> Decimal:
    """What counts against a budget in ``currency``: approved and waiting entries."""
    entries = LedgerEntry.objects.filter(case=case, currency=currency, status__in=COUNTS_AGAINST_BUDGET)
    if leaving_out is not None:
        entries = entries.exclude(pk=leaving_out)
    total: Decimal | None = entries.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _check_budget(case: Case, data: EntryInput, *, confirmed: bool, leaving_out: uuid.UUID | None = None) -> bool:
    """Whether the entry goes beyond the budget; raises OverBudget when it does unconfirmed."""
    budget = CaseBudget.objects.filter(case=case).first()
    if budget is None or budget.currency != data.currency:
        return False
    counted = budget_counted(case, data.currency, leaving_out=leaving_out)
    if counted + data.amount <= budget.amount:
        return False
    if not confirmed:
        raise OverBudget(budget, counted, data.amount)
    return True


def _seal_payee(entry: LedgerEntry, case: Case, case_key: CaseKey, payee: str) -> None:
    entry.case_key = case_key
    entry.payee_ct = seal_text(case_key, payee, ctx=crypto.payee_ctx(entry.id.bytes, case))


def _apply_rule(entry: LedgerEntry, *, waits: bool) -> None:
    """Waiting or approved at once; any earlier decision is cleared."""
    entry.needs_approval = waits
    entry.status = EntryStatus.PENDING if waits else EntryStatus.APPROVED
    entry.decided_by, entry.decided_at, entry.decision_key, entry.reason_ct = None, None, None, b""


def entry_row(*, case: Case, actor: StaffMember, data: EntryInput, case_key: CaseKey) -> LedgerEntry:
    """A sealed entry, saved without the budget check or an audit entry (entry_create does both).
    The approval rule needs the case row locked (entry_create holds it)."""
    entry = LedgerEntry(
        id=uuid.uuid4(),
        case=case,
        category=data.category,
        amount=data.amount,
        currency=data.currency,
        paid_on=data.paid_on,
        entered_by=actor,
        updated_by=actor,
    )
    _apply_rule(entry, waits=needs_approval(case, data.amount, data.currency, entered_at=entry.entered_at))
    _seal_payee(entry, case, case_key, data.payee)
    entry.save(force_insert=True)
    return entry


def entry_create(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, data: EntryInput, confirm_over_budget: bool = False
) -> LedgerEntry:
    _require_recorder(actor)
    _check_currency(data.currency)
    with transaction.atomic():
        locked = lock_case(case)
        case_key = current_key_for(locked, actor, actor_private_key)
        over = _check_budget(locked, data, confirmed=confirm_over_budget)
        entry = entry_row(case=locked, actor=actor, data=data, case_key=case_key)
        if over:
            entry.over_budget = True
            entry.save(update_fields=["over_budget"])
        audit_record(
            actor=actor,
            action=Action.FUNDS_ENTRY_CREATE,
            case=locked,
            details={"entry": str(entry.pk), "status": entry.status, "over_budget": over},
        )
    return entry


def entry_edit(
    *,
    entry: LedgerEntry,
    actor: StaffMember,
    actor_private_key: bytes,
    data: EntryInput,
    expected_revision: int,
    confirm_over_budget: bool = False,
) -> LedgerEntry:
    _require_recorder(actor)
    _check_currency(data.currency)
    with transaction.atomic():
        locked = lock_case(entry.case)
        current = LedgerEntry.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=entry.pk)
        case_key = current_key_for(locked, actor, actor_private_key)
        if current.revision != expected_revision:
            raise EditConflict(current.revision, current.updated_by.username, current.updated_at)
        if current.status == EntryStatus.REJECTED:
            raise Refused(_("A rejected entry cannot be changed: record a new one instead."))
        over = _check_budget(locked, data, confirmed=confirm_over_budget, leaving_out=current.pk)
        waits = _waits_after_edit(locked, current, data)
        current.category, current.amount, current.currency, current.paid_on = (
            data.category,
            data.amount,
            data.currency,
            data.paid_on,
        )
        _apply_rule(current, waits=waits)
        current.over_budget = over
        _seal_payee(current, locked, case_key, data.payee)
        current.revision += 1
        current.updated_by, current.updated_at = actor, timezone.now()
        current.save()
        audit_record(
            actor=actor,
            action=Action.FUNDS_ENTRY_EDIT,
            case=locked,
            details={
                "entry": str(current.pk),
                "revision": current.revision,
                "status": current.status,
                "over_budget": over,
            },
        )
    return current


def _waits_after_edit(case: Case, current: LedgerEntry, data: EntryInput) -> bool:
    """A coordinator approved what was there before, not this: an entry that needed one is
    checked again after any change, and so is any change that adds money (a higher amount, or
    the amount moved to another currency). A correction that adds no money to an entry
    approved at once cannot take the window over the limit, so it stays approved."""
    adds_money = data.currency != current.currency or data.amount > current.amount
    if not (current.needs_approval or adds_money):
        return False
    return needs_approval(case, data.amount, data.currency, entered_at=current.entered_at, leaving_out=current.pk)


def entry_decide(
    *, entry: LedgerEntry, actor: StaffMember, actor_private_key: bytes, approve: bool, reason: str
) -> LedgerEntry:
    """A coordinator approves or rejects a waiting entry, with a reason sealed to the case key."""
    require(permissions.can_approve_payment(actor), _("Only a coordinator can approve or reject a payment."))
    if not reason.strip():
        raise Refused(_("Write why you approve or reject it."))
    with transaction.atomic():
        locked = lock_case(entry.case)
        current = LedgerEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
        case_key = current_key_for(locked, actor, actor_private_key)
        if current.status != EntryStatus.PENDING:
            raise Refused(_("This entry is not waiting for approval any more."))
        if actor.pk in (current.entered_by_id, current.updated_by_id):
            raise Refused(_("You entered or last changed this payment: another coordinator must approve or reject it."))
        current.status = EntryStatus.APPROVED if approve else EntryStatus.REJECTED
        current.decided_by, current.decided_at, current.decision_key = actor, timezone.now(), case_key
        current.reason_ct = seal_text(
            case_key, reason, ctx=crypto.reason_ctx(current.id.bytes, locked, actor.pk, current.status)
        )
        current.save(update_fields=["status", "decided_by", "decided_at", "decision_key", "reason_ct"])
        audit_record(
            actor=actor,
            action=Action.FUNDS_ENTRY_APPROVE if approve else Action.FUNDS_ENTRY_REJECT,
            case=locked,
            details={"entry": str(current.pk)},
        )
    return current


def budget_set(
    *,
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    amount: Decimal,
    currency: str,
    expected_revision: int | None,
) -> CaseBudget:
    """Set or change a case's budget (coordinators holding the case key). ``expected_revision`` is
    the revision the form started from, None when there was no budget yet."""
    require(permissions.can_approve_payment(actor), _("Only a coordinator can set a case's budget."))
    _check_currency(currency)
    with transaction.atomic():
        locked = lock_case(case)
        current_key_for(locked, actor, actor_private_key)
        current = CaseBudget.objects.select_for_update().select_related("set_by").filter(case=locked).first()
        current_revision = current.revision if current else None
        if current_revision != expected_revision:
            if current is None:  # the form claims a budget that is not there
                raise Refused(_("The form is incomplete: open the case page again."))
            raise EditConflict(current.revision, current.set_by.username, current.set_at)
        if current is None:
            current = CaseBudget(case=locked, amount=amount, currency=currency, set_by=actor)
            current.save(force_insert=True)
        else:
            current.amount, current.currency, current.set_by, current.set_at = amount, currency, actor, timezone.now()
            current.revision += 1
            current.save()
        audit_record(
            actor=actor,
            action=Action.FUNDS_BUDGET_SET,
            case=locked,
            details={"revision": current.revision, "currency": currency},
        )
    return current


def report_viewed(*, actor: StaffMember) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=Action.FUNDS_REPORT_VIEW, details={})


def export_recorded(*, actor: StaffMember, rows: int) -> None:
    """Committed before the file is sent."""
    with transaction.atomic():
        audit_record(actor=actor, action=Action.FUNDS_EXPORT, details={"rows": rows})
