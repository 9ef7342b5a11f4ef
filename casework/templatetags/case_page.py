"""``{% case_panels slot %}``: the panels the view built for one slot of the case page
(casework.case_page), each rendered with its own context pushed over the page's, so a panel
sees the page (the case, the member's capabilities) and its own names, never another panel's.
Nothing is queried or opened here: the view built every panel's context before rendering."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from casework.case_page import ShownPanel

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Context, shown: Iterable[ShownPanel]) -> SafeString:
    engine = context.template.engine  # type: ignore[union-attr]  # set while a template renders
    parts = []
    for item in shown:
        panel_template = engine.get_template(item.panel.template)
        with context.push(**item.context):
            parts.append(panel_template.render(context))
    # Blank when no panel shows anything, so a slot's frame can be left out.
    return mark_safe("".join(parts).strip())  # noqa: S308  (rendered templates, escaped as they rendered)
