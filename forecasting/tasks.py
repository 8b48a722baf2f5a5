"""Forecasting Celery tasks: plan a run, fan out chunks of series in a chord, activate when all are done."""

from __future__ import annotations

import traceback

from celery import chord, shared_task

from . import services


@shared_task(name="forecasting.tasks.forecast_nightly_task")
def forecast_nightly_task() -> int:
    """The beat schedule's nightly retrain-and-forecast."""
    run = services.forecast_run_create()
    forecast_run_task.apply_async(args=[run.pk], queue="training")
    return run.pk


@shared_task(bind=True, name="forecasting.tasks.forecast_run_task")
def forecast_run_task(self, run_id: int) -> int:
    """Plan the run and fan its chunks out; the chord's callback activates the run."""
    try:
        plan = services.forecast_run_plan(run_id=run_id, task_id=self.request.id or "")
    except Exception as exc:
        services.forecast_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise
    if not plan.chunks:
        forecast_finalize_task.apply(args=[None, run_id])
        return 0
    header = [forecast_chunk_task.si(run_id, chunk).set(queue="training") for chunk in plan.chunks]
    chord(header)(forecast_finalize_task.s(run_id).set(queue="default"))
    return len(plan.chunks)


@shared_task(name="forecasting.tasks.forecast_chunk_task", acks_late=True)
def forecast_chunk_task(run_id: int, product_ids: list[int]) -> int:
    """Forecast one chunk of series; a failure fails the whole run, which then never becomes active."""
    try:
        return services.forecast_chunk_execute(run_id=run_id, product_ids=product_ids)
    except Exception as exc:
        services.forecast_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise


@shared_task(name="forecasting.tasks.forecast_finalize_task")
def forecast_finalize_task(_chunk_results, run_id: int) -> int:
    """Activate the run once every chunk has stored its forecasts."""
    return services.forecast_run_activate(run_id=run_id).pk
