"""Console views for cases: inbox, case page, reply, mark as read, attachments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_member, staff_required
from accounts.models import RecoveryKey, StaffMember
from audit.models import Action
from audit.services import audit_record
from casenotes.panels import case_page_context as casenotes_context
from casenotes.panels import reply_box_context as casenotes_reply_context
from casework import hooks, keys, sections, selectors, services, teams
from casework.access import case_for_member
from casework.forms import (
    EDIT_CONFLICT_MESSAGE,
    CaseFlagsForm,
    CaseMemberForm,
    CodenameReplaceForm,
    DecoyReplyForm,
    DuressClearForm,
    MemberRemoveForm,
    MessageReleaseForm,
    StaffReplyForm,
)
from casework.models import Case, CaseKey
from core.body import NOT_WHOLE, body_incomplete, handles_incomplete_body
from core.downloads import attachment_response
from evacuation.checkins.panels import case_page_context as checkins_context
from evacuation.funds.panels import case_page_context as funds_context
from evacuation.handoff.panels import case_page_context as handoff_context
from evacuation.plans.panels import case_page_context as evac_plans_context
from evacuation.safehouses.panels import case_page_context as safehouses_context
from notifications import reach as notify_reach

COVER_SENSITIVE_REFUSED = _(
    "Not sent. This reply seems to contain sensitive information, and whoever uses the danger word "
    "may be a captor: never put addresses, meeting points, names or other people's details in the cover "
    "conversation."
)

# The status line at the top of the case page when an action did not go through: the form with
# the error may be screens further down, so the line says so and links to it.
NOT_SENT = _("Not sent — see below.")
NOT_SAVED = _("Not saved — see below.")
NOT_DONE = _("Not done — see below.")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("casework:inbox")


@staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    page, rows = selectors.inbox_page(member, request.staff_private_key, request.GET.get("page"))  # type: ignore[attr-defined]
    context = {
        "page": page,
        "rows": rows,
        "needs_recovery_key": not RecoveryKey.objects.exists(),
        # The first night: a key holder must notice that a new colleague waits for a key, and
        # the new colleague why the inbox is empty (casework.teams).
        "keys_to_hand_on": teams.keys_to_hand_on(member),
        "keys_owed_to_me": teams.keys_owed_to(member),
        "reach": notify_reach.gaps_for(member, timezone.now()),  # nobody would be told of a case in danger
    }
    return render(request, "casework/inbox.html", context)


def _render_case(
    request: HttpRequest,
    public_id: str,
    form: StaffReplyForm | None = None,
    status: int = 200,
    *,
    member_form: CaseMemberForm | None = None,
    membership_error: str = "",
    extra: dict[str, object] | None = None,
    problem: tuple[str, str] | None = None,
    section: str | None = None,
) -> HttpResponse:
    """The case page at one section (casework.sections): ``section`` when a form of that
    section comes back with an error, otherwise the one the address asks for. Only that
    section's content is opened and shown; the warnings are shown on every section.
    problem: (what happened, the id of the page section to look at) for the status line."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    private_key = request.staff_private_key  # type: ignore[attr-defined]
    shown = section or sections.chosen(request.GET.get("section"))
    try:
        case_keys = keys.case_private_keys(case, member, private_key)
    except keys.NoAccess:
        raise Http404 from None
    with transaction.atomic():  # committed before the case content is decrypted for the page
        audit_record(actor=member, action=Action.CASE_VIEW, case=case)
    sealed_to = CaseKey.objects.get(case=case, version=case.details_key_version)
    details = selectors.case_details_for_staff(case, case_keys[sealed_to.pk]) if sealed_to.pk in case_keys else None
    context: dict[str, object] = {
        "case": case,
        "details": details,
        "section": shown,
        "section_links": [(item, sections.case_url(case.public_id, item.key)) for item in sections.SECTIONS],
        "attention": sections.attention(case, member),
        "problem": {"text": problem[0], "anchor": problem[1]} if problem else None,
        "case_untrusted": not keys.case_trusted(case),
    }
    if shown == sections.CONVERSATION:
        conversation = selectors.conversation_page_for_staff(case, case_keys, request.GET.get("page"))
        context.update(
            {
                "real_thread": [message for message in conversation.messages if not message.is_decoy],
                # The cover story is shown apart, folded, so nobody answers its fake "person" by mistake.
                "decoy_thread": [message for message in conversation.messages if message.is_decoy],
                "time_zone": settings.TIME_ZONE,
                "conversation": conversation,
                "form": form or StaffReplyForm(),  # the reply box, empty unless a draft is being shown again
                "duress_form": DuressClearForm(),
                "decoy_form": DecoyReplyForm(),
                "has_cover_conversation": selectors.case_has_cover_conversation(case),
                "any_not_authentic": any(not message.authentic for message in conversation.messages),
                **casenotes_reply_context(language=details.language if details else None),
            }
        )
    elif shown == sections.NOTES:
        context.update(casenotes_context(case=case, member=member, opened=case_keys))
    elif shown == sections.PLAN:
        context.update(evac_plans_context(case=case))
    elif shown == sections.MONEY:
        context.update(funds_context(case=case, member=member, opened=case_keys))
    elif shown == sections.SAFE_HOUSE:
        context.update(safehouses_context(case=case, member=member))
    elif shown == sections.CHECKINS:
        context.update(checkins_context(case=case, member=member, opened=case_keys))
    elif shown == sections.ACCESS:
        holders = keys.current_holders(case)
        context.update(
            {
                "holders": holders,
                # Whom this member may take off (themselves: leave); accounts.permissions decides.
                "removable": {
                    holder.pk for holder in holders if permissions.can_remove_member(member, holder, holders)
                },
                "member_form": member_form or CaseMemberForm(case=case),
                "membership_error": membership_error,
                "codename_form": CodenameReplaceForm(),
                **handoff_context(case=case, member=member, opened=case_keys),
            }
        )
    elif shown == sections.STATE:
        context["flags_form"] = _flags_form(case, details)
    context.update(extra or {})
    return render(request, "casework/case.html", context, status=status)


@staff_required
@require_GET
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _render_case(request, public_id)


@handles_incomplete_body
@staff_required
@require_POST
def case_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = StaffReplyForm(request.POST)
    if body_incomplete(request):  # nothing is sent; what arrived stays in the reply box
        form.add_error(None, NOT_WHOLE)
        return _render_case(request, public_id, form, status=400, problem=(NOT_SENT, "reply"))
    if not form.is_valid():
        return _render_case(request, public_id, form, status=400, problem=(NOT_SENT, "reply"))
    try:
        message = services.message_post_from_staff(
            case=case,
            member=member,
            member_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            signing_key=request.staff_signing_key,  # type: ignore[attr-defined]
            body=form.cleaned_data["body"],
            sensitive_confirmed=request.POST.get("send_sensitive") == "yes",
        )
    except hooks.ReplyStopped as stopped:  # the draft stays in the form
        extra = {"sensitive_stop": stopped}
        return _render_case(request, public_id, form, status=400, extra=extra, problem=(NOT_SENT, "reply"))
    except keys.NoAccess:
        raise Http404 from None
    if message.held:
        messages.warning(request, _("Reply held: the person sees it only once a coordinator releases it."))
    else:
        messages.success(request, _("Reply sent."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def decoy_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    """A reply in the cover conversation shown after a danger-word login."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = DecoyReplyForm(request.POST)
    if not form.is_valid():
        extra = {"decoy_form": form, "cover_open": True}
        return _render_case(request, public_id, status=400, extra=extra, problem=(NOT_SENT, "cover"))
    try:
        services.decoy_reply_post(
            case=case,
            member=member,
            member_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            signing_key=request.staff_signing_key,  # type: ignore[attr-defined]
            body=form.cleaned_data["decoy_body"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        extra = {"decoy_form": form, "decoy_error": str(refused), "cover_open": True}
        return _render_case(request, public_id, status=403, extra=extra, problem=(NOT_SENT, "cover"))
    except hooks.ReplyStopped:  # the draft stays in the form
        extra = {"decoy_form": form, "decoy_error": COVER_SENSITIVE_REFUSED, "cover_open": True}
        return _render_case(request, public_id, status=400, extra=extra, problem=(NOT_SENT, "cover"))
    messages.success(request, _("Sent in the cover conversation."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def case_mark_read(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    services.case_mark_read(case=case, member=member)
    messages.success(request, _("The person's messages are marked as read."))
    return redirect("casework:inbox")


@staff_required
@require_http_methods(["GET"])
def case_attachment(request: HttpRequest, public_id: str, attachment_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    found = selectors.attachment_for_staff(case, member, request.staff_private_key, attachment_id)  # type: ignore[attr-defined]
    if found is None:
        raise Http404
    view, chunks = found
    with transaction.atomic():
        audit_record(
            actor=member, action=Action.ATTACHMENT_DOWNLOAD, case=case, details={"attachment": str(attachment_id)}
        )
    return attachment_response(view.name, view.content_type, view.size, chunks)


@staff_required
@require_http_methods(["GET"])
def case_attachment_original(request: HttpRequest, public_id: str, attachment_id: uuid.UUID) -> HttpResponse:
    """The file as the person sent it, location and camera data included: evidence, for
    coordinators only (casework/originals.py). Everyone else gets the cleaned copy above."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_open_original_files(member):
        raise PermissionDenied
    found = selectors.original_for_member(case, member, request.staff_private_key, attachment_id)  # type: ignore[attr-defined]
    if found is None:
        raise Http404
    view, chunks = found
    with transaction.atomic():
        audit_record(
            actor=member,
            action=Action.ATTACHMENT_ORIGINAL_DOWNLOAD,
            case=case,
            details={"attachment": str(attachment_id)},
        )
    return attachment_response(view.name, view.content_type, view.size, chunks)


# --- who can read a case ------------------------------------------------------------------


@staff_required
@require_POST
def case_member_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CaseMemberForm(request.POST, case=case)
    if not form.is_valid():
        return _render_case(
            request, public_id, status=400, member_form=form, problem=(NOT_DONE, "holders"), section=sections.ACCESS
        )
    try:
        services.case_member_add(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            member=form.cleaned_data["member"],
        )
    except services.MembershipRefused as refused:
        return _render_case(
            request,
            public_id,
            status=400,
            membership_error=str(refused),
            problem=(NOT_DONE, "holders"),
            section=sections.ACCESS,
        )
    messages.success(request, _("Access given."))
    return redirect(sections.case_url(case.public_id, sections.ACCESS))


@staff_required
@require_POST
def case_member_remove(request: HttpRequest, public_id: str, member_id: int) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    removed = StaffMember.objects.filter(pk=member_id).first()
    if removed is None:
        raise Http404
    confirm = MemberRemoveForm(request.POST)
    if not confirm.is_valid():
        error = str(confirm.errors["confirm"][0])
        return _render_case(
            request,
            public_id,
            status=400,
            membership_error=error,
            problem=(NOT_DONE, "holders"),
            section=sections.ACCESS,
        )
    try:
        services.case_member_remove(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            member=removed,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.MembershipRefused as refused:
        return _render_case(
            request,
            public_id,
            status=400,
            membership_error=str(refused),
            problem=(NOT_DONE, "holders"),
            section=sections.ACCESS,
        )
    if removed.pk == member.pk:  # left the case: its page is no longer theirs
        messages.success(request, _("You left the case."))
        return redirect("casework:inbox")
    messages.success(request, _("Removed from the case."))
    return redirect(sections.case_url(case.public_id, sections.ACCESS))


@coordinator_required
@require_GET
def cases_all(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    with transaction.atomic():
        audit_record(actor=member, action=Action.CASES_LIST_ALL)
    page, rows = selectors.all_cases_page(member, request.GET.get("page"))
    return render(request, "casework/cases_all.html", {"page": page, "rows": rows})


@coordinator_required
@require_http_methods(["GET", "POST"])
def staff_disable(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation; POST disables the account and rotates every case it held."""
    actor = staff_member(request)
    target = StaffMember.objects.filter(pk=member_id).first()
    if target is None:
        raise Http404
    held = selectors.cases_visible_to(target).count()
    error = ""
    if request.method == "POST":
        try:
            services.staff_disable(actor=actor, actor_private_key=request.staff_private_key, member=target)  # type: ignore[attr-defined]
        except services.MembershipRefused as refused:
            error = str(refused)
        else:
            return redirect("accounts:staff")
    context = {"target": target, "held": held, "error": error}
    return render(request, "casework/staff_disable.html", context, status=400 if error else 200)


# --- duress: held replies, clearing the duress state ----------------------------------------


@staff_required
@require_POST
def message_release(request: HttpRequest, public_id: str, message_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_release_held_reply(member):
        raise PermissionDenied
    confirm = MessageReleaseForm(request.POST)
    if not confirm.is_valid():
        extra = {"duress_error": confirm.errors["confirm"][0]}
        return _render_case(request, public_id, status=400, extra=extra, problem=(NOT_SENT, "alerts"))
    try:
        released = services.message_release(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            actor_signing_key=request.staff_signing_key,  # type: ignore[attr-defined]
            message_id=message_id,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        extra = {"duress_error": str(refused)}
        return _render_case(request, public_id, status=400, extra=extra, problem=(NOT_SENT, "alerts"))
    note = services.held_reply_release_note(case, released.created_at)
    messages.success(request, _("Reply released. %(when)s") % {"when": note})
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def case_duress_clear(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = DuressClearForm(request.POST)
    if not form.is_valid():
        extra = {"duress_form": form}
        return _render_case(request, public_id, status=400, extra=extra, problem=(NOT_DONE, "alerts"))
    try:
        services.case_duress_clear(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            reason=form.cleaned_data["reason"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        extra = {"duress_error": str(refused)}
        return _render_case(request, public_id, status=403, extra=extra, problem=(NOT_DONE, "alerts"))
    messages.success(request, _("The danger-word state is cleared."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
@never_cache
def codename_burn(request: HttpRequest, public_id: str) -> HttpResponse:
    """Shows the new codename in this one response: it is not stored, so it cannot be shown again."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    confirm = CodenameReplaceForm(request.POST)
    if not confirm.is_valid():
        extra = {"codename_form": confirm}
        return _render_case(
            request, public_id, status=400, extra=extra, problem=(NOT_DONE, "codename"), section=sections.ACCESS
        )
    try:
        issued = services.codename_burn(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        extra = {"duress_error": str(refused)}
        return _render_case(request, public_id, status=403, extra=extra, section=sections.ACCESS)
    context = {"case": case, "codename": issued.codename, "details": issued.details}
    return render(request, "casework/codename_issued.html", context)


def _flags_form(case: Case, details: services.CaseDetails | None) -> CaseFlagsForm:
    if details is None:
        return CaseFlagsForm(initial={"revision": case.revision})
    initial = {
        "revision": case.revision,
        "hostile_relative": details.hostile_relative,
        "hostile_note": details.hostile_note,
        "no_contact_via": details.no_contact_via,
    }
    return CaseFlagsForm(initial=initial)


@staff_required
@require_POST
def case_flags(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CaseFlagsForm(request.POST)
    if not form.is_valid():
        extra = {"flags_form": form}
        return _render_case(
            request, public_id, status=400, extra=extra, problem=(NOT_SAVED, "flags"), section=sections.STATE
        )
    try:
        services.case_flags_set(
            case=case,
            actor=member,
            actor_private_key=request.staff_private_key,  # type: ignore[attr-defined]
            hostile_relative=form.cleaned_data["hostile_relative"],
            hostile_note=form.cleaned_data["hostile_note"],
            no_contact_via=form.cleaned_data["no_contact_via"],
            expected_revision=form.cleaned_data["revision"],
        )
    except services.EditConflict as conflict:
        # The page shows the case as it is now; the form keeps what was typed, based on the
        # current revision, so checking and saving again is one click.
        typed = request.POST.copy()
        typed["revision"] = str(conflict.current)
        extra = {"flags_form": CaseFlagsForm(typed), "flags_conflict": EDIT_CONFLICT_MESSAGE}
        return _render_case(
            request, public_id, status=409, extra=extra, problem=(NOT_SAVED, "flags"), section=sections.STATE
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        extra = {"duress_error": str(refused)}
        return _render_case(
            request, public_id, status=403, extra=extra, problem=(NOT_SAVED, "alerts"), section=sections.STATE
        )
    messages.success(request, _("Warnings saved."))
    return redirect(sections.case_url(case.public_id, sections.STATE))
