"""Reads for the case page: the checklist, sign-offs, red-flag marks and linked cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember
from casework.lifecycle import State
from casework.models import Case
from casework.sealed import open_text
from casework.selectors import cases_visible_to
from vetting import services
from vetting.models import CheckItem, ContactDigest, RedFlagMatch, SignOff, VettingCheck


@dataclass(frozen=True)
class CheckRow:
    item: str
    label: str
    ticked_by: str = ""
    ticked_at: datetime | None = None
    note: str | None = None  # None: not ticked, or sealed to a key version the viewer lacks


@dataclass(frozen=True)
class SignOffRow:
    sign_off: SignOff
    verifier: str
    reason: str | None
    counts: bool
    mine: bool
    earlier: bool = False  # made before the case last entered vetting


@dataclass(frozen=True)
class LinkedCase:
    public_id: str | None  # None: a case the viewer cannot see


@dataclass
class VettingPanel:
    checks: list[CheckRow]
    sign_offs: list[SignOffRow]
    standing: int
    needed: int
    can_tick: bool
    can_sign: bool
    red_flags: list[RedFlagMatch]
    linked: list[LinkedCase]
    can_share: bool
    under_duress: bool = False
    # Why the checklist or the sign-off form is not offered to this member (None: it is).
    tick_unavailable: str | None = None
    sign_unavailable: str | None = None


def vetting_panel(case: Case, member: StaffMember, opened: Mapping[int, bytes]) -> VettingPanel:
    """``opened``: the case keys this member opened for the case page."""
    checks = _checks(case, opened)
    standing_ids = {sign_off.pk for sign_off in services.standing_sign_offs(case)}
    started = services.vetting_round_started(case)
    rows = [
        SignOffRow(
            sign_off,
            sign_off.verifier.username,
            _open(
                opened,
                sign_off.case_key_id,
                bytes(sign_off.reason_ct),
                services.reason_ctx(case, sign_off.pk, sign_off.verifier_id),
            ),
            sign_off.pk in standing_ids,
            sign_off.verifier_id == member.pk,
            started is None or sign_off.signed_at < started,
        )
        for sign_off in SignOff.objects.filter(case=case).select_related("verifier")
    ]
    can_tick = permissions.can_tick_vetting_check(member) and case.status != State.CLOSED
    can_sign = case.status == State.VETTING and permissions.can_sign_off(member)
    return VettingPanel(
        checks=checks,
        sign_offs=rows,
        standing=len({row.sign_off.verifier_id for row in rows if row.counts}),
        needed=services.SIGN_OFFS_NEEDED,
        can_tick=can_tick,
        can_sign=can_sign,
        red_flags=list(RedFlagMatch.objects.filter(case=case).select_related("flag")),
        linked=linked_cases(case, member),
        can_share=can_share_sensitive(case, member),
        under_duress=case.under_duress_since is not None,
        tick_unavailable=None if can_tick else _tick_unavailable(case, member),
        sign_unavailable=None if can_sign else _sign_unavailable(case, member),
    )


def can_share_sensitive(case: Case, member: StaffMember) -> bool:
    """May put a sensitive item into a reply to this case (beside the reply box)."""
    return case.status == State.VERIFIED and permissions.can_share_sensitive_items(member)


def _tick_unavailable(case: Case, member: StaffMember) -> str:
    if not permissions.can_tick_vetting_check(member):
        return str(_("Your role may not tick the vetting checklist."))
    return str(_("The case is closed."))


def _sign_unavailable(case: Case, member: StaffMember) -> str:
    if not permissions.can_sign_off(member):
        return str(_("Only a verifier or a coordinator can sign off a case."))
    if case.status in (State.NEW, State.TRIAGED):
        return str(_("Sign-off opens when vetting starts."))
    return str(_("A case can be signed off only while it is being vetted."))


def _open(opened: Mapping[int, bytes], case_key_id: int, ciphertext: bytes, ctx: bytes) -> str | None:
    return open_text(opened, case_key_id, ciphertext, ctx=ctx)


def _checks(case: Case, opened: Mapping[int, bytes]) -> list[CheckRow]:
    ticked = {check.item: check for check in VettingCheck.objects.filter(case=case).select_related("ticked_by")}
    rows = []
    for item, label in CheckItem.choices:
        check = ticked.get(item)
        if check is None:
            rows.append(CheckRow(item, str(label)))
            continue
        by_id = check.ticked_by_id or 0
        note = _open(opened, check.case_key_id, bytes(check.note_ct), services.note_ctx(case, item, by_id))
        by = check.ticked_by.username if check.ticked_by else ""
        rows.append(CheckRow(item, str(label), by, check.ticked_at, note))
    return rows


def linked_cases(case: Case, member: StaffMember) -> list[LinkedCase]:
    """Other cases that gave the same contact: named only when the member can see them."""
    digests = ContactDigest.objects.filter(case=case).values("digest")
    other_ids = set(
        ContactDigest.objects.filter(digest__in=digests).exclude(case=case).values_list("case_id", flat=True)
    )
    visible = dict(cases_visible_to(member).filter(pk__in=other_ids).values_list("pk", "public_id"))
    return [LinkedCase(visible.get(pk)) for pk in sorted(other_ids, key=lambda pk: (pk not in visible, pk))]


def is_red_flagged(case: Case) -> bool:
    return RedFlagMatch.objects.filter(case=case).exists()
