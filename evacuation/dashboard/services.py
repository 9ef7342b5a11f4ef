"""The dashboard writes nothing but its audit entry."""

from __future__ import annotations

from django.db import transaction

from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record


def dashboard_viewed(*, actor: StaffMember) -> None:
    """Committed before the page is rendered: a coordinator who reads the numbers is on record."""
    with transaction.atomic():
        audit_record(actor=actor, action=Action.DASHBOARD_VIEW, details={})
