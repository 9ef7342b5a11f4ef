"""The job table the worker command claims from (see jobs/worker.py and docs/crypto.md).

A job row is readable by anyone holding a database dump, and it outlives the request that
made it, so it carries only identifiers and kinds: never case content, names, regions or
contact details (jobs.services.job_enqueue refuses anything else).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Job(models.Model):
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    run_at = models.DateTimeField(default=timezone.now)
    # Counted when a worker claims the job, so a worker that dies mid-job uses up a try too.
    attempts = models.PositiveIntegerField(default=0)
    # The lease: a claim that is not finished by claimed_until is taken to be a crashed worker's.
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Set when the job ran out of attempts; it stays in the table for staff to look into.
    failed_at = models.DateTimeField(null=True, blank=True)
    # The exception's class (and an SMTP or HTTP status), never its message: messages can
    # quote addresses or server replies.
    last_error = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["run_at"], name="job_pending_by_run_at", condition=models.Q(done_at=None, failed_at=None)
            ),
            # Periodic jobs: "was this kind queued in this time slot?" (jobs.worker.periodic_jobs_ensure).
            models.Index(fields=["kind", "created_at"], name="job_by_kind_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
