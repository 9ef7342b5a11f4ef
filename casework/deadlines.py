"""First-response deadlines: when a new case must have its first staff reply (by urgency,
settings.SP_RESPONSE_MINUTES_*), and which cases are past it without one. The inbox sorts by
it; triage.deadlines escalates it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from casework.models import Case, Message, Urgency


def response_minutes(urgency: str) -> int:
    minutes: dict[str, int] = {
        Urgency.DANGER_NOW: settings.SP_RESPONSE_MINUTES_DANGER_NOW,
        Urgency.IN_HIDING: settings.SP_RESPONSE_MINUTES_IN_HIDING,
        Urgency.SAFE_FOR_NOW: settings.SP_RESPONSE_MINUTES_SAFE_FOR_NOW,
    }
    return minutes.get(urgency, settings.SP_RESPONSE_MINUTES_DANGER_NOW)  # unknown urgency: the strictest


def response_deadline(case: Case) -> datetime:
    return case.created_at + timedelta(minutes=response_minutes(case.urgency))


def _staff_replies() -> Any:
    return Message.objects.filter(case=OuterRef("pk"), sender=Message.Sender.STAFF, is_decoy=False)


def is_answered(case: Case) -> bool:
    return Message.objects.filter(case=case, sender=Message.Sender.STAFF, is_decoy=False).exists()


def overdue_q(now: datetime) -> Q:
    """Cases past their first-response deadline without a staff reply, as one filter the
    inbox can annotate and sort on (no decryption, no per-row query)."""
    past = Q()
    for urgency in Urgency.values:
        past |= Q(urgency=urgency, created_at__lt=now - timedelta(minutes=response_minutes(urgency)))
    # Q & Exists is a Q (Q._combine adds the expression as a child); the stubs say Combinable.
    return cast(Q, past & ~Q(status=Case.Status.CLOSED) & ~Exists(_staff_replies()))


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return Case.objects.filter(overdue_q(now or timezone.now()), pk=case.pk).exists()
