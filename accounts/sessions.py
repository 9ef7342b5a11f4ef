"""Which console sessions can never be used again (for the purge in core/sessions.py).

``accounts.access.staff_required`` turns away a session whose member was disabled or removed,
or whose session generation is not the member's (ended by "sign out everywhere" or a password
change elsewhere). Such a session's row still holds the member's sealed keys, so the worker
deletes it instead of waiting for it to expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import SESSION_KEY

from accounts.keyring import SESSION_GENERATION
from accounts.models import StaffMember
from core.sessions import dead_session_finder


@dead_session_finder
def ended_staff_sessions(sessions: Mapping[str, Mapping[str, Any]]) -> set[str]:
    claimed = {key: str(data[SESSION_KEY]) for key, data in sessions.items() if SESSION_KEY in data}
    ids = {member_id for member_id in claimed.values() if member_id.isdigit()}
    current = dict(StaffMember.objects.filter(pk__in=ids, is_active=True).values_list("pk", "session_generation"))
    return {
        key
        for key, member_id in claimed.items()
        if not member_id.isdigit() or sessions[key].get(SESSION_GENERATION) != current.get(int(member_id), -1)
    }
