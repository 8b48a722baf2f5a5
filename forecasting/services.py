"""Writes of the forecasting app: create a run, forecast chunks of series, activate a completed run."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from retailai.commerce.models import OrderLine, Product
from retailai.core.choices import JobStatus
from retailai.core.errors import Conflict, ValidationFailed
from retailai.core.models import JobRun
from retailai.core.services import audit_event_record, job_run_create, job_run_fail, job_run_progress, job_run_start

from .engine.pipeline import ForecastConfig, forecast, quantile_column
from .engine.series import demand_from_lines, price_per_period, with_known_covariates
from .models import Forecast, ForecastRun, Frequency, SeriesBacktest
from .selectors import (
    history_days,
    longest_cover_days,
    order_lines_frame,
    product_attributes,
    promotions_frame,
    stockout_days_frame,
)

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
#: The shortest horizon of a run started without one, in periods of its frequency.
MIN_HORIZON = {Frequency.DAILY: 28, Frequency.WEEKLY: 12}
KNOWN_MODELS = {"seasonal_naive", "moving_average", "ets", "sarimax", "tsb", "gbm"}


@dataclass(frozen=True)
class RunPlan:
    """The chunks of product ids a run forecasts."""

    run_id: int
    chunks: list[list[int]]


def default_horizon(freq: str) -> int:
    """The horizon of a run started without one: far enough for the longest cover a suggested purchase order
    needs (``FORECAST_MIN_HORIZON_DAYS``; weeks rounded up), never below 28 days or 12 weeks.

    It grows past those only as far as the history leaves room for the rolling-origin backtests: each of the
    run's ``n_origins`` backtests holds out one horizon, and the first one needs at least as much history again
    to learn from, so a horizon longer than a (n_origins + 1)-th of the history would cost backtest origins (a
    100-day history, as in the demo, keeps 28 days). And it stops at ``FORECAST_MAX_HORIZON_DAYS`` (half a year)
    however long a lead time is, since every backtest window costs time in every chunk. A cover past the
    horizon repeats the forecast's last week, and its line says so.
    """
    period = 7 if freq == Frequency.WEEKLY else 1
    floor = MIN_HORIZON[Frequency(freq)]
    cover = math.ceil(longest_cover_days(period_days=period) / period)
    room = history_days() // period // (ForecastConfig.n_origins + 1)
    return min(max(floor, min(cover, room)), max_horizon(freq))


def max_horizon(freq: str) -> int:
    """The longest default horizon, and the longest one the dashboard's form takes: ``FORECAST_MAX_HORIZON_DAYS``
    in periods, never below the floor. A service caller may ask for more."""
    period = 7 if freq == Frequency.WEEKLY else 1
    return max(MIN_HORIZON[Frequency(freq)], int(settings.FORECAST_MAX_HORIZON_DAYS) // period)


def forecast_run_create(
    *, freq: str = Frequency.DAILY, horizon: int | None = None, models: list[str] | None = None, user=None
) -> ForecastRun:
    """Queue a retrain-and-forecast run (candidate models from settings.FORECAST_MODELS unless given); without a
    horizon it reaches the longest cover purchase orders need (``default_horizon``)."""
    if freq not in Frequency.values:
        raise ValidationFailed(f"Unknown frequency {freq!r}; use D or W.", field="freq")
    horizon = default_horizon(freq) if horizon is None else horizon
    if horizon < 1:
        raise ValidationFailed("The horizon must be at least one period.", field="horizon")
    with transaction.atomic():
        models = list(models or settings.FORECAST_MODELS)
        unknown = sorted(set(models) - KNOWN_MODELS)
        if unknown:
            raise ValidationFailed(f"Unknown forecasting model(s): {', '.join(unknown)}.", field="models")
        parameters = {
            "freq": freq,
            "horizon": horizon,
            "models": models,
            "price_covariate": bool(settings.FORECAST_PRICE_COVARIATE),
        }
        job = job_run_create(kind="forecast", parameters=parameters, user=user)
        return ForecastRun.objects.create(job=job, freq=freq, horizon=horizon, quantiles=list(DEFAULT_QUANTILES))


def forecast_run_plan(*, run_id: int, task_id: str = "") -> RunPlan:
    """Start the run: fix the history end and split the products with sales into chunks."""
    run = ForecastRun.objects.select_related("job").get(pk=run_id)
    job_run_start(run_id=run.job_id, task_id=task_id)
    last = OrderLine.objects.filter(product__is_merchandise=True).aggregate(last=Max("placed_at"))["last"]
    if last is None:
        product_ids: list[int] = []
        history_end = None
    else:
        history_end = timezone.localtime(last).date()
        product_ids = list(
            Product.objects.filter(is_merchandise=True, order_lines__kind="sale")
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    # Each chunk is a cross-section of the catalogue (every n-th product), not a run of consecutive ones: products
    # are numbered as they first appear, so consecutive chunks would put the newest products together, and a
    # chunk's new products borrow their forecasts from the established ones in the same chunk.
    size = settings.FORECAST_CHUNK_SIZE
    n_chunks = -(-len(product_ids) // size)
    chunks = [product_ids[k::n_chunks] for k in range(n_chunks)]
    ForecastRun.objects.filter(pk=run_id).update(history_end=history_end, series_total=len(product_ids), series_done=0)
    job_run_progress(run_id=run.job_id, progress=1, message=f"{len(product_ids)} series in {len(chunks)} chunks")
    return RunPlan(run_id=run_id, chunks=chunks)


def _config(run: ForecastRun) -> ForecastConfig:
    return ForecastConfig(
        horizon=run.horizon,
        freq=run.freq,
        quantiles=tuple(run.quantiles),
        seed=0,
        country=settings.RETAILAI_COUNTRY,
        neural=settings.FORECAST_NEURAL,
        models=tuple(run.job.parameters.get("models") or settings.FORECAST_MODELS),
    )


def forecast_chunk_execute(*, run_id: int, product_ids: list[int]) -> int:
    """Forecast one chunk of products and store forecasts and backtest scores (re-running replaces the chunk)."""
    run = ForecastRun.objects.select_related("job").get(pk=run_id)
    if run.job.status != JobStatus.RUNNING:
        raise Conflict(f"Forecast run {run_id} is {run.job.status}, not running.")
    end = pd.Timestamp(run.history_end) + pd.Timedelta(days=1)
    lines = order_lines_frame(product_ids=product_ids, until=timezone.make_aware(end.to_pydatetime()))
    # Days without stock and without sales say nothing about demand: the history leaves them unobserved.
    stockouts = stockout_days_frame(product_ids=product_ids, until=run.history_end)
    history = demand_from_lines(
        lines, freq=run.freq, end=pd.Timestamp(run.history_end), product_col="sku", stockouts=stockouts
    )
    skus = {p.sku: p.pk for p in Product.objects.filter(pk__in=product_ids).only("pk", "sku")}
    forecasts: list[Forecast] = []
    backtests: list[SeriesBacktest] = []
    if not history.empty:
        history, future = _with_covariates(run, history, lines, product_ids)
        result = forecast(history, future, _config(run), attributes=product_attributes(list(skus)))
        forecasts = _forecast_rows(run, result.forecast, skus, result.explanations)
        backtests = _backtest_rows(run, result.metrics, result.chosen, result.explanations, skus)
        _attach_backtest_windows(backtests, result.backtest, skus)
    with transaction.atomic():
        Forecast.objects.filter(run=run, product_id__in=product_ids).delete()
        SeriesBacktest.objects.filter(run=run, product_id__in=product_ids).delete()
        Forecast.objects.bulk_create(forecasts, batch_size=2000)
        SeriesBacktest.objects.bulk_create(backtests, batch_size=2000)
        ForecastRun.objects.filter(pk=run_id).update(series_done=F("series_done") + len(product_ids))
    run.refresh_from_db(fields=["series_done", "series_total"])
    pct = 1 + 98 * run.series_done / max(run.series_total, 1)
    job_run_progress(run_id=run.job_id, progress=pct, message=f"{run.series_done}/{run.series_total} series")
    return len(forecasts)


def _with_covariates(run: ForecastRun, history: pd.DataFrame, lines: pd.DataFrame, product_ids: list[int]):
    """Promotion flags, discount depth (and price, when the run asks for it) as covariates, known over the horizon."""
    step = pd.Timedelta(days=7 if run.freq == Frequency.WEEKLY else 1)
    end = pd.Timestamp(run.history_end) + step * (run.horizon + 1)
    promotions = promotions_frame(product_ids=product_ids, start=history["date"].min().date(), end=end.date())
    # Fixed when the run was created, so that every chunk of a run is forecast alike.
    prices = price_per_period(lines, run.freq) if run.job.parameters.get("price_covariate") else None
    return with_known_covariates(history, run.horizon, run.freq, promotions=promotions, prices=prices)


def _cold_flags(explanations: pd.DataFrame) -> dict[str, bool]:
    if explanations is None or explanations.empty or "cold_start" not in explanations.columns:
        return {}
    return dict(zip(explanations["series_id"].astype(str), explanations["cold_start"].astype(bool), strict=True))


def _forecast_rows(run: ForecastRun, frame: pd.DataFrame, skus: dict[str, int], explanations) -> list[Forecast]:
    cols = {q: quantile_column(q) for q in run.quantiles}
    cold = _cold_flags(explanations)
    rows = []
    for rec in frame.to_dict("records"):
        sid = str(rec["series_id"])
        values = {str(q): float(rec[c]) for q, c in cols.items()}
        rows.append(
            Forecast(
                run=run,
                product_id=skus[sid],
                date=pd.Timestamp(rec["date"]).date(),
                q10=values.get("0.1", 0.0),
                q50=values.get("0.5", 0.0),
                q90=values.get("0.9", 0.0),
                quantiles=values,
                model=str(rec.get("model", ""))[:40],
                is_cold_start=cold.get(sid, False),
            )
        )
    return rows


def _num(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def _round(value, digits: int = 3) -> float | None:
    number = _num(value)
    return None if number is None else round(number, digits)


def _backtest_rows(run, metrics: pd.DataFrame, chosen: pd.Series, explanations, skus) -> list[SeriesBacktest]:
    explained = {}
    if explanations is not None and not explanations.empty:
        for rec in explanations.to_dict("records"):
            explained[str(rec["series_id"])] = {
                k: (_round(v) if isinstance(v, (int, float, np.floating)) else str(v))
                for k, v in rec.items()
                if k not in {"series_id", "model"} and not k.startswith("backtest_")  # scores have columns
            }
    chosen_map = {str(k): str(v) for k, v in chosen.items()}
    rows = []
    for rec in metrics.to_dict("records"):
        sid = str(rec["series_id"])
        if sid not in skus:
            continue
        is_chosen = chosen_map.get(sid) == rec["model"]
        rows.append(
            SeriesBacktest(
                run=run,
                product_id=skus[sid],
                model=str(rec["model"])[:40],
                chosen=is_chosen,
                wape=_num(rec.get("wape")),
                mase=_num(rec.get("mase")),
                bias=_num(rec.get("bias")),
                pinball=_num(rec.get("pinball")),
                coverage=_num(rec.get("coverage", rec.get("coverage_80"))),
                actual_total=_round(rec.get("actual_total")),
                abs_error_total=_round(rec.get("abs_error_total")),
                explanation=explained.get(sid, {}) if is_chosen else {},
            )
        )
    return rows


def _attach_backtest_windows(backtests: list[SeriesBacktest], frame: pd.DataFrame | None, skus: dict[str, int]) -> None:
    """Store each chosen row's backtest forecasts compactly (lists of dates and rounded values): every origin's
    window in ``origins``, the last one also in ``last_origin`` for the chart."""
    if frame is None or frame.empty:
        return
    chosen = {(b.product_id, b.model): b for b in backtests if b.chosen}
    for (sid, model), part in frame.sort_values(["origin", "date"]).groupby(["series_id", "model"], sort=False):
        product_id = skus.get(str(sid))
        row = None if product_id is None else chosen.get((product_id, str(model)))
        if row is None:
            continue
        row.origins = [
            {
                "dates": [d.date().isoformat() for d in pd.to_datetime(window["date"])],
                # An unobserved period (no stock) has no actual: null, never NaN, which JSON does not have.
                **{c: [_round(v, 2) for v in window[c]] for c in ("actual", "q10", "q50", "q90")},
            }
            for _, window in part.groupby("origin", sort=True)
        ]
        row.last_origin = row.origins[-1]


def forecast_run_activate(*, run_id: int) -> ForecastRun:
    """Make a completed run the one buyers see; a failed or partial run never replaces the active one."""
    with transaction.atomic():
        run = ForecastRun.objects.select_for_update().select_related("job").get(pk=run_id)
        if run.job.status != JobStatus.RUNNING:
            raise Conflict(f"Forecast run {run_id} is {run.job.status}; only a running run can complete.")
        if run.series_done < run.series_total:
            raise Conflict(f"Forecast run {run_id} is partial: {run.series_done} of {run.series_total} series.")
        previous = ForecastRun.objects.filter(freq=run.freq, is_active=True).exclude(pk=run_id)
        previous_ids = list(previous.values_list("pk", flat=True))
        previous.update(is_active=False)
        run.is_active = True
        run.activated_at = timezone.now()
        run.save(update_fields=["is_active", "activated_at"])
        metrics = forecast_run_summary(run)
        JobRun.objects.filter(pk=run.job_id).update(
            status=JobStatus.SUCCEEDED, progress=100, metrics=metrics, finished_at=timezone.now(),
            message=f"{run.series_total} series forecast",
        )  # fmt: skip
        audit_event_record(
            actor=run.job.created_by, verb="forecast_run.activate", obj=run, before={"active_runs": previous_ids},
            after={"active_run": run.pk},
        )  # fmt: skip
    return run


def forecast_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed; the previously active run keeps serving."""
    run = ForecastRun.objects.get(pk=run_id)
    job_run_fail(run_id=run.job_id, error=error)


def forecast_run_summary(run: ForecastRun) -> dict:
    """Headline accuracy of a run: backtest WAPE, bias and coverage of the chosen models, and the model mix."""
    chosen = pd.DataFrame.from_records(
        SeriesBacktest.objects.filter(run=run, chosen=True).values("model", "wape", "bias", "coverage")
    )
    if chosen.empty:
        return {"series": run.series_total, "model_mix": {}}
    return {
        "series": run.series_total,
        "backtest_wape_median": _num(chosen["wape"].median()),
        "backtest_bias_median": _num(chosen["bias"].median()),
        "backtest_coverage_mean": _num(chosen["coverage"].mean()),
        "model_mix": {str(k): int(v) for k, v in chosen["model"].value_counts().items()},
    }
