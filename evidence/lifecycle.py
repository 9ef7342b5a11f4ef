"""The custody log follows what retention does to a case: a hold set or lifted, and the
shredding itself, each an entry for every item of the case's locker (registered in ready())."""

from __future__ import annotations

from casework.keys import current_case_key
from evidence.custody import custody_append_by_server
from evidence.models import EvidenceItem
from retention import hooks


def on_hold_changed(event: hooks.HoldChanged) -> None:
    items = list(EvidenceItem.objects.filter(case=event.case).order_by("promoted_at"))
    if items:
        action = "hold" if event.on_hold else "hold-released"
        custody_append_by_server(items=items, action=action, case_key=current_case_key(event.case))


def on_case_shredding(event: hooks.CaseShredding) -> None:
    items = list(EvidenceItem.objects.filter(case=event.case).order_by("promoted_at"))
    if items:
        custody_append_by_server(items=items, action="shredded", case_key=current_case_key(event.case))


def register() -> None:
    hooks.hold_changed.register(on_hold_changed, order=10)
    hooks.case_shredding.register(on_case_shredding, order=10)
