"""Writes of the core app: audit events and job-run lifecycle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .choices import JobStatus
from .errors import Conflict
from .models import AuditEvent, JobRun


def audit_event_record(
    *, actor, verb: str, obj: models.Model | None = None, before: Any = None, after: Any = None
) -> AuditEvent:
    """Append one audit event; call it inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        before=before,
        after=after,
    )


def job_run_create(*, kind: str, parameters: dict | None = None, user=None) -> JobRun:
    """Queue a run of a long job."""
    with transaction.atomic():
        run = JobRun.objects.create(
            kind=kind,
            parameters=parameters or {},
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        if user is not None:
            audit_event_record(
                actor=user, verb="job.queue", obj=run, after={"kind": kind, "parameters": run.parameters}
            )
    return run


def job_run_start(*, run_id: int, task_id: str = "") -> JobRun:
    """Claim a queued run for execution; a run already started elsewhere is a conflict."""
    now = timezone.now()
    claimed = JobRun.objects.filter(pk=run_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, task_id=task_id[:64], progress=0
    )
    if claimed != 1:
        raise Conflict(f"Job run {run_id} is not queued; it was started or finished already.")
    return JobRun.objects.get(pk=run_id)


def job_run_progress(*, run_id: int, progress: float, message: str = "") -> None:
    """Record progress (0–100) of a running job; a cheap single-row update."""
    pct = max(0, min(100, int(progress)))
    JobRun.objects.filter(pk=run_id, status=JobStatus.RUNNING).update(progress=pct, message=message[:255])


def job_run_succeed(*, run_id: int, metrics: dict | None = None, message: str = "") -> None:
    """Mark a run succeeded with its metrics."""
    JobRun.objects.filter(pk=run_id).update(
        status=JobStatus.SUCCEEDED,
        progress=100,
        metrics=metrics or {},
        message=message[:255],
        finished_at=timezone.now(),
    )


def job_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed with its error text."""
    JobRun.objects.filter(pk=run_id).update(status=JobStatus.FAILED, error=error, finished_at=timezone.now())


def job_runs_purge(*, keep_days: int) -> int:
    """Delete finished runs older than keep_days; returns how many."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = JobRun.objects.filter(
        finished_at__lt=cutoff, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]
    ).delete()
    return deleted
