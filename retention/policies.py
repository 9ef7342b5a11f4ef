"""How long closed cases are kept, legal holds, and the worker's sweep that shreds what is due.

Whatever decides that data is destroyed is read so that a database writer cannot make it
happen sooner (or later) and cannot lift a hold:

- a policy counts only when its row is certified and agrees with the last change of that
  reason's policy in the hash-chained audit log (a row put back with an earlier certificate
  does not count); a reason without such a policy is kept;
- the time and reason a case was closed are read from the audit log (the case_transition entry),
  not from the state-history rows; the case row itself must be certified and closed;
- a hold counts when its certified row says so, when the last hold entry of the audit log says
  so, or when the row's certificate fails (a changed hold row keeps the data, and is logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from audit.services import audit_record
from casework.keys import UntrustedRecord
from casework.lifecycle import ClosingReason
from casework.models import Case
from casework.sealed import Refused, lock_case
from core.certificates import certified, certify
from jobs.models import Job
from jobs.services import periodic_job
from retention import hooks, shred
from retention.models import DeletionRequest, HoldReason, LegalHold, RetentionPolicy, ShredBasis, Tombstone

logger = logging.getLogger(__name__)
SWEEP_JOB = "retention.sweep"
# The defaults a new instance starts with (migration 0002), in days; see docs/crypto.md.
DEFAULT_KEEP_DAYS: dict[str, int] = {
    ClosingReason.SAFE: 180,
    ClosingReason.DECLINED: 30,
    ClosingReason.DUPLICATE: 30,
    ClosingReason.LOST_CONTACT: 730,
    ClosingReason.SUSPECTED_INFILTRATOR: 730,
}
LONGEST_KEEP_DAYS = 3650


class RetentionRefused(Refused):
    """A retention change that is not allowed; the message says why (shown to staff)."""


def _last_policy_entry(reason: str) -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(action=Action.RETENTION_POLICY_SET, details__reason=reason)
        .order_by("-sequence")
        .first()
    )


def policy_in_force(reason: str) -> int | None:
    """The days a case closed for ``reason`` is kept, or None (kept until someone decides)."""
    row = RetentionPolicy.objects.filter(reason=reason).first()
    if row is None:
        return None
    if not certified(row):
        logger.warning("retention policy row %s is not certified; that reason's cases are kept", row.pk)
        return None
    entry = _last_policy_entry(reason)
    if entry is not None and entry.details.get("keep_days") != row.keep_days:
        logger.warning("retention policy row %s disagrees with the audit log; that reason's cases are kept", row.pk)
        return None
    return row.keep_days


def policies_in_force() -> dict[str, int | None]:
    return {reason: policy_in_force(reason) for reason in ClosingReason.values}


def policies_untrusted() -> list[str]:
    """Closing reasons whose policy row is there but does not count (changed outside the
    console): their cases are kept, and the coordinators' page says so."""
    stored = set(RetentionPolicy.objects.values_list("reason", flat=True))
    return [reason for reason in ClosingReason.values if reason in stored and policy_in_force(reason) is None]


def shortest_retention_period() -> timedelta | None:
    """The shortest time any closed case is kept under a policy in force, or None when no
    policy is: backups older than this hold cases that are shredded everywhere else."""
    days = [value for value in policies_in_force().values() if value is not None]
    return timedelta(days=min(days)) if days else None


def policy_set(*, reason: str, keep_days: int | None, actor: StaffMember) -> None:
    """Set (or with None remove) the policy of ``reason``; certified and audited."""
    if reason not in ClosingReason.values:
        raise RetentionRefused("unknown closing reason")
    if keep_days is not None and not 1 <= keep_days <= LONGEST_KEEP_DAYS:
        raise RetentionRefused("keep_days out of range")
    with transaction.atomic():
        RetentionPolicy.objects.select_for_update().filter(reason=reason).delete()
        if keep_days is not None:
            row = RetentionPolicy.objects.create(reason=reason, keep_days=keep_days, changed_by=actor)
            certify(row)
            row.save(update_fields=["certificate"])
        audit_record(
            actor=actor, action=Action.RETENTION_POLICY_SET, details={"reason": reason, "keep_days": keep_days}
        )


@dataclass(frozen=True)
class HoldState:
    held: bool
    reason: str = ""
    # The row's certificate failed, or row and audit log disagree: held whatever they say.
    untrusted: bool = False


def hold_state(case: Case) -> HoldState:
    row = LegalHold.objects.filter(case=case).first()
    entry = (
        AuditEntry.objects.filter(
            action__in=[Action.CASE_HOLD_SET, Action.CASE_HOLD_LIFT], case_public_id=case.public_id
        )
        .order_by("-sequence")
        .first()
    )
    on_record = entry is not None and entry.action == Action.CASE_HOLD_SET
    if row is None:
        return HoldState(held=on_record, untrusted=on_record)
    if not certified(row) or row.on_hold != on_record:
        logger.warning("hold row of case %s is not certified or disagrees with the audit log; kept", case.pk)
        return HoldState(held=True, reason=row.reason, untrusted=True)
    return HoldState(held=row.on_hold, reason=row.reason)


def hold_set(*, case: Case, actor: StaffMember, on_hold: bool, reason: str = "") -> None:
    """Put ``case`` on hold (with a reason code) or lift its hold; certified and audited."""
    if on_hold and reason not in HoldReason.values:
        raise RetentionRefused("choose a reason")
    with transaction.atomic():
        locked = lock_case(case)
        if Tombstone.objects.filter(case=locked).exists():
            raise RetentionRefused("shredded")
        row = LegalHold.objects.select_for_update().filter(case=locked).first() or LegalHold(case=locked)
        row.on_hold, row.changed_at, row.changed_by = on_hold, timezone.now(), actor
        if on_hold:
            row.reason = reason
        certify(row)
        row.save()
        action = Action.CASE_HOLD_SET if on_hold else Action.CASE_HOLD_LIFT
        audit_record(actor=actor, action=action, case=locked, details={"reason": row.reason})
        hooks.hold_changed.run(hooks.HoldChanged(locked, on_hold))


@dataclass(frozen=True)
class Due:
    """When ``case`` is to be shredded (None: kept), and under which policy."""

    at: datetime | None
    keep_days: int | None = None
    closing: shred.Closing | None = None


def shred_due(case: Case, in_force: dict[str, int | None] | None = None) -> Due:
    """``in_force``: policies_in_force(), read once by a sweep over many cases."""
    if case.status != Case.Status.CLOSED or not certified(case):
        return Due(at=None)
    closing = shred.closing_on_record(case)
    if closing is None:
        return Due(at=None)
    keep_days = in_force.get(closing.reason) if in_force is not None else policy_in_force(closing.reason)
    if keep_days is None:
        return Due(at=None, closing=closing)
    return Due(at=closing.at + timedelta(days=keep_days), keep_days=keep_days, closing=closing)


def due_cases_shred(now: datetime | None = None) -> int:
    """Shred every closed case whose time has come and that is not on hold."""
    now = now or timezone.now()
    shredded = 0
    in_force = policies_in_force()
    if not any(days is not None for days in in_force.values()):
        return 0
    # Not "without a tombstone": a tombstone a database writer planted must not keep a case.
    candidates = Case.objects.filter(status=Case.Status.CLOSED).exclude(public_id__in=shred.shredded_on_record())
    candidates = candidates.order_by("pk")
    for case in candidates.defer("details_ct").iterator():
        due = shred_due(case, in_force)
        if due.at is None or due.at > now or hold_state(case).held:
            continue
        try:
            shred.case_shred(case, basis=ShredBasis.POLICY, policy_days=due.keep_days)
        except UntrustedRecord:
            # Changed outside the console since shred_due checked it: kept, and the next
            # cases are still shredded.
            logger.warning("case %s: records changed outside the console; not shredded", case.pk)
            continue
        shredded += 1
    return shredded


def vacuum_after_shredding() -> None:
    """PostgreSQL keeps deleted rows as dead tuples in the table files until VACUUM."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    tables = sorted({model._meta.db_table for model in shred.case_owned_models()} | {Case._meta.db_table})
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM "{table}"')


def retention_sweep() -> tuple[int, int]:
    """Finish shreddings a killed worker left, then shred what is due. (finished, shredded)"""
    finished = shred.unfinished_shreddings_finish()
    shredded = due_cases_shred()
    if finished or shredded:
        logger.info("retention: %d shreddings finished, %d cases shredded", finished, shredded)
    # Also after a shredding a coordinator did, or a person's deletion, since the last sweeps.
    since = timezone.now() - timedelta(seconds=2 * int(settings.SP_RETENTION_SWEEP_SECONDS))
    recent = (
        Tombstone.objects.filter(shredded_at__gte=since).exists()
        or DeletionRequest.objects.filter(asked_at__gte=since, under_duress=False).exists()
    )
    if finished or shredded or recent:
        vacuum_after_shredding()
    return finished, shredded


@periodic_job(SWEEP_JOB, every_seconds=lambda: int(settings.SP_RETENTION_SWEEP_SECONDS))
def retention_sweep_job(job: Job) -> None:
    retention_sweep()


def case_shred_now(*, case: Case, actor: StaffMember) -> Tombstone:
    """A coordinator shreds a closed case that is not on hold, now: on the person's request
    when they asked (without duress), otherwise on the coordinator's own decision."""
    if not permissions.can_shred_case(actor):
        raise RetentionRefused("not allowed")
    if case.status != Case.Status.CLOSED:
        raise RetentionRefused("not closed")
    if hold_state(case).held:
        raise RetentionRefused("on hold")
    asked = DeletionRequest.objects.filter(case=case, under_duress=False).exists()
    basis = ShredBasis.PERSON if asked else ShredBasis.COORDINATOR
    return shred.case_shred(case, basis=basis, actor=actor)
