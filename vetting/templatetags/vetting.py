"""Template helpers: the vetting panel on the case page and the red-flag mark in the inbox."""

from __future__ import annotations

from typing import Any

from django import template

from vetting import selectors
from vetting.forms import CheckTickForm, SignOffForm

register = template.Library()


@register.inclusion_tag("vetting/case_panel.html", takes_context=True)
def vetting_panel(context: Any, case: Any) -> dict[str, Any]:
    request = context["request"]
    return {
        "case": case,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "panel": selectors.vetting_panel(case, request.user, request.staff_private_key),
        "check_form": context.get("check_form") or CheckTickForm(),
        "sign_off_form": context.get("sign_off_form") or SignOffForm(),
        "vetting_error": context.get("vetting_error", ""),
    }


@register.filter
def red_flagged(case: Any) -> bool:
    # The inbox loads its page's cases with this already (casework.selectors.inbox_page).
    known = getattr(case, "red_flagged", None)
    return selectors.is_red_flagged(case) if known is None else bool(known)
