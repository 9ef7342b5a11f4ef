"""Console views of the evidence locker.

Case-scoped views fetch the case through casework.access.case_for_member (404 for missing and
not-yours alike), then answer 403 to a member who does not keep evidence
(accounts.permissions.can_keep_evidence) and 404 to one without the case key. Each write calls
one service and goes back to the Evidence section; a refused form is shown again in place, with
what was typed. Opening an item is a custody entry and an audit entry, committed before
anything of it is shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.access import staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from casework import keys
from casework.access import case_for_member
from casework.case_page import NOT_DONE, NOT_SAVED, PanelForm, Problem, case_url, render_case_page
from casework.models import Case, Message
from casework.sealed import Refused, open_text, save_edit
from evidence import crypto, derivatives, esf, exports, selectors, services
from evidence.custody import log_public_key
from evidence.derivatives import PREVIEW_KEY
from evidence.events import event_create, open_event
from evidence.forms import (
    USE_LABELS,
    ConsentForm,
    EventForm,
    ExportForm,
    MessageKeepForm,
    ReviewForm,
    TestimonyForm,
    WithdrawForm,
    consent_label,
    span_label,
    uses_text,
)
from evidence.models import Consent, Derivative, Event, EvidenceItem
from evidence.panels import EVIDENCE
from redaction.package import key_fingerprint
from redaction.pipeline import Proposed, person_of
from redaction.pipeline import render as render_plan

PANEL = "evidence"


def _to_section(case: Case) -> HttpResponse:
    return redirect(case_url(case.public_id, EVIDENCE))


def _keeper_case(request: HttpRequest, public_id: str) -> tuple[StaffMember, Case]:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_keep_evidence(member):
        raise PermissionDenied
    return member, case


def _opened(case: Case, member: StaffMember, request: HttpRequest) -> dict[int, bytes]:
    try:
        return keys.case_private_keys(case, member, staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None


def _again(request: HttpRequest, case: Case, returned: PanelForm, anchor: str, *, done: bool = False) -> HttpResponse:
    """The case page at the Evidence section with the refused form in place."""
    problem = Problem(NOT_DONE if done else NOT_SAVED, anchor)
    return render_case_page(request, case, failed_panel=PANEL, form=returned, problem=problem)


def _consent(case: Case, consent_id: str | uuid.UUID) -> Consent:
    consent = selectors.consent_on_case(case, uuid.UUID(str(consent_id)))
    if consent is None:
        raise Http404
    return consent


@staff_required
@require_POST
def consent_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _again(request, case, PanelForm("consent", form), "evidence-consent")
    data = form.cleaned_data
    terms = services.ConsentTerms(uses=tuple(data["uses"]), redacted_only=data["redacted_only"], how=data["how"])
    try:
        services.consent_record(case=case, actor=member, actor_private_key=staff_keys(request).private_key, terms=terms)
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _again(request, case, PanelForm("consent", form, error=str(refused)), "evidence-consent")
    messages.success(request, _("Consent recorded."))
    return _to_section(case)


@staff_required
@require_POST
def consent_withdraw(request: HttpRequest, public_id: str, consent_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consent = _consent(case, consent_id)
    form = WithdrawForm(request.POST, consent_id=consent.pk)
    if not form.is_valid():
        return _again(request, case, PanelForm("withdraw", form, about=consent.pk), f"consent-{consent.pk}", done=True)
    try:
        covered = services.consent_revoke(
            consent=consent, actor=member, actor_private_key=staff_keys(request).private_key
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        returned = PanelForm("withdraw", form, error=str(refused), about=consent.pk)
        return _again(request, case, returned, f"consent-{consent.pk}", done=True)
    messages.success(request, _("Consent withdrawn. Items kept under it: %(count)d.") % {"count": covered})
    return _to_section(case)


@staff_required
@require_POST
def testimony_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consents = selectors.case_consents(case, _opened(case, member, request))
    form = TestimonyForm(request.POST, consents=consents)
    if not form.is_valid():
        return _again(request, case, PanelForm("testimony", form), "evidence-testimony")
    data = form.cleaned_data
    try:
        services.item_promote_testimony(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            consent=_consent(case, data["consent"]),
            title=data["title"],
            text=data["text"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _again(request, case, PanelForm("testimony", form, error=str(refused)), "evidence-testimony")
    messages.success(request, _("Testimony kept as evidence."))
    return _to_section(case)


@staff_required
@require_POST
def message_keep(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consents = selectors.case_consents(case, _opened(case, member, request))
    message_id = request.POST.get("message", "")
    form = MessageKeepForm(request.POST, consents=consents, message_id=message_id)
    if not form.is_valid():
        about = form.cleaned_data.get("message")
        anchor = f"message-{about}" if about else "evidence-messages"
        return _again(request, case, PanelForm("keep", form, about=about), anchor)
    data = form.cleaned_data
    message = Message.objects.filter(case=case, pk=data["message"]).first()
    if message is None:
        raise Http404
    try:
        services.item_promote_message(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            message=message,
            consent=_consent(case, data["consent"]),
            title=data["title"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        returned = PanelForm("keep", form, error=str(refused), about=message.pk)
        return _again(request, case, returned, f"message-{message.pk}")
    messages.success(request, _("Message kept as evidence."))
    return _to_section(case)


@staff_required
@require_GET
def item(request: HttpRequest, public_id: str, item_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    found = selectors.item_on_case(case, item_id)
    if found is None:
        raise Http404
    try:  # the custody and audit entries are committed before anything of the item is opened
        services.items_viewed(items=[found], actor=member, actor_private_key=staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None
    opened = _opened(case, member, request)
    view = selectors.open_item(found, opened)
    consent = selectors.open_consent(found.consent, opened)
    context = {
        "case": case,
        "item": view,
        "text": view.original.decode("utf-8", errors="replace") if view.original is not None else None,
        "sha256": view.original_sha256.hex() if view.original_sha256 is not None else None,
        "consent": consent,
        "consent_label": consent_label(consent),
        "uses": uses_text(consent.uses) if consent.uses is not None else None,
        "trail": selectors.custody_trail(found, opened),
        "can_redact": view.original is not None,
        "derivative": found.derivatives.select_related("reviewed_by").order_by("-made_at").first(),
        "back": case_url(case.public_id, EVIDENCE),
    }
    return render(request, "evidence/item.html", context)


@staff_required
@require_GET
def custody(request: HttpRequest) -> HttpResponse:
    """The custody log's state and the key to publish. Nothing of any case is on this page."""
    if not permissions.can_keep_evidence(staff_member(request)):
        raise PermissionDenied
    state = selectors.custody_state()
    latest = state.check.latest if state.check is not None else None
    context = {
        "state": state,
        "latest": latest,
        "root_hash": latest.root_hash.hex() if latest is not None else "",
        "fingerprint": key_fingerprint(log_public_key()),
    }
    return render(request, "evidence/custody.html", context)


# --- redacted copies ---------------------------------------------------------------------------


def _item_of(case: Case, item_id: uuid.UUID) -> EvidenceItem:
    found = selectors.item_on_case(case, item_id)
    if found is None:
        raise Http404
    return found


def _review_url(case: Case, item: EvidenceItem) -> str:
    return reverse("evidence:derivative_review", kwargs={"public_id": case.public_id, "item_id": item.pk})


@staff_required
@require_POST
def derivative_propose(request: HttpRequest, public_id: str, item_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    found = _item_of(case, item_id)
    if found.kind == EvidenceItem.Kind.ATTACHMENT:
        raise Http404  # a file's copy is painted, not rewritten: not on this page
    opened = _opened(case, member, request)
    try:
        derivatives.derivative_propose(
            item=found, actor=member, actor_private_key=staff_keys(request).private_key, opened=opened
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("evidence:item", public_id=case.public_id, item_id=found.pk)
    messages.success(request, _("A redacted copy was proposed: review it below."))
    return redirect(_review_url(case, found))


def _span_key(span: Proposed) -> str:
    return f"{span.start}-{span.end}-{span.label}"


def _candidates(plan: derivatives.Plan) -> list[Proposed]:
    """What the reviewer decides on: every span removed now, then every proposal taken back that
    does not overlap one of them (shown so it can be put back), in text order."""
    shown = list(plan.removals)
    for proposal in plan.proposed:
        if proposal not in shown and all(proposal.end <= s.start or s.end <= proposal.start for s in shown):
            shown.append(proposal)
    return sorted(shown, key=lambda span: span.start)


def _with_added(text: str, removals: list[Proposed], words: str, label: str) -> list[Proposed]:
    """The spans for every place ``words`` appears in ``text`` that no removal covers yet."""
    added: list[Proposed] = []
    person = person_of(words) if label == "PERSON" else ""
    start = text.find(words)
    while start != -1:
        end = start + len(words)
        if all(end <= other.start or other.end <= start for other in [*removals, *added]):
            added.append(Proposed(start, end, label, "staff", person))
        start = text.find(words, end)
    return added


@dataclass(frozen=True)
class _Piece:
    text: str
    key: str = ""  # a span's key; "" for text between spans
    label: str = ""
    replacement: str | None = None  # None: taken back, stays in the text
    checked: bool = False


def _pieces(text: str, candidates: Sequence[Proposed], removals: Sequence[Proposed], checked: set[str]) -> list[_Piece]:
    replacements = dict(
        zip(sorted(removals, key=lambda r: r.start), render_plan(text, removals, PREVIEW_KEY)[2], strict=True)
    )
    pieces, at = [], 0
    for span in candidates:
        pieces.append(_Piece(text[at : span.start]))
        key = _span_key(span)
        pieces.append(
            _Piece(text[span.start : span.end], key, span_label(span.label), replacements.get(span), key in checked)
        )
        at = span.end
    pieces.append(_Piece(text[at:]))
    return pieces


def _history(text: str, plan: derivatives.Plan) -> list[dict[str, Any]]:
    def spans(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{"text": text[r["start"] : r["end"]], "label": span_label(r["label"])} for r in raw]

    return [
        {"by": change["by"], "at": datetime.fromisoformat(change["at"]), "added": spans(change["added"]),
         "taken_back": spans(change["taken_back"])}
        for change in plan.changes
    ]  # fmt: skip


@staff_required
@require_http_methods(["GET", "POST"])
def derivative_review(request: HttpRequest, public_id: str, item_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    found = _item_of(case, item_id)
    derivative = found.derivatives.select_related("item__case", "reviewed_by", "made_by").order_by("-made_at").first()
    if derivative is None:
        raise Http404
    opened = _opened(case, member, request)
    plan = derivatives.open_plan(derivative, opened)
    original = selectors.open_item(found, opened).original
    if plan is None or original is None:
        raise Http404
    text = original.decode("utf-8", errors="replace")
    candidates = _candidates(plan)
    keys_shown = [_span_key(span) for span in candidates]
    error, conflict, status = "", None, 200
    if request.method == "POST":
        form = ReviewForm(request.POST, spans=keys_shown)
        if form.is_valid():
            data = form.cleaned_data
            kept = [span for span in candidates if _span_key(span) in set(data["keep"])]
            words = data["add_text"]
            added = _with_added(text, kept, words, data["add_label"]) if words.strip() else []
            approve = request.POST.get("approve") == "1"
            if words.strip() and not added:
                error = _("That text is not in the original, or all of it is removed already.")
            else:
                try:
                    conflict = save_edit(
                        form,
                        lambda revision: derivatives.derivative_review(
                            derivative=derivative,
                            actor=member,
                            actor_private_key=staff_keys(request).private_key,
                            opened=opened,
                            removals=[*kept, *added],
                            revision=revision,
                            approve=approve,
                        ),
                    )
                except keys.NoAccess:
                    raise Http404 from None
                except Refused as refused:
                    error = str(refused)
                if not error and conflict is None:
                    done = _("Redacted copy approved.") if approve else _("Redacted copy saved.")
                    messages.success(request, done)
                    return redirect(_review_url(case, found))
        status = 409 if conflict is not None else 400
        checked = set(form.data.getlist("keep")) if hasattr(form.data, "getlist") else set()
    else:
        form = ReviewForm(initial={"revision": derivative.revision}, spans=keys_shown)
        checked = {_span_key(span) for span in plan.removals}
    context = {
        "case": case,
        "item": selectors.open_item(found, opened),
        "derivative": derivative,
        "pieces": _pieces(text, candidates, plan.removals, checked),
        "preview": derivatives.preview(derivative, opened),
        "history": _history(text, plan),
        "form": form,
        "error": error,
        "conflict": conflict,
        "item_url": reverse("evidence:item", kwargs={"public_id": case.public_id, "item_id": found.pk}),
    }
    return render(request, "evidence/review.html", context, status=status)


# --- export packages ---------------------------------------------------------------------------


def _exportable(case: Case, opened: dict[int, bytes]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The items that may be chosen (an approved copy, consent in force) and the others, each
    with why not."""
    rows = EvidenceItem.objects.filter(case=case).select_related("case", "consent").order_by("promoted_at")
    approved = set(
        Derivative.objects.filter(item__case=case, reviewed_at__isnull=False).values_list("item_id", flat=True)
    )
    choices, others = [], []
    for row in rows:
        view = selectors.open_item(row, opened)
        title = view.title if view.title is not None else _("cannot be opened with your key")
        if row.consent.revoked_at is not None:
            others.append({"title": title, "why": _("the person withdrew consent")})
        elif row.pk not in approved:
            others.append({"title": title, "why": _("no approved redacted copy")})
        else:
            choices.append((str(row.pk), title))
    return choices, others


def _event_choices(case: Case, opened: dict[int, bytes]) -> list[tuple[str, str]]:
    choices = []
    for row in Event.objects.filter(case=case).select_related("case").order_by("created_at"):
        content = open_event(row, opened)
        choices.append((str(row.pk), content.title if content is not None else _("cannot be opened with your key")))
    return choices


def _earlier_exports(case: Case, opened: dict[int, bytes]) -> list[dict[str, Any]]:
    flagged = {export.pk for export in exports.exports_with_withdrawn_consent(case)}
    rows = []
    for export in case.evidence_exports.select_related("made_by").order_by("-made_at"):
        name = open_text(
            opened, export.case_key_id, bytes(export.recipient_ct), ctx=crypto.export_recipient_ctx(export.id, case)
        )
        rows.append(
            {
                "export": export,
                "recipient": name,
                "kind": USE_LABELS.get(export.recipient_kind, export.recipient_kind),
                "items": len(export.item_ids),
                "withdrawn": export.pk in flagged,
            }
        )
    return rows


@staff_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    opened = _opened(case, member, request)
    choices, others = _exportable(case, opened)
    events = _event_choices(case, opened)
    error, status = "", 200
    if request.method == "POST":
        form = ExportForm(request.POST, items=choices, events=events)
        if form.is_valid():
            data = form.cleaned_data
            wanted = EvidenceItem.objects.filter(case=case, pk__in=data["items"]).select_related("case", "consent")
            chosen_events = Event.objects.filter(case=case, pk__in=data["events"]).select_related("case")
            export_request = exports.ExportRequest(
                data["recipient_kind"], data["recipient_name"], list(wanted.order_by("promoted_at")),
                list(chosen_events.order_by("created_at")),
            )  # fmt: skip
            try:
                zipped, made = exports.export_build(
                    case=case, actor=member, actor_private_key=staff_keys(request).private_key, opened=opened,
                    request=export_request,
                )  # fmt: skip
            except keys.NoAccess:
                raise Http404 from None
            except Refused as refused:
                error = str(refused)
            else:
                response = HttpResponse(zipped, content_type="application/zip")
                name = f"evidence-{made.made_at:%Y%m%d-%H%M}-{made.pk.hex[:8]}.zip"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                response["Cache-Control"] = "no-store"
                return response
        status = 400
    else:
        form = ExportForm(items=choices, events=events)
    context = {
        "case": case,
        "form": form,
        "error": error,
        "others": others,
        "earlier": _earlier_exports(case, opened),
        "back": case_url(case.public_id, EVIDENCE),
    }
    return render(request, "evidence/export.html", context, status=status)


# --- events ------------------------------------------------------------------------------------


def _event_rows(case: Case, opened: dict[int, bytes]) -> list[dict[str, Any]]:
    russian = get_language() == "ru"

    def label(code: str, vocabulary: Mapping[str, tuple[str, str]]) -> str:
        en, ru = vocabulary.get(code, (code, code))
        return ru if russian else en

    rows = []
    for row in Event.objects.filter(case=case).select_related("case", "created_by").order_by("created_at"):
        content = open_event(row, opened)
        acts = (
            [
                {
                    "type": label(act.type, esf.ACT_TYPES),
                    "victim": act.victim,
                    "units": ", ".join(act.perpetrator_units),
                }
                for act in content.acts
            ]
            if content is not None
            else []
        )
        when = (
            f"{content.start.date} ({label(content.start.precision, esf.DATE_PRECISION)})"
            if content is not None and content.start is not None
            else ""
        )
        rows.append({"row": row, "event": content, "acts": acts, "when": when})
    return rows


@staff_required
@require_http_methods(["GET", "POST"])
def events(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    opened = _opened(case, member, request)
    error, status = "", 200
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            try:
                event_create(
                    case=case, actor=member, actor_private_key=staff_keys(request).private_key, content=form.event()
                )
            except keys.NoAccess:
                raise Http404 from None
            except Refused as refused:
                error = str(refused)
            else:
                messages.success(request, _("Event recorded."))
                return redirect("evidence:events", public_id=case.public_id)
        status = 400
    else:
        form = EventForm(initial={"precision": "day", "source_type": "victim", "reliability": "unknown"})
    context = {
        "case": case,
        "form": form,
        "error": error,
        "events": _event_rows(case, opened),
        "back": case_url(case.public_id, EVIDENCE),
    }
    return render(request, "evidence/events.html", context, status=status)
