"""Core Celery tasks: thin wrappers over services."""

from celery import shared_task

from . import services


@shared_task(name="retailai.core.tasks.job_runs_purge_task")
def job_runs_purge_task(keep_days: int = 90) -> int:
    """Nightly: forget finished job runs older than keep_days."""
    return services.job_runs_purge(keep_days=keep_days)
