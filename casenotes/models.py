"""Staff notes and tasks on a case (sealed to the case key), and canned replies.

A note's body and a task's title and detail are case content: each is sealed to one version
of the case key, named by ``case_key``, with a context naming the record and the field (see
casenotes.crypto), so a ciphertext moved to another row or field does not open. Plaintext
columns are what the server needs while nobody is logged in: who wrote or owns a row, when,
the due date (for overdue tasks) and whether a task is done.

Canned replies are organisation templates written by coordinators, not case content: they
are stored in plaintext and must never name a person or a case (the page says so).

Every editable row carries a ``revision`` that each save increases: an edit form sends the
revision it started from, and a save from an older revision is refused (edit conflict).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseNote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="notes")
    # PROTECT: the author's id is bound into the body's context, so it must never change.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    # The case key version the body is sealed to (the current one when it was last saved).
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    body_ct = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["case", "-created_at"])]


class CaseTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="tasks")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Plaintext: the worker and the "My tasks" page need it while nothing is decrypted.
    due = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    case_key = models.ForeignKey("casework.CaseKey", on_delete=models.CASCADE, related_name="+")
    title_ct = models.BinaryField()
    # Empty bytes when there is no detail (an empty detail is not sealed).
    detail_ct = models.BinaryField(default=b"")

    class Meta:
        indexes = [
            models.Index(fields=["owner", "done_at", "due"]),
            models.Index(fields=["case", "done_at"]),
        ]


class CannedReply(models.Model):
    class Language(models.TextChoices):
        RU = "ru", _("Russian")
        EN = "en", _("English")

    language = models.CharField(max_length=5, choices=Language.choices)
    title = models.CharField(max_length=80)
    body = models.TextField()
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["language", "title", "pk"]
