"""The one way console views fetch a case: missing and not-yours look the same (404)."""

from __future__ import annotations

from django.http import Http404

from accounts.models import StaffMember
from casework.models import Case
from casework.selectors import cases_visible_to


def case_for_member(member: StaffMember, public_id: str) -> Case:
    case = cases_visible_to(member).filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case
