"""What retention lets the apps above it act on (core.hooks): a hold set or lifted on a case, and
a case about to be shredded (run inside the shredding's transaction, before any row goes)."""

from __future__ import annotations

from dataclasses import dataclass

from casework.models import Case
from core.hooks import HookPoint


@dataclass(frozen=True)
class HoldChanged:
    case: Case
    on_hold: bool


@dataclass(frozen=True)
class CaseShredding:
    case: Case


hold_changed: HookPoint[HoldChanged, None] = HookPoint("hold changed")
case_shredding: HookPoint[CaseShredding, None] = HookPoint("case shredding")
