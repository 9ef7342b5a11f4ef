"""``{% case_panels slot %}``: the panels the view built for one slot of the case page
(casework.case_page), each rendered in a context of its own: the page's names
(case_page.PAGE_NAMES) and the panel's, never another panel's, even for a panel shown inside
another (the reply box's). Nothing is queried or opened here: the view built every panel's
context before rendering."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from casework.case_page import PAGE_NAMES, ShownPanel

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Context, shown: Iterable[ShownPanel]) -> SafeString:
    engine = context.template.engine  # type: ignore[union-attr]  # set while a template renders
    page = {name: context[name] for name in PAGE_NAMES if name in context}
    parts = []
    for item in shown:
        panel_template = engine.get_template(item.panel.template)
        parts.append(panel_template.render(context.new({**page, **item.context})))
    # Blank when no panel shows anything, so a slot's frame can be left out.
    return mark_safe("".join(parts).strip())  # noqa: S308  (rendered templates, escaped as they rendered)
