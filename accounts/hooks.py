"""Hook points for events of staff accounts (core.hooks.HookPoint), for the apps above."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import StaffMember
from core.hooks import HookPoint


@dataclass(frozen=True)
class MemberDisabled:
    """An account was just disabled (and certified so), inside the transaction that did it.
    The actor's keys are not passed on: what reacts must not need to open anything."""

    actor: StaffMember
    member: StaffMember


member_disabled: HookPoint[MemberDisabled, None] = HookPoint("member disabled")
