"""casework's own parts of the case page (casework.case_page): the conversation, the warnings
that stand above every section, who can read the case, the codename, the contact warnings.
Registered in CaseworkConfig.ready() like any other app's panels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import permissions
from casework import case_page, keys, selectors
from casework.case_page import CONVERSATION, MAIN, WARNINGS, Panel, PanelRequest, Section
from casework.forms import (
    CaseFlagsForm,
    CaseMemberForm,
    CodenameReplaceForm,
    DecoyReplyForm,
    DuressClearForm,
    StaffReplyForm,
)

ACCESS = "access"
STATE = "state"


def _warnings(page: PanelRequest) -> Mapping[str, Any]:
    return {"case_untrusted": not keys.case_trusted(page.case), "duress_error": page.returned_error("duress")}


def _duress_clear(page: PanelRequest) -> Mapping[str, Any]:
    return {"duress_form": page.returned_form("duress_clear") or DuressClearForm()}


def _reply_box(page: PanelRequest) -> StaffReplyForm:
    """The reply box: empty, or the draft that came back (refused, or with something put into
    it by another panel's form: a canned reply, a sensitive item)."""
    returned = page.returned.form if page.returned is not None else None
    return returned if isinstance(returned, StaffReplyForm) else StaffReplyForm()


def _conversation(page: PanelRequest) -> Mapping[str, Any]:
    conversation = selectors.conversation_page_for_staff(page.case, page.opened, page.query.get("page"))
    returned_decoy = page.returned is not None and page.returned.name == "decoy"
    return {
        "conversation": conversation,
        "real_thread": [message for message in conversation.messages if not message.is_decoy],
        # The cover story is shown apart, folded, so nobody answers its fake "person" by mistake.
        "decoy_thread": [message for message in conversation.messages if message.is_decoy],
        "form": _reply_box(page),
        "decoy_form": page.returned_form("decoy") or DecoyReplyForm(),
        "decoy_error": page.returned_error("decoy"),
        "cover_open": returned_decoy,
        "has_cover_conversation": selectors.case_has_cover_conversation(page.case),
        "state_url": case_page.case_url(page.case.public_id, STATE),
    }


def _holders(page: PanelRequest) -> Mapping[str, Any]:
    holders = keys.current_holders(page.case)
    return {
        "holders": holders,
        # Whom this member may take off (themselves: leave); accounts.permissions decides.
        "removable": {holder.pk for holder in holders if permissions.can_remove_member(page.member, holder, holders)},
        "member_form": page.returned_form("member") or CaseMemberForm(case=page.case),
        "membership_error": page.returned_error("member"),
    }


def _codename(page: PanelRequest) -> Mapping[str, Any]:
    return {
        "codename_form": page.returned_form("codename") or CodenameReplaceForm(),
        "codename_error": page.returned_error("codename"),
    }


def flags_form(page: PanelRequest) -> CaseFlagsForm:
    """The warnings as saved now, at the case's current revision."""
    details = page.details
    if details is None:
        return CaseFlagsForm(initial={"revision": page.case.revision})
    initial = {
        "revision": page.case.revision,
        "hostile_relative": details.hostile_relative,
        "hostile_note": details.hostile_note,
        "no_contact_via": details.no_contact_via,
    }
    return CaseFlagsForm(initial=initial)


def _flags(page: PanelRequest) -> Mapping[str, Any]:
    return {
        "flags_form": page.returned_form("flags") or flags_form(page),
        "flags_conflict": page.returned_about("flags") or "",
        "flags_error": page.returned_error("flags"),
    }


def register() -> None:
    case_page.register_section(Section(CONVERSATION, _("Conversation"), order=10))
    case_page.register_section(Section(ACCESS, _("Access"), order=80))
    case_page.register_section(Section(STATE, _("State and warnings"), order=90))
    for panel in (
        Panel("case_warnings", "casework/panels/case_warnings.html", _warnings, order=10, section=None, slot=WARNINGS),
        Panel("contact_warnings", "casework/panels/contact_warnings.html", lambda page: {}, 60, None, WARNINGS),
        Panel("duress_clear", "casework/panels/duress_clear.html", _duress_clear, 90, CONVERSATION, WARNINGS),
        Panel("conversation", "casework/panels/conversation.html", _conversation, order=10, section=CONVERSATION),
        Panel("holders", "casework/panels/holders.html", _holders, order=10, section=ACCESS, slot=MAIN),
        Panel("codename", "casework/panels/codename.html", _codename, order=30, section=ACCESS),
        Panel("flags", "casework/panels/flags.html", _flags, order=20, section=STATE),
    ):
        case_page.register_panel(panel)
