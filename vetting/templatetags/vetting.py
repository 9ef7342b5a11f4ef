"""Template helpers: the vetting panel, the sensitive-item button beside the reply box and the
red-flag alert on the case page, the red-flag mark in lists."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.access import staff_keys
from vetting import selectors
from vetting.forms import CheckTickForm, SignOffForm
from vetting.models import RedFlagMatch

register = template.Library()


@register.inclusion_tag("vetting/case_panel.html", takes_context=True)
def vetting_panel(context: Any, case: Any) -> dict[str, Any]:
    request = context["request"]
    return {
        "case": case,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "panel": selectors.vetting_panel(case, request.user, staff_keys(request).private_key),
        "check_form": context.get("check_form") or CheckTickForm(),
        "sign_off_form": context.get("sign_off_form") or SignOffForm(),
        "vetting_error": context.get("vetting_error", ""),
    }


@register.inclusion_tag("vetting/reply_sensitive.html", takes_context=True)
def sensitive_share(context: Any, case: Any) -> dict[str, Any]:
    """Beside the reply box: the button that puts a sensitive item into the reply, or why not."""
    member = context["request"].user
    panel = {
        "can_share": selectors.can_share_sensitive(case, member),
        "under_duress": case.under_duress_since is not None,
    }
    return {"case": case, "panel": panel, "sensitive_error": context.get("sensitive_error", "")}


@register.simple_tag
def red_flag_matches(case: Any) -> list[Any]:
    """For the alert block at the top of the case page, with the other warnings."""
    return list(RedFlagMatch.objects.filter(case=case).order_by("matched_at", "pk"))


@register.filter
def red_flagged(case: Any) -> bool:
    # The inbox loads its page's cases with this already (casework.selectors.inbox_page).
    known = getattr(case, "red_flagged", None)
    return selectors.is_red_flagged(case) if known is None else bool(known)
