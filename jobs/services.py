"""Putting work on the job table, and the handlers that do it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from jobs.models import Job

Handler = Callable[[Job], None]
_HANDLERS: dict[str, Handler] = {}
_PERIODIC: dict[str, Callable[[], int]] = {}
# Identifiers and kinds only: whole numbers, or short tokens without spaces (public ids,
# event kinds). A sentence, a name with a space or an e-mail address does not fit.
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class UnsafePayload(ValueError):
    """A payload value that could be content: jobs carry only ids and kinds."""


class UnknownJobKind(LookupError):
    pass


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind`` (apps call this when they load)."""

    def register(function: Handler) -> Handler:
        _HANDLERS[kind] = function
        return function

    return register


def periodic_job(kind: str, *, every_seconds: Callable[[], int]) -> Callable[[Handler], Handler]:
    """Register the function that runs ``kind`` once every ``every_seconds()`` seconds. The
    ``manage.py worker`` command queues one such job per time slot (jobs.worker.periodic_jobs_ensure);
    the interval is read at each pass, so it can come from a setting."""

    def register(function: Handler) -> Handler:
        _HANDLERS[kind] = function
        _PERIODIC[kind] = every_seconds
        return function

    return register


def periodic_kinds() -> dict[str, Callable[[], int]]:
    return dict(_PERIODIC)


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


def unregister(kind: str) -> None:
    _HANDLERS.pop(kind, None)
    _PERIODIC.pop(kind, None)


def check_payload(payload: dict[str, Any]) -> None:
    for key, value in payload.items():
        if not _TOKEN.match(key):
            raise UnsafePayload("payload keys are short tokens")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise UnsafePayload(f"payload value for {key!r} must be a whole number or a token")
        if isinstance(value, str) and not _TOKEN.match(value):
            raise UnsafePayload(f"payload value for {key!r} is not a token")


def job_enqueue(kind: str, payload: dict[str, Any], *, run_at: datetime | None = None) -> Job:
    check_payload(payload)
    handler_for(kind)  # fail at the caller, not hours later in the worker
    return Job.objects.create(kind=kind, payload=payload, run_at=run_at or timezone.now())
