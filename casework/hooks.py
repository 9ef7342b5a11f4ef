"""What the apps above casework do when something happens to a case: the one registry.

Casework runs each hook point below where its event happens, inside the transaction of the
change (core.hooks.HookPoint: functions in ascending ``order``, then registration order).
Feature apps register their functions in their AppConfig.ready(); casework never imports them.

=====================  ========================================================  =====  ======================
Hook point             When (run by)                                             Order  Registered by
=====================  ========================================================  =====  ======================
case_opened            a case was created (lifecycle.case_open)                  10     triage: its first-
                                                                                        response deadline job
transition_guards      a state change was asked for, case locked; a refusal      10     vetting: two sign-offs
                       stops it (lifecycle.case_transition)                             before "verified"
transitioned           the state was written and certified, before the audit     10     safehouses: address
                       entry (lifecycle.case_transition)                                keys taken away when
                                                                                        it leaves "verified"
                                                                                 20     vetting: a new round
                                                                                        withdraws old sign-offs
duress_marked          a danger-word login flagged the case (services.           10     safehouses: address
                       case_mark_duress; a failure is logged, never raised)             keys taken away
member_taken_off       someone lost the case key: removed, disabled, left the    10     vetting: their sign-
                       team (services, teams), case locked                              offs withdrawn
intake_screens         a request is about to be opened: returns what to run      10     vetting: red flags
                       in the opening transaction (services.case_open_from_intake)
reply_screens          a staff reply is about to be written: returns the check   10     vetting: sensitive items
                       to make on the locked case (services.message_post_from_staff)
cover_reply_screens    a reply in the cover conversation; raises ReplyStopped    10     vetting: sensitive items
release_screens        a held reply is about to be released, case locked         10     vetting: sensitive items
inbox_marks            the inbox annotates its page of cases                     10     vetting: red flags
=====================  ========================================================  =====  ======================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import StaffMember
from casework.models import Case
from core.hooks import HookPoint


@dataclass(frozen=True)
class CaseOpened:
    case: Case  # just created, in the transaction that opens it


@dataclass(frozen=True)
class TransitionAsked:
    case: Case  # locked (select_for_update), still in ``from_state``
    from_state: str
    to_state: str
    member: StaffMember


@dataclass(frozen=True)
class Transitioned:
    case: Case  # locked, its new state written and certified
    from_state: str
    to_state: str
    actor: StaffMember  # no key of the actor's is handed to other apps' hooks

    def left(self, state: str) -> bool:
        return self.from_state == state and self.to_state != state

    def entered(self, state: str) -> bool:
        return self.to_state == state


@dataclass(frozen=True)
class DuressMarked:
    case: Case  # flagged under duress (committed); the hooks run in a transaction of their own


@dataclass(frozen=True)
class MemberTakenOff:
    case: Case  # locked; the member's wraps are gone and the key was rotated
    member: StaffMember
    actor: StaffMember
    reason: str  # "removed", "disabled" or "team" (audit detail codes)


@dataclass(frozen=True, repr=False)
class IntakeRequest:
    """What the person sent, before the case exists (slow work goes here, before any lock)."""

    contact_value: str
    first_message: str


# Run in the opening transaction once the case and its first message exist.
IntakeCheck = Callable[[Case], None]


class ReplyStopped(Exception):
    """A staff reply that may not go out as it is: ``refused`` when it cannot be sent at all,
    otherwise the sender must confirm it. ``kinds`` are codes; kind_labels are for the page."""

    def __init__(self, kinds: list[str], *, refused: bool) -> None:
        super().__init__("reply stopped")
        self.kinds = kinds
        self.refused = refused

    @property
    def kind_labels(self) -> list[str]:
        return list(self.kinds)


@dataclass(frozen=True, repr=False)
class StaffReply:
    case: Case
    member: StaffMember
    body: str
    confirmed: bool = False  # the sender confirmed a reply stopped before


# Asked with the case row locked, in the reply's transaction: why the reply is stopped, or None.
ReplyCheck = Callable[[Case], ReplyStopped | None]


@dataclass(frozen=True, repr=False)
class HeldRelease:
    case: Case  # locked
    body: str  # the held reply, opened by the coordinator releasing it


@dataclass(frozen=True)
class InboxPage:
    member: StaffMember


case_opened: HookPoint[CaseOpened, None] = HookPoint("case opened")
transition_guards: HookPoint[TransitionAsked, str | None] = HookPoint("transition guards")
transitioned: HookPoint[Transitioned, None] = HookPoint("transitioned")
duress_marked: HookPoint[DuressMarked, None] = HookPoint("duress marked")
member_taken_off: HookPoint[MemberTakenOff, None] = HookPoint("member taken off")
intake_screens: HookPoint[IntakeRequest, IntakeCheck] = HookPoint("intake screens")
reply_screens: HookPoint[StaffReply, ReplyCheck] = HookPoint("reply screens")
cover_reply_screens: HookPoint[StaffReply, None] = HookPoint("cover reply screens")
release_screens: HookPoint[HeldRelease, ReplyStopped | None] = HookPoint("release screens")
# Each returns annotations (name: query expression) for the inbox's cases, read by the page's templates.
inbox_marks: HookPoint[InboxPage, dict[str, Any]] = HookPoint("inbox marks")
