"""Case states in one place: the states, the transitions between them (each with the capability
of accounts.permissions that may make it), and the reasons a case is closed.
triage.services.case_transition enforces this table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts import permissions


class State(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    VETTING = "vetting", _("Vetting")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")


class ClosingReason(models.TextChoices):
    SAFE = "safe", _("Safe")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DECLINED = "declined", _("Declined help")
    DUPLICATE = "duplicate", _("Duplicate")
    SUSPECTED_INFILTRATOR = "suspected_infiltrator", _("Suspected infiltrator")


@dataclass(frozen=True)
class Transition:
    from_state: State
    to_state: State
    allowed: Callable[[Any], bool]  # a capability of accounts.permissions
    label: str | object  # lazy string
    # Dotted path of a function(case) -> refusal message or None, asked with the case locked.
    guard: str = ""


_WORKERS = permissions.can_triage_case
# Verification is the vetting decision (T3): verifiers and coordinators only.
_VERIFIERS = permissions.can_verify_case
_OPEN = (State.NEW, State.TRIAGED, State.VETTING, State.VERIFIED)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.NEW, State.TRIAGED, _WORKERS, _("Mark triaged")),
    Transition(State.TRIAGED, State.VETTING, _WORKERS, _("Start vetting")),
    # Two different verifiers must have signed off (T3).
    Transition(
        State.VETTING, State.VERIFIED, _VERIFIERS, _("Mark verified"), guard="vetting.services.verification_refusal"
    ),
    *(Transition(state, State.CLOSED, _WORKERS, _("Close")) for state in _OPEN),
    # Reopening a closed case is a coordinator's decision; it goes back to triage.
    Transition(State.CLOSED, State.TRIAGED, permissions.can_reopen_case, _("Reopen")),
)


def transition_for(from_state: str, to_state: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.from_state == from_state and t.to_state == to_state), None)


def transitions_from(state: str, member: Any) -> list[Transition]:
    """What ``member`` may do with a case in ``state`` (for the case page form)."""
    return [t for t in TRANSITIONS if t.from_state == state and t.allowed(member)]


def is_open(state: str) -> bool:
    return state != State.CLOSED


def state_label(value: str) -> str:
    try:
        return str(State(value).label)
    except ValueError:
        return value
