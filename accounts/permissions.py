"""Who may do what: every capability of a staff role, in one place.

Services enforce these functions (they raise their refusal exception when one says no); views
read them to decide what to offer, and templates read them as booleans through ``may``
(accounts.context.capabilities: ``{% if may.release_held_reply %}``). No view, form or
template spells out a role (tests/test_roles_in_one_place.py). Each function is a plain
function of the member (and, where the rule needs it, of the other member or the case's
state) returning a bool; a disabled account, or anything that is not a staff member, may do
nothing.

Holding the case key is a second, separate condition for everything done *on* a case: the
role says what kind of work someone does, the key says which cases they do it on (services
check it with casework.keys; the views answer 404 without it).

What each role may do (C coordinator, W caseworker, V verifier, L logistics, A analyst; "x" may,
"." may not). tests/test_permissions.py checks this table against the functions below.

| Capability                     | What it allows                                             | C W V L A |
|--------------------------------|------------------------------------------------------------|-----------|
| see_case_list                  | a list of cases ("Team cases"): scope all, team, own       | x x x x . |
| see_all_cases                  | know every case exists, triage columns only ("All cases")  | x . . . . |
| be_on_call                     | be on the rota and get overdue-case notices                | x x x . . |
| read_new_cases                 | be given the key of their team's new cases (and at intake) | x x . . . |
| work_case                      | cover reply, new codename, family warnings, clear duress,  | x x . . . |
|                                |   check-in schedule, fate status, acknowledge a missed one |           |
| release_held_reply             | send a reply held under duress to the person               | x . . . . |
| triage_case                    | mark triaged, start vetting, close                         | x x . . . |
| verify_case                    | mark verified (after two sign-offs)                        | x . x . . |
| reopen_case                    | reopen a closed case                                       | x . . . . |
| tick_vetting_check             | tick the vetting checklist                                 | x x x . . |
| sign_off                       | sign a case off                                            | x . x . . |
| read_sensitive_items           | have the sensitive items sealed to them                    | x x . x . |
| share_sensitive_items          | put a sensitive item into a reply (verified case)          | x x . . . |
| manage_sensitive_items         | add, delete and share sensitive items                      | x . . . . |
| manage_red_flags               | add and delete red flags                                   | x . . . . |
| plan_evacuation                | plan an evacuation and its legs (verified case)            | x x . . . |
| record_evacuation_progress     | record the progress of a leg                               | x x . x . |
| record_payment                 | record money paid out                                      | x x . x . |
| approve_payment                | approve or reject a payment (never their own), budgets     | x . . . . |
| manage_safe_houses             | manage safe houses, read every address                     | x . . x . |
| share_safe_house               | give a colleague a safe house's keys                       | x . . . . |
| place_person                   | place a person in a safe house (verified case)             | x x . x . |
| read_placement_address         | read the address of the house their case's person is in    | x x . x . |
| hand_off                       | hand cases to partners, open their packets                 | x . . . . |
| open_original_files            | have uploads sealed to them as sent, metadata and all;     | x . . . . |
|                                |   open them (evidence)                                     |           |
| open_coordinator_pages         | staff, teams, rota, audit log, dashboard, money report,    | x . . . . |
|                                |   canned replies, destinations, plan templates, hand-off   |           |
| run_recovery                   | start a recovery ceremony, enter a recovery share          | x . . . . |
| edit_rota                      | add and remove on-call shifts                              | x . . . . |
| manage_teams                   | create teams, change members, move cases between them      | x . . . . |
| edit_organisation_knowledge    | change canned replies, destinations, plan templates        | x . . . . |
| set_retention                  | how long closed cases are kept, per closing reason         | x . . . . |
| hold_case                      | put a case on hold (never shredded), lift the hold         | x . . . . |
| shred_case                     | shred a closed case now                                    | x . . . . |
| keep_evidence                  | record the person's consent, put a message or a testimony  | x x . . . |
|                                |   into the evidence locker                                 |           |

Besides the table: case_list_scope (all C, team W V, own L, none A); can_hold_case_key (C W V,
and L only while the case is verified); is_owed_team_case_key (a member of a case's team is
owed its key: C W always, V only while it is being vetted, never L or A: logistics staff are
given a verified case by name; joining a team owes only its open cases); can_disable_staff (C, never their own account); and
replying to the person, notes and tasks, which any holder of the case key may do.

Taking someone off a case (can_remove_member; T3, T12). A coordinator may take anyone off;
a caseworker only those below her, verifiers and logistics staff; verifiers, logistics staff
and analysts nobody but themselves. Whoever does it, two rules always hold, so that nobody can
make a case theirs alone:
- the case keeps at least one "content reader": an active coordinator or caseworker holding
  its key (someone who can answer the person and act on a danger-word login);
- the actor is never left as the only holder: taking off the last other holder is refused.
  Give someone else access first. A coordinator who must get a turned colleague off at once
  disables the account (staff_disable), which always takes them off every case.
Leaving a case oneself is allowed under the same two rules (and never as the last holder).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Role, StaffMember

# --- role groups: used by the functions below, and by queries that pick staff by role ---------

COORDINATOR_ROLES = frozenset({Role.COORDINATOR})
# Roles that may hold a case's key whatever its state, and the only roles that may be on call.
CASE_READER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER})
# Roles given a new case's key (the on-call team's at intake) and owed the keys of their team's
# open cases: the people who answer the person.
NEW_CASE_READER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER})
# Verifiers read a case of their team only once vetting starts on it (T3: need to know).
VETTING_READER_ROLES = frozenset({Role.VERIFIER})
# Logistics staff (who run the safe houses, T3) read a case only while it is verified.
VERIFIED_ONLY_ROLES = frozenset({Role.LOGISTICS})
# The people who answer the person and act on a danger-word login: a case must keep one.
CASE_WORKER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER})
SIGN_OFF_ROLES = frozenset({Role.COORDINATOR, Role.VERIFIER})
CHECK_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER})
SENSITIVE_READER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.LOGISTICS})
SAFE_HOUSE_MANAGER_ROLES = frozenset({Role.COORDINATOR, Role.LOGISTICS})
PLACER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.LOGISTICS})
MONEY_RECORDER_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.LOGISTICS})
PROGRESS_ROLES = frozenset({Role.COORDINATOR, Role.CASEWORKER, Role.LOGISTICS})
# Whom the untouched original of an uploaded file is sealed to (with the recovery key).
ORIGINAL_FILE_READER_ROLES = COORDINATOR_ROLES
# An invitation is for a caseworker unless the coordinator chooses otherwise: one made in haste
# must not hand out coordinator rights.
INVITE_DEFAULT_ROLE = Role.CASEWORKER
# Whom each role may take off a case (besides themselves).
_REMOVES: dict[str, frozenset[str]] = {
    Role.COORDINATOR: frozenset(Role.values),
    Role.CASEWORKER: frozenset({Role.VERIFIER, Role.LOGISTICS}),
}
# Which cases each role may know exist (casework.scopes): values of casework.scopes.Scope.
_CASE_LIST_SCOPES: dict[str, str] = {
    Role.COORDINATOR: "all",
    Role.CASEWORKER: "team",
    Role.VERIFIER: "team",
    Role.LOGISTICS: "own",
    Role.ANALYST: "none",
}


def _active_in(member: Any, roles: frozenset[str]) -> bool:
    return isinstance(member, StaffMember) and member.is_active and member.role in roles


# --- knowing cases exist, being on call -------------------------------------------------------


def case_list_scope(member: Any) -> str:
    """Which cases ``member`` may know exist: all, team, own or none (casework.scopes)."""
    if not isinstance(member, StaffMember) or not member.is_active:
        return "none"
    return _CASE_LIST_SCOPES.get(member.role, "none")


def can_see_case_list(member: Any) -> bool:
    """Has a list of cases (the "Team cases" page, keys waiting to be handed on)."""
    return case_list_scope(member) != "none"


def can_see_all_cases(member: Any) -> bool:
    """Sees that every case exists, with its triage columns only: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_be_on_call(member: Any) -> bool:
    """May be on the rota and get overdue-case notices: only roles that read new cases."""
    return _active_in(member, CASE_READER_ROLES)


# --- holding a case's key ---------------------------------------------------------------------


def can_read_new_cases(member: Any) -> bool:
    """Is given the key of new cases of their team (and of the on-call team at intake)."""
    return _active_in(member, NEW_CASE_READER_ROLES)


def can_hold_case_key(member: Any, *, case_verified: bool) -> bool:
    """May be given a case's key: readers always, logistics staff only while it is verified."""
    return _active_in(member, CASE_READER_ROLES) or (case_verified and _active_in(member, VERIFIED_ONLY_ROLES))


# The state in which verifiers of a case's team are owed its key (casework.lifecycle.State.VETTING;
# spelled out here because casework.lifecycle reads this module).
_VETTING_STATE = "vetting"


def is_owed_team_case_key(member: Any, *, case_state: str) -> bool:
    """Is owed the key of a case of their own team in ``case_state`` (casework.teams records it
    on joining the team, on the case moving to the team and when vetting starts): coordinators
    and caseworkers in any state, verifiers only while it is being vetted."""
    return can_read_new_cases(member) or (case_state == _VETTING_STATE and _active_in(member, VETTING_READER_ROLES))


def is_content_reader(member: Any) -> bool:
    """Counts as the case's content reader: an active coordinator or caseworker."""
    return _active_in(member, CASE_WORKER_ROLES)


def member_removal_refusal(actor: Any, member: Any, holders: Sequence[Any]) -> str | None:
    """Why ``actor`` may not take ``member`` off a case whose current key ``holders`` hold
    (see the module docstring), or None when they may."""
    held = {holder.pk for holder in holders}
    if not isinstance(actor, StaffMember) or not actor.is_active or actor.pk not in held:
        return str(_("Only someone who holds the case key can take someone off it."))
    if member.pk not in held:
        return str(_("This person does not hold the case key."))
    others = [holder for holder in holders if holder.pk != member.pk]
    if not others:
        return str(_("This is the last person who can read the case."))
    if member.pk != actor.pk:
        if member.role not in _REMOVES.get(actor.role, frozenset()):
            if actor.role in _REMOVES:
                return str(_("A caseworker can take only verifiers and logistics staff off a case. Ask a coordinator."))
            return str(_("Your role cannot take other people off a case. Ask a coordinator or the case's caseworker."))
        if all(holder.pk == actor.pk for holder in others):
            return str(
                _("You would be the only one left who can read this case. Give someone else access to it first.")
            )
    if is_content_reader(member) and not any(is_content_reader(holder) for holder in others):
        return str(
            _(
                "A caseworker or coordinator must keep reading this case: this is the last one. "
                "Give another caseworker or coordinator access first."
            )
        )
    return None


def can_remove_member(actor: Any, member: Any, holders: Sequence[Any]) -> bool:
    """May take ``member`` (themselves: leave) off the case whose current key ``holders`` hold."""
    return member_removal_refusal(actor, member, holders) is None


# --- work on a case (besides holding its key) -------------------------------------------------


def can_work_case(member: Any) -> bool:
    """Cover reply, new codename, family warnings, clearing duress, check-ins and fate status."""
    return _active_in(member, CASE_WORKER_ROLES)


def can_keep_evidence(member: Any) -> bool:
    """Records the person's consent and puts messages and testimonies into the evidence locker."""
    return _active_in(member, CASE_WORKER_ROLES)


def can_release_held_reply(member: Any) -> bool:
    """Sends a reply held under duress to the person: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_triage_case(member: Any) -> bool:
    """Marks a case triaged, starts vetting, closes it: coordinators and caseworkers."""
    return _active_in(member, CASE_WORKER_ROLES)


def can_verify_case(member: Any) -> bool:
    """Marks a case verified (the vetting decision, T3): coordinators and verifiers."""
    return _active_in(member, SIGN_OFF_ROLES)


def can_reopen_case(member: Any) -> bool:
    """Reopens a closed case: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


# --- vetting and sensitive items --------------------------------------------------------------


def can_tick_vetting_check(member: Any) -> bool:
    """Ticks an item of the vetting checklist: coordinators, caseworkers and verifiers."""
    return _active_in(member, CHECK_ROLES)


def can_sign_off(member: Any) -> bool:
    """Signs a case off (two different ones are needed): coordinators and verifiers."""
    return _active_in(member, SIGN_OFF_ROLES)


def can_read_sensitive_items(member: Any) -> bool:
    """Has sensitive items sealed to them: coordinators, caseworkers and logistics staff."""
    return _active_in(member, SENSITIVE_READER_ROLES)


def can_share_sensitive_items(member: Any) -> bool:
    """Puts a sensitive item into a reply to a verified case: coordinators and caseworkers."""
    return _active_in(member, CASE_WORKER_ROLES)


def can_manage_sensitive_items(member: Any) -> bool:
    """Adds, deletes and shares the organisation's sensitive items: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_manage_red_flags(member: Any) -> bool:
    """Adds and deletes red flags (compromised contacts): coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


# --- evacuation -------------------------------------------------------------------------------


def can_plan_evacuation(member: Any) -> bool:
    """Plans an evacuation and its legs: coordinators and caseworkers."""
    return _active_in(member, CASE_WORKER_ROLES)


def can_record_evacuation_progress(member: Any) -> bool:
    """Records the progress of a leg: coordinators, caseworkers and logistics staff."""
    return _active_in(member, PROGRESS_ROLES)


def can_record_payment(member: Any) -> bool:
    """Records money paid out for a case: coordinators, caseworkers and logistics staff."""
    return _active_in(member, MONEY_RECORDER_ROLES)


def can_approve_payment(member: Any) -> bool:
    """Approves or rejects a payment (never their own) and sets budgets: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_manage_safe_houses(member: Any) -> bool:
    """Manages safe houses and reads every address: coordinators and logistics staff."""
    return _active_in(member, SAFE_HOUSE_MANAGER_ROLES)


def can_share_safe_house(member: Any) -> bool:
    """Gives a coordinator or logistics member a safe house's keys: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_place_person(member: Any) -> bool:
    """Places a person in a safe house (or asks for a place): coordinators, caseworkers, logistics."""
    return _active_in(member, PLACER_ROLES)


def can_read_placement_address(member: Any) -> bool:
    """Reads the address of the house their case's person is placed in: those who place people."""
    return _active_in(member, PLACER_ROLES)


def can_hand_off(member: Any) -> bool:
    """Hands cases to partner organisations and opens their packets: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_open_original_files(member: Any) -> bool:
    """Is given, and opens, the file a person uploaded as it arrived, before its location and
    camera data were removed (scrub): evidence, which everyone else sees only cleaned."""
    return _active_in(member, ORIGINAL_FILE_READER_ROLES)


# --- the organisation -------------------------------------------------------------------------


def can_open_coordinator_pages(member: Any) -> bool:
    """Opens the organisation's pages (accounts.access.coordinator_required): coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_run_recovery(member: Any) -> bool:
    """Starts a recovery ceremony, enters a recovery share, cancels one: coordinators (the
    trustees with an account are coordinators; trustees outside the console enter their share
    on a coordinator's device)."""
    return _active_in(member, COORDINATOR_ROLES)


def can_edit_rota(member: Any) -> bool:
    """Adds and removes on-call shifts: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_manage_teams(member: Any) -> bool:
    """Creates teams, changes their members, moves cases between them: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_edit_organisation_knowledge(member: Any) -> bool:
    """Changes canned replies, destinations and plan templates: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_disable_staff(actor: Any, member: Any) -> bool:
    """Disables ``member``'s account: a coordinator, never their own."""
    return _active_in(actor, COORDINATOR_ROLES) and actor.pk != member.pk


def can_set_retention(member: Any) -> bool:
    """Sets how long closed cases are kept (retention policies): coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_hold_case(member: Any) -> bool:
    """Puts a case on hold (never shredded) or lifts the hold: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


def can_shred_case(member: Any) -> bool:
    """Shreds a closed case now, before its policy would: coordinators."""
    return _active_in(member, COORDINATOR_ROLES)


# What templates may ask through ``may``: the capabilities of the member alone.
MEMBER_CAPABILITIES = frozenset(
    name.removeprefix("can_")
    for name, function in list(globals().items())
    if name.startswith("can_") and inspect.isfunction(function) and len(inspect.signature(function).parameters) == 1
)
