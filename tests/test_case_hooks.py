"""What the feature apps registered with the case aggregate (casework.hooks) and the other hook
points, in the order they run: the table in casework/hooks.py, checked."""

from __future__ import annotations

from accounts import teams as accounts_teams
from casework import hooks
from casework import teams as casework_teams
from evacuation.checkins import intake_views as checkin_intake_views
from evacuation.safehouses import services as safehouses
from intake import entries
from triage import deadlines
from vetting import red_flags, sensitive
from vetting import services as vetting


def test_each_hook_point_runs_what_was_registered_in_ready_in_its_order() -> None:
    assert hooks.case_opened.functions == [deadlines.deadline_schedule]
    assert hooks.transition_guards.functions == [vetting.verified_guard]
    assert hooks.transitioned.functions == [
        safehouses.revoke_when_no_longer_verified,
        vetting.new_round_on_entering_vetting,
    ]
    assert hooks.duress_marked.functions == [safehouses.revoke_under_duress]
    assert hooks.member_taken_off.functions == [vetting.withdraw_on_taken_off]
    assert hooks.intake_screens.functions == [red_flags.intake_screen]
    assert hooks.reply_screens.functions == [sensitive.staff_reply_screen]
    assert hooks.cover_reply_screens.functions == [sensitive.cover_screen]
    assert hooks.release_screens.functions == [sensitive.release_screen]
    assert hooks.inbox_marks.functions == [red_flags.inbox_mark]
    assert accounts_teams.team_joined_at_enrolment.functions == [casework_teams.keys_owed_on_enrolment]
    assert entries.conversation_entries.functions == [checkin_intake_views.checkin_entry]


def test_a_sensitive_reply_stop_is_the_one_casework_catches() -> None:
    assert issubclass(sensitive.SensitiveReplyStopped, hooks.ReplyStopped)
