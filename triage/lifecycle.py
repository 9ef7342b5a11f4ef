"""Moved to casework.lifecycle (the states are Case.Status).

Temporary: kept only so that casework/sections.py and branches not merged yet keep importing
from here; the integrator deletes this module once the case-page panel work is merged."""

from casework.lifecycle import (  # noqa: F401
    TRANSITIONS,
    ClosingReason,
    State,
    Transition,
    is_open,
    state_label,
    transition_for,
    transitions_from,
)
