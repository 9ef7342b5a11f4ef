"""Who would be told: whether each staff member's notification channel works, and whether the
people alerted when a case is in danger have one that does.

Two groups are alerted, by two rules of the code:

- at once, of a new case (a "danger now" request too) and of a danger-word login on it: the
  holders of the case key (casework.alerts.case_key_holders), that is, at intake, the
  readers of the team that takes new requests (accounts.teams.on_call_readers);
- when a case stays unanswered past its deadline: the members on the rota now
  (accounts.teams.on_call_members), or the coordinators when nobody is on it
  (triage.deadlines.deadline_check).

A channel *works* when it is set up, the server can send through it (an e-mail server, the
Matrix bot), its address still opens, and its last delivery did not fail. One that was never
used counts as working until a delivery fails: there is nothing else to judge it by.

Only the kind and the state are shown to others, never the address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

import sealbox
from accounts import permissions
from accounts.models import StaffMember
from accounts.teams import coordinators, on_call_members, on_call_readers, on_call_team
from notifications.matrix import matrix_enabled
from notifications.models import Channel, NotificationPreference
from notifications.services import preference_address


class ChannelState(models.TextChoices):
    NONE = "none", _("not set up")
    UNSUPPORTED = "unsupported", _("cannot be sent: the server is not set up for this channel")
    UNREADABLE = "unreadable", _("the saved address no longer opens: enter it again")
    FAILING = "failing", _("failing")
    UNTRIED = "untried", _("set up, nothing sent yet")
    WORKING = "working", _("working")


WORKING_STATES = frozenset({ChannelState.UNTRIED, ChannelState.WORKING})


@dataclass(frozen=True)
class Reach:
    member: StaffMember
    channel: str
    state: str
    since: datetime | None  # failing since, or last delivered
    gets_new_cases: bool
    on_rota: bool

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.state != ChannelState.NONE else ""

    @property
    def state_label(self) -> str:
        return str(ChannelState(self.state).label)

    @property
    def working(self) -> bool:
        return self.state in WORKING_STATES

    @property
    def told_at_once(self) -> bool:
        """Told of a new "danger now" case and of a danger-word login on it."""
        return self.gets_new_cases and self.working


@dataclass(frozen=True)
class Gaps:
    nobody_told_at_once: bool  # no member given new cases has a working channel
    nobody_told_when_unanswered: bool  # nor anyone the first overdue alert goes to
    own: Reach  # the member looking
    own_missing: bool  # their role is told of cases, and their channel does not work


def channel_state(preference: NotificationPreference | None) -> tuple[str, datetime | None]:
    if preference is None or preference.channel == Channel.NONE or not preference.address_ct:
        return ChannelState.NONE, None
    if (preference.channel == Channel.EMAIL and not settings.EMAIL_HOST) or (
        preference.channel == Channel.MATRIX and not matrix_enabled()
    ):
        return ChannelState.UNSUPPORTED, None
    try:
        preference_address(preference)
    except sealbox.CryptoError:
        return ChannelState.UNREADABLE, None
    if preference.failing_since is not None:
        return ChannelState.FAILING, preference.failing_since
    if preference.last_delivered_at is not None:
        return ChannelState.WORKING, preference.last_delivered_at
    return ChannelState.UNTRIED, None


def new_case_recipients() -> list[StaffMember]:
    """Who would be given, and told of, a case arriving now: the same rule as the intake."""
    team = on_call_team()
    return on_call_readers(team) if team is not None else []


def reach_of(members: Iterable[StaffMember], now: datetime) -> list[Reach]:
    members = list(members)
    preferences = {p.member_id: p for p in NotificationPreference.objects.filter(member__in=members)}
    given_new_cases = {member.pk for member in new_case_recipients()}
    rota = {member.pk for member in on_call_members(now)}
    found = []
    for member in members:
        state, since = channel_state(preferences.get(member.pk))
        channel = preferences[member.pk].channel if member.pk in preferences else Channel.NONE
        active = member.is_active
        found.append(
            Reach(
                member=member,
                channel=channel,
                state=state,
                since=since,
                gets_new_cases=active and member.pk in given_new_cases,
                on_rota=active and member.pk in rota,
            )
        )
    return found


def gaps_for(member: StaffMember, now: datetime) -> Gaps:
    """What the inbox warns of: nobody alerted has a working channel; the member's own has none."""
    told_at_once = new_case_recipients()
    when_unanswered = on_call_members(now) or coordinators()
    people = {m.pk: m for m in [*told_at_once, *when_unanswered, member]}
    reach = {r.member.pk: r for r in reach_of(people.values(), now)}
    return Gaps(
        nobody_told_at_once=not any(reach[m.pk].working for m in told_at_once),
        nobody_told_when_unanswered=not any(reach[m.pk].working for m in when_unanswered),
        own=reach[member.pk],
        # Roles that never hold a case key are told of nothing: no need to ask them for a channel.
        own_missing=permissions.can_hold_case_key(member, case_verified=True) and not reach[member.pk].working,
    )
