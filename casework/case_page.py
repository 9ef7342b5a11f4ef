"""The case page, built from sections and panels that apps register in ``AppConfig.ready()``.

The page is in sections, one loaded at a time (T1: a phone on a slow connection): the
conversation by default, with the warnings above it, and one section per other area of the
case (vetting, the evacuation plan, money, the safe house, check-ins, notes and tasks, access,
the case's state), chosen by ``?section=`` in the address and linked from the list at the top,
so every section is reachable without JavaScript.

An app adds to the page without editing casework: it registers a ``Section`` (a tab) if it has
one, and one or more ``Panel``s. A panel names its template, the function that builds its
context from a ``PanelRequest`` (the case, the member, the case keys this member opened, the
form that came back with an error, if any), its order, who may see it, and where it goes: on a
section, or in one of the slots casework's own templates offer (the warnings shown on every
section, the reply box). Each panel's context is its own: it is pushed for the panel's template
only (``{% case_panels %}``), so panels never see or overwrite each other's names. Context
functions do every query and every opening of sealed data before the page renders; templates
only show.

A form posted from a panel comes back to it through ``render_case_page(..., failed_panel=...,
form=PanelForm(...))``: the page opens at that panel's section, the panel gets the refused form
with what was typed, and the status line at the top says what did not happen and links to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.access import staff_keys, staff_member
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys, selectors
from casework.access import case_for_member
from casework.models import Case, CaseKey

if TYPE_CHECKING:
    from casework.services import CaseDetails

# Slots that casework's own templates offer to other apps' panels.
MAIN = "main"  # the body of a section
WARNINGS = "warnings"  # the warnings box, on every section
CONTACT_BADGES = "contact_badges"  # beside the safe contact in the conversation's summary
REPLY_CHECKS = "reply_checks"  # inside the reply form, above its button
REPLY_TOOLS = "reply_tools"  # inside the reply form, below its button
AFTER_REPLY = "after_reply"  # below the reply form
SLOTS = frozenset({MAIN, WARNINGS, CONTACT_BADGES, REPLY_CHECKS, REPLY_TOOLS, AFTER_REPLY})

CONVERSATION = "conversation"

# What every panel's template sees of the page besides its own context: the case, its opened
# details, the section shown, the slots (for a panel that offers slots of its own), the time
# zone, and what the context processors give every console page (the request, the CSRF token,
# the member's capabilities as ``may``).
PAGE_NAMES = ("case", "details", "section", "panels", "time_zone", "request", "csrf_token", "may")

# The status line at the top of the case page when an action did not go through: the form with
# the error may be screens further down, so the line says so and links to it.
NOT_SENT = _("Not sent — see below.")
NOT_SAVED = _("Not saved — see below.")
NOT_DONE = _("Not done — see below.")


def _everyone(member: StaffMember) -> bool:
    return True


@dataclass(frozen=True)
class Section:
    """A tab of the case page. ``visible`` says to whom it is offered: a section whose work
    only some roles do (the evidence locker) is neither listed nor opened for the others, who
    get the conversation instead."""

    key: str
    label: str | Promise
    order: int
    visible: Callable[[StaffMember], bool] = _everyone


@dataclass(frozen=True, repr=False)  # ``about`` may hold what was opened (an address)
class PanelForm:
    """A form of a panel that was posted and refused: shown again with what was typed.
    ``name`` says which of the panel's forms it is ("reply", "task", "decision", ...);
    ``error`` is why it was refused, in plain words, when the form itself does not say it;
    ``about`` is what the form was about when the panel needs it (the payment a decision was
    for, the reason a reply was stopped)."""

    name: str
    form: Any = None  # a bound django form, or None when only the error comes back
    error: str = ""
    about: Any = None


@dataclass(frozen=True)
class Problem:
    """The status line at the top of the page: what did not happen, and the anchor of the part
    of the page to look at (the form with the error may be screens further down)."""

    text: str | Promise
    anchor: str


@dataclass(frozen=True, repr=False)  # holds opened case keys: never printed or logged
class PanelRequest:
    """What a panel's context function gets: not the request itself (a panel never reaches
    the member's own keys), only its query string."""

    query: QueryDict
    case: Case
    member: StaffMember
    opened: dict[int, bytes]  # CaseKey pk -> the case private key this member opened
    details: CaseDetails | None  # the case's sealed details, None when this member cannot open them
    section: str
    failed_panel: str | None = None
    returned: PanelForm | None = None

    def returned_form(self, name: str) -> Any:
        """The refused form called ``name`` if it came back to this page, else None."""
        if self.returned is not None and self.returned.name == name:
            return self.returned.form
        return None

    def returned_error(self, name: str) -> str:
        if self.returned is not None and self.returned.name == name:
            return self.returned.error
        return ""

    def returned_about(self, name: str) -> Any:
        if self.returned is not None and self.returned.name == name:
            return self.returned.about
        return None


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[[PanelRequest], Mapping[str, Any]]
    order: int
    section: str | None  # the section it is on; None: every section (only for the warnings)
    slot: str = MAIN
    visible: Callable[[StaffMember], bool] = _everyone
    # Whether something waits on this panel for this member (a badge beside its section's tab):
    # a few counting queries, never an opening of anything sealed.
    attention: Callable[[Case, StaffMember], bool] | None = None


@dataclass(frozen=True, repr=False)  # its context may hold opened text
class ShownPanel:
    panel: Panel
    context: Mapping[str, Any] = field(default_factory=dict)


_sections: dict[str, Section] = {}
_panels: dict[str, Panel] = {}


def register_section(section: Section) -> None:
    if section.key in _sections and _sections[section.key] != section:
        raise ImproperlyConfigured(f"case page section {section.key!r} is registered twice")
    _sections[section.key] = section


def register_panel(panel: Panel) -> None:
    if panel.name in _panels and _panels[panel.name] != panel:
        raise ImproperlyConfigured(f"case page panel {panel.name!r} is registered twice")
    if panel.slot not in SLOTS:
        raise ImproperlyConfigured(f"case page panel {panel.name!r}: no slot {panel.slot!r}")
    if panel.section is None and panel.slot == MAIN:
        raise ImproperlyConfigured(f"case page panel {panel.name!r} needs a section")
    _panels[panel.name] = panel


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def panels() -> list[Panel]:
    known = set(_sections)
    for panel in _panels.values():
        if panel.section is not None and panel.section not in known:
            raise ImproperlyConfigured(f"case page panel {panel.name!r} is on no registered section")
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def panel(name: str) -> Panel:
    try:
        return _panels[name]
    except KeyError:
        raise ImproperlyConfigured(f"no case page panel {name!r}") from None


def chosen(value: object) -> str:
    """The section named by ``?section=``; anything else is the conversation."""
    return value if isinstance(value, str) and value in _sections else CONVERSATION


def case_url(public_id: str, section: str = CONVERSATION) -> str:
    """The case page at ``section``: where a form of that section goes back to."""
    if section not in _sections:
        raise ValueError(f"no case page section {section!r}")
    url = reverse("casework:case", kwargs={"public_id": public_id})
    return url if section == CONVERSATION else f"{url}?section={section}"


def attention(case: Case, member: StaffMember) -> frozenset[str]:
    """The sections where something waits for this member."""
    return frozenset(
        item.section
        for item in panels()
        if item.section is not None and item.attention is not None and item.attention(case, member)
    )


def render_case_page(
    request: HttpRequest,
    case: Case,
    *,
    failed_panel: str | None = None,
    form: PanelForm | None = None,
    status: int | None = None,
    problem: Problem | None = None,
) -> HttpResponse:
    """The case page at one section: the failed panel's when a form comes back with an error
    (status 400 unless said otherwise), otherwise the one the address asks for. Only that
    section's panels (and the warnings) are built; the view is audited before anything sealed
    is opened for the page. The case is read again here, as this member may see it, so a page
    never shows a case its caller did not check, or the case as it was before a change."""
    member = staff_member(request)
    case = case_for_member(member, case.public_id)  # Http404 for a case this member may not see
    shown = chosen(request.GET.get("section"))
    if not _sections[shown].visible(member):
        shown = CONVERSATION
    if failed_panel is not None:
        owner = panel(failed_panel)
        shown = owner.section or CONVERSATION
    try:
        opened = keys.case_private_keys(case, member, staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None
    with transaction.atomic():  # committed before the case content is decrypted for the page
        audit_record(actor=member, action=Action.CASE_VIEW, case=case)
    sealed_to = CaseKey.objects.get(case=case, version=case.details_key_version)
    details = selectors.case_details_for_staff(case, opened[sealed_to.pk]) if sealed_to.pk in opened else None
    page = PanelRequest(
        query=request.GET,
        case=case,
        member=member,
        opened=opened,
        details=details,
        section=shown,
        failed_panel=failed_panel,
        returned=form,
    )
    slots: dict[str, list[ShownPanel]] = {slot: [] for slot in SLOTS}
    for item in panels():
        if item.section not in (None, shown) or not item.visible(member):
            continue
        slots[item.slot].append(ShownPanel(item, item.context(page)))
    context: dict[str, Any] = {
        "case": case,
        "details": details,
        "section": shown,
        "section_links": [(item, case_url(case.public_id, item.key)) for item in sections() if item.visible(member)],
        "attention": attention(case, member),
        "problem": problem,
        "panels": slots,
        "time_zone": settings.TIME_ZONE,
    }
    if status is None:
        status = 400 if failed_panel is not None else 200
    return render(request, "casework/case.html", context, status=status)
