"""Money paid out for a case: a ledger of entries and one budget per case.

An entry's payee description and a coordinator's reason for approving or rejecting it are case
content: each is sealed to one version of the case key (``case_key``, ``decision_key``) with a
context naming the record and the field (see evacuation.funds.crypto). Category, amount,
currency, the date paid and the status are plaintext columns: the report by category and month
across all cases is read by coordinators who need not hold every case key (docs/crypto.md).

Entries and budgets carry a ``revision`` that each save increases: a save from an older
revision is refused (edit conflict).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    TRAVEL = "travel", _("Travel inside the country")
    VISAS = "visas", _("Visas and departure")
    HOUSING = "housing", _("Housing")
    FOOD = "food", _("Food")
    MEDICAL = "medical", _("Medical care")
    SOCIAL_WORK = "social_work", _("Social work")
    OTHER = "other", _("Other")


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


# Entries are at most this much (per entry, any currency): a typo of three extra zeros is refused.
AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2


class LedgerEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="funds_entries")
    category = models.CharField(max_length=16, choices=Category.choices)
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    currency = models.CharField(max_length=3)
    paid_on = models.DateField()
    status = models.CharField(max_length=10, choices=EntryStatus.choices)
    # Whether the amount was above the approval limit when last saved (so a coordinator decided).
    needs_approval = models.BooleanField(default=False)
    # Whoever saved it confirmed it goes beyond the case's budget.
    over_budget = models.BooleanField(default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    payee_ct = models.BinaryField()
    # The coordinator's decision: who, when, and the reason sealed to ``decision_key``.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_key = models.ForeignKey(
        "casework.CaseKey", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason_ct = models.BinaryField(default=b"")

    class Meta:
        indexes = [
            models.Index(fields=["case", "-paid_on"]),
            models.Index(fields=["status", "paid_on"]),
            models.Index(fields=["paid_on"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="funds_entry_amount_positive"),
        ]


class CaseBudget(models.Model):
    """One budget per case, in one currency. Entries in other currencies are listed apart and
    never converted: an exchange rate is a decision the organisation makes, not the software."""

    case = models.OneToOneField("casework.Case", on_delete=models.CASCADE, primary_key=True, related_name="budget")
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    currency = models.CharField(max_length=3)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="funds_budget_amount_positive"),
        ]
