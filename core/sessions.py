"""Deleting session rows that can no longer be used, on the jobs worker.

A session row outlives its use: Django refuses an expired session but leaves its row, and a
console session ended by "sign out everywhere" or by disabling the account is refused by
``accounts.access.staff_required`` but stays in the table too. Each such row still holds
sealed keys (the staff member's private and signing keys, a person's credential key, under
the browser's vault key, see core/vault.py), so each is one more thing a later copy of the
database holds. The purge job deletes them every SP_SESSION_PURGE_SECONDS:

- expired rows of both faces, in batches, each batch deleted with its expiry checked again
  (a session renewed meanwhile stays);
- live rows that an app's finder declares dead (accounts registers one for members whose
  session generation moved on, or who were disabled or removed). A dead row is deleted only
  as it was read: one whose data changed since is left for the next run.

The job carries only its time slot; it logs only counts. It is safe to run twice or on two
workers at once: deleting what is already gone does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from jobs.models import Job
from jobs.services import periodic_job

logger = logging.getLogger(__name__)

PURGE_JOB = "sessions.purge"
_BATCH = 500

# Given live sessions (key -> decoded data), return the keys of those that can never be used
# again. Apps register theirs in AppConfig.ready().
DeadSessionFinder = Callable[[Mapping[str, Mapping[str, Any]]], Iterable[str]]
_FINDERS: list[DeadSessionFinder] = []


def dead_session_finder(finder: DeadSessionFinder) -> DeadSessionFinder:
    if finder not in _FINDERS:
        _FINDERS.append(finder)
    return finder


def sessions_delete_expired() -> int:
    deleted = 0
    while True:
        now = timezone.now()
        batch = list(Session.objects.filter(expire_date__lt=now).values_list("session_key", flat=True)[:_BATCH])
        if not batch:
            return deleted
        count, _ = Session.objects.filter(session_key__in=batch, expire_date__lt=now).delete()
        deleted += count
        if len(batch) < _BATCH:
            return deleted


def sessions_delete_unchanged(rows: Mapping[str, str]) -> int:
    """Delete each row (key -> session_data as read) only if its data is still what was read."""
    return sum(Session.objects.filter(session_key=key, session_data=data).delete()[0] for key, data in rows.items())


def sessions_delete_dead() -> int:
    store = SessionStore()
    deleted = 0
    live = Session.objects.filter(expire_date__gte=timezone.now()).order_by("session_key")
    last = ""
    while True:
        rows = dict(live.filter(session_key__gt=last).values_list("session_key", "session_data")[:_BATCH])
        if not rows:
            return deleted
        last = max(rows)
        decoded = {key: store.decode(data) for key, data in rows.items()}
        dead = {key for finder in _FINDERS for key in finder(decoded)}
        deleted += sessions_delete_unchanged({key: rows[key] for key in dead if key in rows})


def sessions_purge() -> tuple[int, int]:
    """Delete expired and dead session rows; returns how many of each."""
    expired = sessions_delete_expired()
    dead = sessions_delete_dead()
    if expired or dead:
        logger.info("sessions purged: %d expired, %d ended", expired, dead)
    return expired, dead


@periodic_job(PURGE_JOB, every_seconds=lambda: int(settings.SP_SESSION_PURGE_SECONDS))
def sessions_purge_job(job: Job) -> None:
    sessions_purge()
