"""Writes: a case's check-in schedule, a person's check-in, acknowledging a missed check-in,
and setting the person's fate status. Each runs in one transaction with its audit entry."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.models import Case
from casework.sealed import Refused, current_key_for, lock_case, require, seal_text
from casework.services import PersonSession, case_mark_duress
from evacuation.checkins import crypto, ladder
from evacuation.checkins.models import Alert, CheckIn, CheckInSchedule, Fate, FateStatus
from evacuation.checkins.partner import PARTNER_LANGUAGES
from notifications.models import Event
from notifications.services import case_event_notify_on_commit


def _check_team_role(actor: StaffMember) -> None:
    require(permissions.can_work_case(actor), _("Only a caseworker or coordinator of the case can change this."))


# --- the schedule -----------------------------------------------------------------------------


def schedule_set(
    *,
    case: Case,
    actor: StaffMember,
    actor_private_key: bytes,
    interval_hours: int,
    grace_minutes: int,
    active: bool,
    partner_address: str,
    partner_reference: str = "",
    partner_language: str = "",
) -> CheckInSchedule:
    """Create or change the case's schedule. A new or changed interval, and a resumed
    schedule, count from now; pausing ends any escalation. The partner is told only
    ``partner_reference`` (agreed with them), in ``partner_language`` ("" : English)."""
    _check_team_role(actor)
    if partner_language not in {"", *dict(PARTNER_LANGUAGES)}:
        raise Refused(_("Choose one of the listed languages."))
    now = timezone.now()
    with transaction.atomic():
        locked = lock_case(case)
        keys.current_key_open(locked, actor, actor_private_key)  # NoAccess: not on the case team
        schedule = CheckInSchedule.objects.select_for_update().filter(case=locked).first()
        created = schedule is None
        if schedule is None:
            schedule = CheckInSchedule(case=locked, next_due_at=now)
        restart = created or schedule.interval_hours != interval_hours or (active and not schedule.active)
        schedule.interval_hours, schedule.grace_minutes, schedule.active = interval_hours, grace_minutes, active
        schedule.updated_by, schedule.updated_at = actor, now
        if restart or not active:
            ladder.schedule_wait_from(schedule, now)
        elif not schedule.escalating:
            schedule.sweep_at = ladder.waiting_sweep_at(schedule)  # the grace period may have changed
        schedule.save()
        schedule.partner_address_ct = crypto.partner_address_seal(schedule.pk, locked, partner_address)
        schedule.partner_reference_ct = crypto.partner_reference_seal(schedule.pk, locked, partner_reference)
        schedule.partner_language = partner_language
        schedule.save(update_fields=["partner_address_ct", "partner_reference_ct", "partner_language"])
        details = {"interval_hours": interval_hours, "grace_minutes": grace_minutes, "active": active}
        audit_record(
            actor=actor,
            action=Action.CHECKIN_SCHEDULE_SET,
            case=locked,
            details={**details, "partner": bool(partner_address)},
        )
        transaction.on_commit(ladder.sweep_ensure_scheduled)
    return schedule


# --- the person's check-in --------------------------------------------------------------------


def checkin_record(*, session: PersonSession) -> CheckIn:
    """The person pressed "I am safe". After a danger-word login it raises the duress alarm
    instead (and the person sees the same confirmation). A check-in while the case is under
    duress is kept for staff but trusted for nothing: it neither stops an escalation nor
    moves the next due time."""
    now = timezone.now()
    with transaction.atomic():
        case = lock_case(session.case)
        was_under_duress = case.under_duress_since is not None
        trusted = not session.credential.is_duress and not was_under_duress
        checkin = CheckIn.objects.create(case=case, at=now, trusted=trusted)
        if session.credential.is_duress:
            case_mark_duress(case)
            if was_under_duress:  # case_mark_duress alerts only the first time; this is a new alarm
                case_event_notify_on_commit(case_id=case.pk, event=Event.DURESS)
        elif trusted:
            schedule = CheckInSchedule.objects.select_for_update().filter(case=case).first()
            if schedule is not None:
                schedule.last_check_in_at = now
                if schedule.active:
                    ladder.schedule_wait_from(schedule, now)  # also stops any escalation
                schedule.save()
                transaction.on_commit(ladder.sweep_ensure_scheduled)
    return checkin


# --- acknowledging a missed check-in ------------------------------------------------------------


def escalation_acknowledge(*, case: Case, actor: StaffMember, actor_private_key: bytes) -> None:
    """Stop the ladder: a member of the case team has taken the missed check-in in hand. The
    next check-in is then due one interval from now, so silence after that escalates again.
    Stopping an alarm is for the case team alone: the role, and proof of holding the case key
    (keys.NoAccess otherwise), as for changing the schedule."""
    _check_team_role(actor)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_case(case)
        keys.current_key_open(locked, actor, actor_private_key)  # NoAccess: not on the case team
        schedule = CheckInSchedule.objects.select_for_update().filter(case=locked).first()
        if schedule is None or schedule.missed_due_at is None:
            raise Refused(_("No missed check-in is waiting to be acknowledged."))
        missed, step = schedule.missed_due_at, schedule.step
        Alert.objects.filter(schedule=schedule, due_at=missed, acknowledged_at=None).update(
            acknowledged_at=now, acknowledged_by=actor
        )
        ladder.schedule_wait_from(schedule, now)
        schedule.save()
        details = {"missed_due": int(missed.timestamp()), "step": step}
        audit_record(actor=actor, action=Action.CHECKIN_ACKNOWLEDGE, case=locked, details=details)


# --- fate status ----------------------------------------------------------------------------


def fate_set(*, case: Case, actor: StaffMember, actor_private_key: bytes, status: str, information: str) -> FateStatus:
    """A new entry in the person's fate history; "on what information" is sealed to the case key."""
    _check_team_role(actor)
    if status not in Fate.values:
        raise Refused(_("Choose one of the listed statuses."))
    with transaction.atomic():
        locked = lock_case(case)
        case_key = current_key_for(locked, actor, actor_private_key)
        entry = FateStatus(id=uuid.uuid4(), case=locked, status=status, set_by=actor, case_key=case_key)
        ctx = crypto.fate_information_ctx(entry.id.bytes, locked, actor.pk)
        entry.information_ct = seal_text(case_key, information, ctx=ctx)
        entry.save(force_insert=True)
        audit_record(actor=actor, action=Action.FATE_SET, case=locked, details={"status": status})
    return entry
