"""evidence's part of the case page (casework.case_page): the Evidence section, offered only to
members who keep evidence (accounts.permissions.can_keep_evidence). Registered in
EvidenceConfig.ready()."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts import permissions
from casework import case_page
from casework import selectors as casework_selectors
from casework.case_page import Panel, PanelRequest, Section
from evidence import selectors
from evidence.forms import ConsentForm, MessageKeepForm, TestimonyForm, WithdrawForm, uses_text

EVIDENCE = "evidence"


def _keep_forms(page: PanelRequest, consents: list[selectors.ConsentView]) -> tuple[list[Any], Any]:
    """The person's messages on this page of the conversation, each with its "Keep" form (the
    one that came back refused, with what was typed, in its place). Opened only when asked for
    (``?section=evidence&messages=1``) or when a keep form comes back: like every section but
    the conversation, the Evidence section does not open the messages by default."""
    if not page.query.get("messages") and page.returned_form("keep") is None:
        return [], None
    conversation = casework_selectors.conversation_page_for_staff(page.case, page.opened, page.query.get("page"))
    kept = selectors.kept_message_ids(page.case)
    returned = page.returned_form("keep")
    returned_for = page.returned_about("keep")
    rows = []
    for message in conversation.messages:
        if message.sender != "person" or message.is_decoy or not message.authentic:
            continue  # the service refuses these; they are not offered
        if returned is not None and returned_for == message.id:
            form, error = returned, page.returned_error("keep")
        else:
            form, error = MessageKeepForm(consents=consents, message_id=message.id), ""
        rows.append({"message": message, "kept": message.id in kept, "form": form, "error": error})
    return rows, conversation


def _evidence(page: PanelRequest) -> Mapping[str, Any]:
    consents = selectors.case_consents(page.case, page.opened)
    withdraw_for: uuid.UUID | None = page.returned_about("withdraw")
    messages, conversation = _keep_forms(page, consents)
    return {
        "consents": [
            {
                "consent": consent,
                "uses": uses_text(consent.uses) if consent.uses is not None else None,
                "withdraw_form": (
                    page.returned_form("withdraw")
                    if withdraw_for == consent.id
                    else WithdrawForm(consent_id=consent.id)
                ),
                "withdraw_error": page.returned_error("withdraw") if withdraw_for == consent.id else "",
            }
            for consent in consents
        ],
        "has_consent_in_force": any(consent.revoked_at is None for consent in consents),
        "items": selectors.case_items(page.case, page.opened),
        "consent_form": page.returned_form("consent") or ConsentForm(),
        "consent_error": page.returned_error("consent"),
        "testimony_form": page.returned_form("testimony") or TestimonyForm(consents=consents),
        "testimony_error": page.returned_error("testimony"),
        "person_messages": messages,
        "conversation": conversation,
        "messages_shown": conversation is not None,
        "evidence_url": case_page.case_url(page.case.public_id, EVIDENCE),
    }


def register() -> None:
    case_page.register_section(Section(EVIDENCE, _("Evidence"), order=75, visible=permissions.can_keep_evidence))
    case_page.register_panel(
        Panel("evidence", "evidence/case_panel.html", _evidence, 10, EVIDENCE, visible=permissions.can_keep_evidence)
    )
