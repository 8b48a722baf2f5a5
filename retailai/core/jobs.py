"""Running a job under a JobRun: start, progress, success or failure with the error text."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from . import services

ProgressFn = Callable[[float, str], None]


def run_tracked(run_id: int, work: Callable[[ProgressFn], dict[str, Any] | None], *, task_id: str = "") -> dict:
    """Run `work(progress)` under the JobRun; its returned dict becomes the run's metrics."""
    services.job_run_start(run_id=run_id, task_id=task_id)

    def progress(pct: float, message: str = "") -> None:
        services.job_run_progress(run_id=run_id, progress=pct, message=message)

    try:
        metrics = work(progress) or {}
    except Exception as exc:
        services.job_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise
    services.job_run_succeed(run_id=run_id, metrics=metrics)
    return metrics
