"""retention's part of the case page: when the case will be shredded, or that it is on hold,
with the hold toggle; and a warning on every section when the person asked for deletion."""

from __future__ import annotations


def register() -> None:
    pass
