from django import template

from evacuation.dashboard.charts import count

register = template.Library()


@register.filter
def grouped(value: int) -> str:
    """A count written the way the reader's language writes numbers (10 000 or 10,000)."""
    return count(value)
