"""The health endpoint and a job run end to end (a real worker when REDIS_URL is set, in process otherwise)."""

import time

import pytest
from django.conf import settings
from django.db import connection

from retailai.core.choices import JobStatus
from retailai.core.models import JobRun
from retailai.core.services import job_run_create
from tests import factories


@pytest.mark.django_db
def test_healthz_reports_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["detail"] == connection.vendor
    assert body["checks"]["broker"]["ok"] is True
    if not settings.REDIS_URL:
        assert body["status"] == "ok"
        assert body["checks"]["workers"]["detail"] == "in-process (tasks run eagerly)"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthz_sees_the_worker(client, celery_worker_process):
    if celery_worker_process is None:
        pytest.skip("no broker configured: tasks run in process (covered by test_healthz_reports_each_part)")
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["workers"]["ok"] is True
    assert "worker(s)" in body["checks"]["workers"]["detail"]


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_a_dead_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["broker"]["ok"] is False
    assert "Error" in body["checks"]["broker"]["detail"]


def _wait_finished(run_id: int, timeout: float = 60.0) -> JobRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = JobRun.objects.get(pk=run_id)
        if run.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}:
            return run
        time.sleep(0.2)
    raise AssertionError(f"job run {run_id} did not finish in {timeout}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_job_run_records_progress_and_metrics(celery_worker_process):
    from retailai.commerce.tasks import commerce_totals_task

    staff = factories.UserFactory(username="ops")
    line = factories.OrderLineFactory(quantity=3)
    factories.OrderLineFactory(order=line.order, line_number=2, kind="cancellation", quantity=1)
    run = job_run_create(kind="commerce_totals", parameters={"why": "test"}, user=staff)

    commerce_totals_task.delay(run.pk)

    run = _wait_finished(run.pk)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.progress == 100
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert run.metrics["orders"] == 1
    assert run.metrics["order_lines"] == 2
    assert run.metrics["sale_lines"] == 1
    assert run.metrics["cancellation_lines"] == 1
    if celery_worker_process is not None:
        assert run.task_id != ""


@pytest.mark.django_db
def test_a_run_cannot_be_started_twice():
    from retailai.core.errors import Conflict
    from retailai.core.services import job_run_start

    run = job_run_create(kind="x")
    job_run_start(run_id=run.pk)
    with pytest.raises(Conflict):
        job_run_start(run_id=run.pk)


@pytest.mark.django_db
def test_a_failing_job_records_its_error():
    from retailai.core.jobs import run_tracked

    run = job_run_create(kind="x")

    def work(progress):
        progress(40, "half way")
        raise ValueError("bad input in row 7")

    with pytest.raises(ValueError):
        run_tracked(run.pk, work)
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert run.progress == 40
    assert run.error.startswith("ValueError: bad input in row 7")
