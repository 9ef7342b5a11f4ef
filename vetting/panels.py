"""vetting's parts of the case page (casework.case_page): the vetting section, the red-flag
warning above every section and beside the safe contact, the sensitive-information notice in
the reply box and the button that puts a sensitive item into a reply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember
from casework import case_page
from casework.case_page import AFTER_REPLY, CONTACT_BADGES, REPLY_CHECKS, WARNINGS, Panel, PanelRequest, Section
from casework.lifecycle import State
from casework.models import Case
from vetting import selectors, services
from vetting.forms import CheckTickForm, SignOffForm
from vetting.models import RedFlagMatch

VETTING = "vetting"


def _vetting(page: PanelRequest) -> Mapping[str, Any]:
    return {
        "panel": selectors.vetting_panel(page.case, page.member, page.opened),
        "check_form": page.returned_form("check") or CheckTickForm(),
        "sign_off_form": page.returned_form("sign_off") or SignOffForm(),
        "vetting_error": page.returned_error("check")
        or page.returned_error("sign_off")
        or page.returned_error("vetting"),
    }


def _sign_offs_missing(case: Case, member: StaffMember) -> bool:
    if case.status != State.VETTING:
        return False
    signed = {sign_off.verifier_id for sign_off in services.standing_sign_offs(case)}
    return len(signed) < services.SIGN_OFFS_NEEDED


def _red_flags(page: PanelRequest) -> Mapping[str, Any]:
    return {"red_flags": list(RedFlagMatch.objects.filter(case=page.case).order_by("matched_at", "pk"))}


def _contact_flagged(page: PanelRequest) -> Mapping[str, Any]:
    return {"contact_compromised": RedFlagMatch.objects.filter(case=page.case, via=RedFlagMatch.Via.CONTACT).exists()}


def _reply_stop(page: PanelRequest) -> Mapping[str, Any]:
    return {"sensitive_stop": page.returned_about("reply")}


def _sensitive_share(page: PanelRequest) -> Mapping[str, Any]:
    panel = {
        "can_share": selectors.can_share_sensitive(page.case, page.member),
        "under_duress": page.case.under_duress_since is not None,
    }
    return {"panel": panel, "sensitive_error": page.returned_error("sensitive")}


def register() -> None:
    case_page.register_section(Section(VETTING, _("Vetting"), order=20))
    for panel in (
        Panel("vetting", "vetting/case_panel.html", _vetting, 10, VETTING, attention=_sign_offs_missing),
        Panel("red_flags", "vetting/panels/red_flags.html", _red_flags, 50, None, WARNINGS),
        Panel(
            "red_flag_contact",
            "vetting/panels/red_flag_badge.html",
            _contact_flagged,
            10,
            case_page.CONVERSATION,
            CONTACT_BADGES,
        ),
        Panel("reply_stop", "vetting/reply_warning.html", _reply_stop, 10, case_page.CONVERSATION, REPLY_CHECKS),
        Panel(
            "sensitive_share", "vetting/reply_sensitive.html", _sensitive_share, 10, case_page.CONVERSATION, AFTER_REPLY
        ),
    ):
        case_page.register_panel(panel)
