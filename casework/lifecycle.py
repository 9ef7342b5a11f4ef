"""Case states in one place: the states (Case.Status), the transitions between them (each with
the capability of accounts.permissions that may make it), the reasons a case is closed, and
case_transition, the one function that moves a case from one state to another. What other
apps add to a transition (a guard, a side effect) is registered in casework.hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import hooks, keys, teams
from casework.models import Case, CaseStateChange
from casework.sealed import Refused, holds_current_key, lock_case
from casework.services import case_revision_bump, case_state_changed

State = Case.Status


class ClosingReason(models.TextChoices):
    SAFE = "safe", gettext_lazy("Safe")
    LOST_CONTACT = "lost_contact", gettext_lazy("Lost contact")
    DECLINED = "declined", gettext_lazy("Declined help")
    DUPLICATE = "duplicate", gettext_lazy("Duplicate")
    SUSPECTED_INFILTRATOR = "suspected_infiltrator", gettext_lazy("Suspected infiltrator")


@dataclass(frozen=True)
class Transition:
    from_state: State
    to_state: State
    allowed: Callable[[Any], bool]  # a capability of accounts.permissions
    label: str | object  # lazy string


_WORKERS = permissions.can_triage_case
# Verification is the vetting decision (T3): verifiers and coordinators only.
_VERIFIERS = permissions.can_verify_case
_OPEN = (State.NEW, State.TRIAGED, State.VETTING, State.VERIFIED)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(State.NEW, State.TRIAGED, _WORKERS, gettext_lazy("Mark triaged")),
    Transition(State.TRIAGED, State.VETTING, _WORKERS, gettext_lazy("Start vetting")),
    # Two different verifiers must have signed off (T3): vetting's guard (casework.hooks).
    Transition(State.VETTING, State.VERIFIED, _VERIFIERS, gettext_lazy("Mark verified")),
    *(Transition(state, State.CLOSED, _WORKERS, gettext_lazy("Close")) for state in _OPEN),
    # Reopening a closed case is a coordinator's decision; it goes back to triage.
    Transition(State.CLOSED, State.TRIAGED, permissions.can_reopen_case, gettext_lazy("Reopen")),
)


def transition_for(from_state: str, to_state: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.from_state == from_state and t.to_state == to_state), None)


def transitions_from(state: str, member: Any) -> list[Transition]:
    """What ``member`` may do with a case in ``state`` (for the case page form)."""
    return [t for t in TRANSITIONS if t.from_state == state and t.allowed(member)]


def guard_refusal(case: Case, from_state: str, to_state: str, member: StaffMember) -> str | None:
    """Why a guard another app registered (hooks.transition_guards) refuses moving ``case``
    from ``from_state`` to ``to_state`` now, or None."""
    asked = hooks.TransitionAsked(case=case, from_state=from_state, to_state=to_state, member=member)
    return next((refusal for refusal in hooks.transition_guards.run(asked) if refusal), None)


def is_open(state: str) -> bool:
    return state != State.CLOSED


def state_label(value: str) -> str:
    try:
        return str(State(value).label)
    except ValueError:
        return value


class TransitionRefused(Refused):
    """The state change is not allowed; the message says why (shown to staff)."""


def case_transition(
    *,
    case: Case,
    member: StaffMember,
    to_state: str,
    reason: str = "",
    now: datetime | None = None,
    expected_revision: int | None = None,
    member_private_key: bytes | None = None,
) -> CaseStateChange:
    """Move ``case`` to ``to_state`` if the lifecycle allows it for ``member``'s role.
    ``expected_revision`` is the case revision the form was rendered with: if someone changed
    the case since, casework.sealed.EditConflict is raised and nothing changes.

    The state is written with the case row's certificate (keys.case_recertify); the values
    written are checked here against Case.Status. The guards other apps registered
    (hooks.transition_guards) may refuse it; their side effects (hooks.transitioned) run once
    the new state is written, in this transaction.

    A case leaving the verified state loses its logistics readers with a key rotation
    (casework.services.case_state_changed); ``member_private_key`` lets the details be
    re-sealed under the new key version. A case entering vetting is given to its team's
    verifiers (casework.teams.vetting_started): with ``member_private_key`` at once, without it
    the keys are owed until a key holder hands them on."""
    with transaction.atomic():
        locked = lock_case(case)
        if not member.is_active or not holds_current_key(locked, member):
            raise TransitionRefused(_("Only someone who holds the case key can change its state."))
        case_revision_bump(locked, expected_revision=expected_revision)
        if to_state not in State.values:
            raise TransitionRefused(_("Unknown case state."))
        transition = transition_for(locked.status, to_state)
        if transition is None:
            raise TransitionRefused(
                _("A case cannot go from “%(from)s” to “%(to)s”.")
                % {"from": State(locked.status).label, "to": State(to_state).label}
            )
        if not transition.allowed(member):
            raise TransitionRefused(_("Your role may not make this change."))
        refusal = guard_refusal(locked, locked.status, to_state, member)
        if refusal:
            raise TransitionRefused(refusal)
        if to_state == State.CLOSED:
            if reason not in ClosingReason.values:
                raise TransitionRefused(_("Choose why the case is closed."))
        elif reason:
            raise TransitionRefused(_("A reason is given only when closing a case."))
        change = CaseStateChange.objects.create(
            case=locked,
            from_state=locked.status,
            to_state=to_state,
            reason=reason,
            by=member,
            at=now or timezone.now(),
        )
        from_state = locked.status
        # The state decides who may be given the key (logistics, safe-house addresses): it is
        # certified with the case row, and a row changed outside the console is not moved on.
        keys.case_recertify(locked, status=to_state)
        hooks.transitioned.run(
            hooks.Transitioned(
                case=locked,
                from_state=from_state,
                to_state=to_state,
                actor=member,
            )
        )
        details = {"from": from_state, "to": to_state}
        if reason:
            details["reason"] = reason
        audit_record(actor=member, action=Action.CASE_TRANSITION, case=locked, details=details)
        case_state_changed(case=locked, actor=member, actor_private_key=member_private_key)
        if to_state == State.VETTING:
            # The team's verifiers read the case from now on: given the key by the member who
            # started vetting (who holds it), or owed it until a key holder hands it on.
            teams.vetting_started(case=locked, actor=member, actor_private_key=member_private_key)
            locked.refresh_from_db(fields=["revision"])
    case.status = to_state
    case.certificate = locked.certificate
    case.revision = locked.revision
    case.key_version, case.details_key_version = locked.key_version, locked.details_key_version
    return change
