"""Inventory Celery tasks: the nightly replenishment suggestions, one task per location."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from retailai.core.jobs import run_tracked
from retailai.core.services import job_run_create

from . import purchasing
from .models import Location


@shared_task(name="inventory.tasks.replenishment_nightly_task")
def replenishment_nightly_task() -> list[int]:
    """The beat schedule's run after the nightly forecast: one suggestion task per active location."""
    as_of = timezone.localdate().isoformat()
    ids = list(Location.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    for location_id in ids:
        replenishment_suggest_task.delay(location_id, as_of)
    return ids


@shared_task(bind=True, name="inventory.tasks.replenishment_suggest_task")
def replenishment_suggest_task(self, location_id: int, as_of: str | None = None) -> dict:
    """Draft the purchase orders of one location for a day (idempotent: a re-run replaces untouched drafts)."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    job = job_run_create(kind="replenishment", parameters={"location_id": location_id, "as_of": day.isoformat()})

    def work(progress) -> dict:
        location = Location.objects.get(pk=location_id)
        result = purchasing.replenishment_suggest(location=location, as_of=day)
        return {
            "created": len(result.created),
            "replaced": result.replaced,
            "kept": len(result.kept),
            "without_forecast": len(result.without_forecast),
        }

    return run_tracked(job.pk, work, task_id=self.request.id or "")
