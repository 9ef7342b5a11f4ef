"""The case page in sections, one loaded at a time (T1: a phone on a slow connection).

The default section is the conversation, with the warnings above it; each other area of the
case (vetting, the evacuation plan, money, the safe house, check-ins, notes and tasks, access,
the case's state) is its own section, chosen by ``?section=`` in the address and linked from
the section list at the top of the page, so every section is reachable without JavaScript.
A form posted from a section comes back to that section: on success through ``case_url``, on
an error through casework.views._render_case(section=...).

``attention`` marks the sections where something waits for this member, from a few counting
queries; nothing sealed is opened for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember
from casenotes.models import CaseTask
from casework.models import Case, PersonCredential
from evacuation.checkins.selectors import schedule_for
from evacuation.funds.models import EntryStatus, LedgerEntry
from evacuation.handoff.models import HandoffImport
from evacuation.safehouses.models import Placement
from triage.lifecycle import State
from vetting import services as vetting_services


@dataclass(frozen=True)
class Section:
    key: str
    label: str | object  # lazy string


CONVERSATION = "conversation"
VETTING = "vetting"
PLAN = "plan"
MONEY = "money"
SAFE_HOUSE = "safehouse"
CHECKINS = "checkins"
NOTES = "notes"
ACCESS = "access"
STATE = "state"

SECTIONS: tuple[Section, ...] = (
    Section(CONVERSATION, _("Conversation")),
    Section(VETTING, _("Vetting")),
    Section(PLAN, _("Evacuation plan")),
    Section(MONEY, _("Money paid out")),
    Section(SAFE_HOUSE, _("Safe house")),
    Section(CHECKINS, _("Check-ins")),
    Section(NOTES, _("Notes and tasks")),
    Section(ACCESS, _("Access")),
    Section(STATE, _("State and warnings")),
)
KEYS = frozenset(section.key for section in SECTIONS)


def chosen(value: object) -> str:
    """The section named by ``?section=``; anything else is the conversation."""
    return value if isinstance(value, str) and value in KEYS else CONVERSATION


def case_url(public_id: str, section: str = CONVERSATION) -> str:
    """The case page at ``section``: where a form of that section goes back to."""
    if section not in KEYS:
        raise ValueError(f"no case page section {section!r}")
    return f"/cases/{public_id}/" if section == CONVERSATION else f"/cases/{public_id}/?section={section}"


def attention(case: Case, member: StaffMember) -> frozenset[str]:
    """The sections where something waits: sign-offs still missing while the case is vetted,
    payments this member may approve, a stay this member may confirm, a missed check-in being
    escalated, an overdue open task, a case handed over by a partner whose person has no codename
    with us yet."""
    marked = set()
    if case.status == State.VETTING:
        signed = {sign_off.verifier_id for sign_off in vetting_services.standing_sign_offs(case)}
        if len(signed) < vetting_services.SIGN_OFFS_NEEDED:
            marked.add(VETTING)
    if (
        permissions.can_approve_payment(member)
        and LedgerEntry.objects.filter(case=case, status=EntryStatus.PENDING).exists()
    ):
        marked.add(MONEY)
    if permissions.can_manage_safe_houses(member):
        waiting = Placement.objects.filter(case=case, ended_at__isnull=True, status=Placement.Status.REQUESTED)
        if waiting.exists():
            marked.add(SAFE_HOUSE)
    schedule = schedule_for(case)
    if schedule is not None and schedule.escalating:
        marked.add(CHECKINS)
    if CaseTask.objects.filter(case=case, done_at__isnull=True, due__lt=timezone.localdate()).exists():
        marked.add(NOTES)
    # Handed over by a partner, and the person has no codename with us yet: issue one (Access).
    imported = HandoffImport.objects.filter(case=case).exists()
    if imported and not PersonCredential.objects.filter(case=case, revoked_at__isnull=True).exists():
        marked.add(ACCESS)
    return frozenset(marked)
