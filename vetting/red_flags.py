"""Red flags: known compromised phone numbers, handles and phrases (threat T3: men who were
caught were used to find others).

A flag is held only as keyed hashes of its normalised value (vetting/digests.py: slow
Argon2id hashes for phone numbers and handles); the value and any label are never stored. A case's contact is hashed the same way at intake, the only
moment the server sees it in the clear, so a flag added before or after the case matches it.
Phrases are matched against the first message at intake only: its hashes are not kept, since
hashes of single words could be guessed by whoever holds the instance secret.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import hooks
from casework.models import Case
from casework.sealed import Refused
from notifications.models import Event
from notifications.services import case_event_notify_on_commit
from vetting import digests, normalise
from vetting.models import ContactDigest, RedFlag, RedFlagDigest, RedFlagKind, RedFlagMatch


class RedFlagRefused(Refused):
    """The flag cannot be added; the message says why (shown to staff)."""


def red_flag_create(*, actor: StaffMember, kind: str, value: str) -> RedFlag:
    """Hash and keep a compromised identifier, and mark every case whose contact matches it."""
    if not permissions.can_manage_red_flags(actor):
        raise RedFlagRefused(_("Only a coordinator can manage red flags."))
    if kind not in RedFlagKind.values:
        raise RedFlagRefused(_("Choose what kind of identifier this is."))
    hashes = digests.red_flag_digests(kind, value)
    if not hashes:
        raise RedFlagRefused(
            _("This is not a phone number.") if kind == RedFlagKind.PHONE else _("There is nothing to recognise.")
        )
    with transaction.atomic():
        if kind != RedFlagKind.PHRASE and RedFlagDigest.objects.filter(digest__in=hashes).exists():
            raise RedFlagRefused(_("This identifier is already a red flag."))
        flag = RedFlag.objects.create(kind=kind, created_by=actor, digest_count=len(hashes))
        RedFlagDigest.objects.bulk_create([RedFlagDigest(flag=flag, digest=value) for value in sorted(hashes)])
        audit_record(actor=actor, action=Action.RED_FLAG_CREATE, details={"flag": flag.pk, "kind": kind})
        if kind != RedFlagKind.PHRASE:
            case_ids = ContactDigest.objects.filter(digest__in=hashes).values_list("case_id", flat=True).distinct()
            for case in Case.objects.filter(pk__in=list(case_ids)).order_by("pk"):
                _match_record(case, flag, RedFlagMatch.Via.CONTACT, actor=actor)
    return flag


def red_flag_delete(*, actor: StaffMember, flag: RedFlag) -> None:
    if not permissions.can_manage_red_flags(actor):
        raise RedFlagRefused(_("Only a coordinator can manage red flags."))
    with transaction.atomic():
        audit_record(actor=actor, action=Action.RED_FLAG_DELETE, details={"flag": flag.pk, "kind": flag.kind})
        flag.delete()


def _match_record(case: Case, flag: RedFlag, via: str, *, actor: StaffMember | None) -> None:
    _match, created = RedFlagMatch.objects.get_or_create(case=case, flag=flag, defaults={"via": via})
    if created:
        audit_record(actor=actor, action=Action.RED_FLAG_MATCH, case=case, details={"flag": flag.pk, "via": via})
        case_event_notify_on_commit(case_id=case.pk, event=Event.RED_FLAG)


def intake_screen(request: hooks.IntakeRequest) -> hooks.IntakeCheck:
    """Registered with casework.hooks.intake_screens: the contact's slow hashes are derived now,
    before casework.services.case_open_from_intake opens its transaction, and the check
    returned runs in it once the case exists (case_screen_at_intake)."""
    contact = contact_hashes(request.contact_value)

    def check(case: Case) -> None:
        case_screen_at_intake(case=case, contact=contact, first_message=request.first_message)

    return check


def inbox_mark(page: hooks.InboxPage) -> dict[str, Exists]:
    """Registered with casework.hooks.inbox_marks: whether each case of the inbox's page matches
    a red flag, in the page's one query (read by the ``red_flagged`` template filter)."""
    return {"red_flagged": Exists(RedFlagMatch.objects.filter(case=OuterRef("pk")))}


def contact_hashes(contact_value: str) -> set[str]:
    """The slow hashes of a contact (one Argon2id each, see vetting/digests.py), derived before
    the intake's transaction (intake_screen), so no row stays locked while they are derived."""
    return digests.contact_digests(contact_value) if contact_value.strip() else set()


def case_screen_at_intake(*, case: Case, contact: set[str], first_message: str) -> None:
    """Run in casework.services.case_open_from_intake's transaction: keep the hashes
    of the contact (from contact_hashes), and mark the case if its contact or first message
    matches a flag."""
    ContactDigest.objects.bulk_create([ContactDigest(case=case, digest=value) for value in sorted(contact)])
    for flag in RedFlag.objects.filter(digests__digest__in=contact).exclude(kind=RedFlagKind.PHRASE).distinct():
        _match_record(case, flag, RedFlagMatch.Via.CONTACT, actor=None)
    for flag in _phrase_flags_in(first_message):
        _match_record(case, flag, RedFlagMatch.Via.PHRASE, actor=None)


def _phrase_flags_in(text: str) -> QuerySet[RedFlag]:
    """Phrase flags all of whose shingles the text holds (the phrase appears, normalised)."""
    hashes = digests.phrase_shingle_digests(normalise.draft_shingles(text))
    hits = (
        RedFlagDigest.objects.filter(flag__kind=RedFlagKind.PHRASE, digest__in=hashes)
        .values("flag")
        .annotate(n=Count("pk"))
    )
    counts = {row["flag"]: row["n"] for row in hits}
    flags = RedFlag.objects.filter(pk__in=list(counts))
    return flags.filter(pk__in=[flag.pk for flag in flags if counts[flag.pk] >= flag.digest_count])
