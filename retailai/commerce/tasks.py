"""Commerce Celery tasks: thin wrappers over services and selectors."""

from celery import shared_task

from retailai.core.jobs import run_tracked

from .selectors import commerce_totals


@shared_task(bind=True, name="retailai.commerce.tasks.commerce_totals_task")
def commerce_totals_task(self, run_id: int) -> dict:
    """Record the order-history totals on a JobRun (also the end-to-end check of the worker)."""

    def work(progress):
        progress(10, "counting")
        return commerce_totals()

    return run_tracked(run_id, work, task_id=self.request.id or "")
