"""Recommendation Celery tasks: the nightly retrain, and one run from queue to active."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="recommendations.tasks.recommendation_nightly_task")
def recommendation_nightly_task() -> int:
    """The beat schedule's nightly retrain-and-score."""
    run = services.recommendation_run_create()
    recommendation_run_task.apply_async(args=[run.pk], queue="training")
    return run.pk


@shared_task(bind=True, name="recommendations.tasks.recommendation_run_task", acks_late=True)
def recommendation_run_task(self, run_id: int) -> int:
    """Train, store and activate one run; the service marks the run failed on any error."""
    return services.recommendation_run_execute(run_id=run_id, task_id=self.request.id or "").pk
