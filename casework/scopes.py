"""Which cases each role may know exist: the one place scopes are defined.

A scope is about *existence*, never content. Content (the details, the conversation, files)
opens only with the case key, so every content view goes through casework.access, which
answers 404 to anyone holding no wrap, whatever their scope. A scope wider than the cases one
holds a key for shows only the plaintext triage columns of the others: reference, urgency,
state, when it was opened, whether it is overdue, whether it is under duress.

- all:  every case (coordinators: they run the rota, the teams and key recovery).
- team: the cases of the teams one belongs to, plus any case one holds a key for.
- own:  the cases one holds a key for.
- none: nothing. Analysts work from the register and redacted exports, not from cases, so a
        list of case references would be more than they need (need-to-know).

Logistics is "own": they are given a case key for a specific job (tickets, a safe house).
Which role has which scope is accounts.permissions.case_list_scope, with every other capability.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from accounts.models import StaffMember, TeamMembership
from casework.deadlines import overdue_q
from casework.models import Case, CaseKeyWrap
from casework.selectors import urgency_rank


class Scope(models.TextChoices):
    ALL = "all", _("All cases")
    TEAM = "team", _("My teams' cases")
    OWN = "own", _("Cases I hold the key for")
    NONE = "none", _("No cases")


def scope_for(member: StaffMember) -> Scope:
    """An unknown role or a disabled account sees nothing (fail closed)."""
    return Scope(permissions.case_list_scope(member))


def _holds_a_key(member: StaffMember) -> Q:
    return Q(pk__in=CaseKeyWrap.objects.filter(member=member).values("case_key__case_id"))


def cases_in_scope(member: StaffMember) -> QuerySet[Case]:
    scope = scope_for(member)
    if scope == Scope.ALL:
        return Case.objects.all()
    if scope == Scope.TEAM:
        teams = TeamMembership.objects.filter(member=member).values("team_id")
        return Case.objects.filter(Q(team_id__in=teams) | _holds_a_key(member))
    if scope == Scope.OWN:
        return Case.objects.filter(_holds_a_key(member))
    return Case.objects.none()


SCOPE_PAGE_SIZE = 25


def with_triage_fields(cases: QuerySet[Case], member: StaffMember) -> QuerySet[Case]:
    """``cases`` most urgent first, each with ``holds_key`` (whether its page opens for
    ``member``) and ``overdue``: plaintext columns only, nothing to decrypt."""
    current = CaseKeyWrap.objects.filter(
        case_key__case=OuterRef("pk"), case_key__version=OuterRef("key_version"), member=member
    )
    return (
        cases.select_related("team")
        .annotate(
            holds_key=Exists(current),
            overdue=ExpressionWrapper(overdue_q(timezone.now()), BooleanField()),
        )
        .order_by(
            F("under_duress_since").desc(nulls_last=True), F("overdue").desc(), urgency_rank(), "-created_at", "pk"
        )
    )


def scoped_cases_page(member: StaffMember, page_number: int | str | None) -> Page[Case]:
    """The cases ``member`` may know exist (see the module docstring), one page."""
    return Paginator(with_triage_fields(cases_in_scope(member), member), SCOPE_PAGE_SIZE).get_page(page_number)
