"""Evacuation plans in legs, the documents each leg needs, plan templates and destinations.

A leg's places (from, to, the destination picked from the list), its notes, how it travels
(mode) and its planned and actual dates are case content: they are sealed together, as one JSON
document, to one version of the case key (``case_key``) with a context naming the leg and its
case (see evacuation.plans.crypto). Which destination a leg goes to is inside that ciphertext
too: a plaintext link would tell a database reader where the person is going, and a plaintext
"by plane, 3 December" would tell them how and when. Plaintext columns are what the server
needs while nobody is logged in: statuses and which documents are needed and how far along
they are.

Plan templates and destinations are organisation knowledge, not case content, and are stored
in plaintext: template places are generic ("hiding place in the region", "transit city") and
the pages that edit them say never to put an address, a person or a case in them; destination
rules and partner organisations are what any staff member planning a leg may read.

Every editable row carries a ``revision`` that each save increases: an edit form sends the
revision it started from, and a save from an older revision is refused (edit conflict).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from evacuation.plans import status as plan_status


class Mode(models.TextChoices):
    ROAD = "road", _("By car")
    RAIL = "rail", _("By train")
    AIR = "air", _("By plane")
    BUS = "bus", _("By bus")
    ON_FOOT = "on_foot", _("On foot")
    OTHER = "other", _("Other")


class LegStatus(models.TextChoices):
    PLANNED = plan_status.PLANNED, _("Planned")
    UNDER_WAY = plan_status.UNDER_WAY, _("Under way")
    DONE = plan_status.DONE, _("Done")
    CANCELLED = plan_status.CANCELLED, _("Cancelled")


class PlanStatus(models.TextChoices):
    DRAFT = plan_status.DRAFT, _("Draft (no legs yet)")
    PLANNED = plan_status.PLANNED, _("Planned")
    UNDER_WAY = plan_status.UNDER_WAY, _("Under way")
    DONE = plan_status.DONE, _("Done")
    CANCELLED = plan_status.CANCELLED, _("Cancelled")


class DocumentKind(models.TextChoices):
    INTERNAL_PASSPORT = "internal_passport", _("Internal passport")
    INTERNATIONAL_PASSPORT = "international_passport", _("International passport")
    VISA = "visa", _("Visa")
    TICKETS = "tickets", _("Tickets")
    OTHER = "other", _("Other document")


class DocumentStatus(models.TextChoices):
    NEEDED = "needed", _("Needed")
    IN_PROGRESS = "in_progress", _("In progress")
    READY = "ready", _("Ready")
    NOT_NEEDED = "not_needed", _("Not needed")


# A document's status is shown after its name ("Visa: needed"), and in Russian the word must
# agree with the name: «Виза: нужна», «Паспорт: нужен», «Билеты: нужны». So each kind has the
# four status words under its own context, and translators give each the right form.
_DOCUMENT_STATUS_LABELS: dict[str, dict[str, Promise]] = {
    DocumentKind.INTERNAL_PASSPORT: {
        DocumentStatus.NEEDED: pgettext_lazy("internal passport", "Needed"),
        DocumentStatus.IN_PROGRESS: pgettext_lazy("internal passport", "In progress"),
        DocumentStatus.READY: pgettext_lazy("internal passport", "Ready"),
        DocumentStatus.NOT_NEEDED: pgettext_lazy("internal passport", "Not needed"),
    },
    DocumentKind.INTERNATIONAL_PASSPORT: {
        DocumentStatus.NEEDED: pgettext_lazy("international passport", "Needed"),
        DocumentStatus.IN_PROGRESS: pgettext_lazy("international passport", "In progress"),
        DocumentStatus.READY: pgettext_lazy("international passport", "Ready"),
        DocumentStatus.NOT_NEEDED: pgettext_lazy("international passport", "Not needed"),
    },
    DocumentKind.VISA: {
        DocumentStatus.NEEDED: pgettext_lazy("visa", "Needed"),
        DocumentStatus.IN_PROGRESS: pgettext_lazy("visa", "In progress"),
        DocumentStatus.READY: pgettext_lazy("visa", "Ready"),
        DocumentStatus.NOT_NEEDED: pgettext_lazy("visa", "Not needed"),
    },
    DocumentKind.TICKETS: {
        DocumentStatus.NEEDED: pgettext_lazy("tickets", "Needed"),
        DocumentStatus.IN_PROGRESS: pgettext_lazy("tickets", "In progress"),
        DocumentStatus.READY: pgettext_lazy("tickets", "Ready"),
        DocumentStatus.NOT_NEEDED: pgettext_lazy("tickets", "Not needed"),
    },
    DocumentKind.OTHER: {
        DocumentStatus.NEEDED: pgettext_lazy("other document", "Needed"),
        DocumentStatus.IN_PROGRESS: pgettext_lazy("other document", "In progress"),
        DocumentStatus.READY: pgettext_lazy("other document", "Ready"),
        DocumentStatus.NOT_NEEDED: pgettext_lazy("other document", "Not needed"),
    },
}


def document_status_choices(kind: str) -> list[tuple[str, Promise]]:
    """The statuses a document of this kind can have, worded to agree with its name."""
    labels = _DOCUMENT_STATUS_LABELS[kind]
    return [(status, labels[status]) for status in DocumentStatus.values]


class Destination(models.Model):
    country = models.CharField(max_length=80)
    city = models.CharField(max_length=80, blank=True)
    entry_rules = models.TextField(blank=True)
    asylum_rules = models.TextField(blank=True)
    partners = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "city", "pk"]

    def __str__(self) -> str:
        return f"{self.country}, {self.city}" if self.city else self.country


class PlanTemplate(models.Model):
    name = models.CharField(max_length=80)
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class TemplateLeg(models.Model):
    """A leg skeleton: generic places, the mode and the documents it usually needs."""

    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveIntegerField()
    mode = models.CharField(max_length=10, choices=Mode.choices)
    from_place = models.CharField(max_length=120)
    to_place = models.CharField(max_length=120)
    destination = models.ForeignKey(Destination, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # DocumentKind values, in DocumentKind order.
    documents = models.JSONField(default=list)

    class Meta:
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="evac_template_leg_position")]


class EvacuationPlan(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="evacuation_plans")
    # Derived from the legs by evacuation.plans.status (kept here for lists and the dashboard).
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(is_active=True), name="evac_one_active_plan_per_case")
        ]


class Leg(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    plan = models.ForeignKey(EvacuationPlan, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=LegStatus.choices, default=LegStatus.PLANNED)
    # The case key version the content (places, notes, mode, dates) is sealed to.
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    content_ct = models.BinaryField()
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["plan", "position", "pk"]


class LegDocument(models.Model):
    leg = models.ForeignKey(Leg, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    status = models.CharField(max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.NEEDED)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["leg", "kind"], name="evac_one_document_kind_per_leg")]

    @property
    def status_label(self) -> Promise:
        return _DOCUMENT_STATUS_LABELS[self.kind][self.status]
