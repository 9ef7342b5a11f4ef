"""Console views for teams, owed case keys, and the cases in a member's scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import StaffMember, Team
from audit.models import Action
from audit.services import audit_record
from casework import scopes, teams
from casework.team_forms import CaseTeamForm, TeamForm, TeamMemberForm


def _team_or_404(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404
    return team


@coordinator_required
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            team = teams.team_create(actor=staff_member(request), name=form.cleaned_data["name"])
        except teams.TeamRefused as refused:
            error = str(refused)
        else:
            return redirect("casework:team", team_id=team.pk)
    rows = Team.objects.annotate(
        member_count=Count("members", distinct=True),
        case_count=Count("cases", distinct=True),
        pending_count=Count("pending_wraps", distinct=True),
    ).order_by("name")
    status = 400 if request.method == "POST" else 200
    return render(request, "casework/teams.html", {"teams": rows, "form": form, "error": error}, status=status)


def _render_team(
    request: HttpRequest,
    team: Team,
    *,
    status: int = 200,
    change: teams.TeamChange | None = None,
    error: str = "",
    member_form: TeamMemberForm | None = None,
    case_form: CaseTeamForm | None = None,
) -> HttpResponse:
    member = staff_member(request)
    context = {
        "team": team,
        "members": team.members.order_by("username"),
        "cases": scopes.with_triage_fields(team.cases.all(), member),
        "pending": teams.pending_wraps_visible_to(member, team=team),
        "member_form": member_form or TeamMemberForm(team=team),
        "case_form": case_form or CaseTeamForm(team=team),
        "change": change,
        "error": error,
    }
    return render(request, "casework/team.html", context, status=status)


@coordinator_required
@require_GET
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    return _render_team(request, _team_or_404(team_id))


@coordinator_required
@require_POST
def team_member_add(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(team_id)
    form = TeamMemberForm(request.POST, team=team)
    if not form.is_valid():
        return _render_team(request, team, status=400, member_form=form)
    try:
        change = teams.team_member_add(
            team=team,
            actor=staff_member(request),
            actor_private_key=staff_keys(request).private_key,
            member=form.cleaned_data["member"],
        )
    except teams.TeamRefused as refused:
        return _render_team(request, team, status=400, error=str(refused))
    return _render_team(request, team, change=change)


@coordinator_required
@require_POST
def team_member_remove(request: HttpRequest, team_id: int, member_id: int) -> HttpResponse:
    team = _team_or_404(team_id)
    removed = StaffMember.objects.filter(pk=member_id).first()
    if removed is None:
        raise Http404
    try:
        change = teams.team_member_remove(
            team=team,
            actor=staff_member(request),
            actor_private_key=staff_keys(request).private_key,
            member=removed,
        )
    except teams.TeamRefused as refused:
        return _render_team(request, team, status=400, error=str(refused))
    return _render_team(request, team, change=change)


@coordinator_required
@require_POST
def team_case_assign(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(team_id)
    form = CaseTeamForm(request.POST, team=team)
    if not form.is_valid():
        return _render_team(request, team, status=400, case_form=form)
    try:
        change = teams.case_team_assign(
            case=form.cleaned_data["case"],
            team=team,
            actor=staff_member(request),
            actor_private_key=staff_keys(request).private_key,
        )
    except teams.TeamRefused as refused:
        return _render_team(request, team, status=400, error=str(refused))
    return _render_team(request, team, change=change)


@staff_required
@require_http_methods(["GET", "POST"])
def pending_keys(request: HttpRequest) -> HttpResponse:
    """Case keys owed to team members; POST hands on every one the member holds. Part of the
    case list (accounts.permissions.can_see_case_list): a role without one holds no case keys."""
    member = staff_member(request)
    if not permissions.can_see_case_list(member):
        raise PermissionDenied
    if request.method == "POST":
        done = teams.pending_wraps_complete(actor=member, actor_private_key=staff_keys(request).private_key)
        if done:
            messages.success(request, _("Case keys handed on: %(count)d.") % {"count": done})
        return redirect("casework:pending_keys")
    rows = teams.pending_wraps_visible_to(member)
    context = {
        "rows": rows,
        "can_complete": any(row.can_complete and row.key_trusted for row in rows),  # type: ignore[attr-defined]  # set by pending_wraps_visible_to
    }
    return render(request, "casework/pending_keys.html", context)


@staff_required
@require_GET
def cases_in_scope(request: HttpRequest) -> HttpResponse:
    """The cases a member may know exist, with the plaintext triage fields only."""
    member = staff_member(request)
    if not permissions.can_see_case_list(member):
        raise PermissionDenied
    scope = scopes.scope_for(member)
    with transaction.atomic():
        audit_record(actor=member, action=Action.CASES_LIST_SCOPE, details={"scope": str(scope)})
    page = scopes.scoped_cases_page(member, request.GET.get("page"))
    return render(request, "casework/cases_in_scope.html", {"page": page, "scope": scope})
