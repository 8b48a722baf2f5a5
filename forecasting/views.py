"""Buyer pages: the accuracy dashboard of forecast runs and a product's forecast chart."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retailai.commerce.models import Product
from retailai.core.charts import PALETTE, Band, Line, Span, bar_chart, time_chart
from retailai.core.choices import Role
from retailai.core.errors import DomainError
from retailai.core.roles import has_role

from . import services
from .engine.series import demand_from_lines
from .models import ForecastRun
from .selectors import (
    active_run,
    order_lines_frame,
    product_backtests,
    product_forecast,
    product_promotions,
    run_accuracy,
    stockout_days_frame,
)

PAGE_ROLES = (Role.STAFF, Role.BUYER)


def _require(request, *roles):
    if not has_role(request.user, *roles):
        raise PermissionDenied


@login_required
def run_dashboard(request):
    """A run's backtest accuracy (WAPE, bias and coverage overall and by category, model mix) and the latest runs.

    The active run by default; ``?run=<id>`` shows an earlier or newer run (linked from the admin).
    """
    _require(request, *PAGE_ROLES)
    freq = request.GET.get("freq", "D") if request.GET.get("freq") in {"D", "W"} else "D"
    run_id = request.GET.get("run", "")
    if run_id.isdigit():
        run = get_object_or_404(ForecastRun.objects.select_related("job"), pk=int(run_id))
        freq = run.freq
    else:
        run = active_run(freq)
    category_chart = mix_chart = None
    accuracy = run_accuracy(run, uncategorised=_("Uncategorised")) if run is not None else None
    by_category = (
        [{**r, "top_model_label": model_label(r.get("top_model"))} for r in accuracy.by_category] if accuracy else []
    )
    worst = [{**r, "model_label": model_label(r.get("model"))} for r in accuracy.hardest] if accuracy else []
    if accuracy is not None and accuracy.series:
        category_chart = bar_chart([(r["category"], r["wape"] or 0.0) for r in accuracy.by_category])
        mix_chart = bar_chart(
            [(model_label(k), float(v)) for k, v in accuracy.model_mix], value_format="{:.0f}", color=PALETTE[2]
        )
    # With no run of the chosen frequency, the page names the active run of the other one.
    other_run = active_run("W" if freq == "D" else "D") if run is None else None
    runs = ForecastRun.objects.select_related("job", "job__created_by").order_by("-pk")[:10]
    can_run = has_role(request.user, Role.STAFF)
    return render(
        request,
        "forecasting/run_dashboard.html",
        {
            "run": run,
            "accuracy": accuracy,
            "freq": freq,
            "runs": runs,
            "other_run": other_run,
            "category_chart": category_chart,
            "mix_chart": mix_chart,
            "worst": worst,
            "by_category": by_category,
            "can_run": can_run,
            "default_horizon": services.default_horizon(freq) if can_run else None,
            "max_horizon": services.max_horizon(freq),
            "query": request.GET.get("q", ""),
            "matches": _product_matches(request.GET.get("q", "")),
        },
    )


def _product_matches(query: str) -> list[Product]:
    query = query.strip()
    if not query:
        return []
    exact = Product.objects.filter(sku__iexact=query).first()
    if exact:
        return [exact]
    return list(Product.objects.filter(name__icontains=query, is_merchandise=True).order_by("sku")[:20])


@login_required
@require_POST
def run_now(request):
    """Staff start a retrain-and-forecast run now; it runs on the workers (or in process) with progress."""
    _require(request, Role.STAFF)
    from .tasks import forecast_run_task

    freq = request.POST.get("freq", "D")
    back = redirect(f"{reverse('forecasting:run-dashboard')}?freq={freq if freq in {'D', 'W'} else 'D'}")
    raw = request.POST.get("horizon", "").strip()
    if freq not in {"D", "W"}:
        messages.error(request, _("Frequency: “%(value)s” is neither D (daily) nor W (weekly).") % {"value": freq[:20]})
        return back
    if raw and not (raw.isascii() and raw.isdigit()):
        messages.error(request, _("Horizon: “%(value)s” is not a whole number of periods.") % {"value": raw[:20]})
        return back
    if raw and (len(raw) > 6 or int(raw) > services.max_horizon(freq)):
        messages.error(
            request,
            _("Horizon: at most %(max)s %(unit)s.")
            % {"max": services.max_horizon(freq), "unit": _("weeks") if freq == "W" else _("days")},
        )
        return back
    try:
        run = services.forecast_run_create(freq=freq, horizon=int(raw) if raw else None, user=request.user)
    except DomainError as exc:
        label = {"freq": _("Frequency"), "horizon": _("Horizon")}.get(exc.field or "", exc.field)
        messages.error(request, f"{label}: {exc.message}" if label else exc.message)
        return back
    transaction.on_commit(lambda: forecast_run_task.apply_async(args=[run.pk], queue="training"))
    messages.success(
        request,
        _("Forecast run #%(id)s queued: %(horizon)s %(unit)s ahead.")
        % {"id": run.pk, "horizon": run.horizon, "unit": _("weeks") if run.freq == "W" else _("days")},
    )
    return back


def model_labels() -> dict[str, str]:
    """Readable names of the forecasting models, by the code the engine stores."""
    return {
        "gbm": _("Gradient boosting"),
        "seasonal_naive": _("Seasonal naive"),
        "moving_average": _("Moving average"),
        "tsb": _("Croston/TSB"),
        "cold_start": _("From similar products"),
        "ensemble": _("Ensemble"),
        "ets": _("Exponential smoothing"),
        "sarimax": _("SARIMAX"),
        "lstm": _("LSTM"),
    }


def model_label(code: str | None) -> str:
    """A model's readable name; an unknown code is shown as it is."""
    if not code:
        return "—"
    return model_labels().get(code, code)


def _driver_labels() -> dict[str, str]:
    """Readable names of the engine's demand drivers (those of the promotion and price covariates of the app)."""
    return {
        "promo_feature_lift": _("Sales lift in feature/ad promotions"),
        "promo_display_lift": _("Sales lift in display promotions"),
        "promo_tpr_lift": _("Sales lift in price-cut promotions"),
        "price_elasticity": _("Price elasticity"),
    }


def _driver(key: str, value, *, freq: str = "D") -> tuple[str, object]:
    """A driver's label and shown value, in words and units: lifts as signed percentages, the baseline in units
    a day (or week), the weekday swing as a multiple of an average day, the peak weekday by name, driver names as
    their labels."""
    labels = {
        **_driver_labels(),
        "baseline_level": _("Baseline level"),
        "seasonality": _("Weekday swing") if freq == "D" else _("Week-to-week variation"),
        "peak_weekday": _("Busiest weekday"),
        "top_driver": _("Top driver"),
    }
    label = labels.get(key, key.replace("_", " ").capitalize())
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key.endswith("_lift") and number:
        return label, f"{value * 100:+.0f}%"
    if key == "baseline_level" and number:
        amount = f"{value:,.1f}" if abs(value) < 10 else f"{value:,.0f}"
        if freq == "W":
            return label, _("%(n)s units a week (recent average)") % {"n": amount}
        return label, _("%(n)s units a day (recent average)") % {"n": amount}
    if key == "seasonality" and number:
        if freq == "W":
            return label, _("%(pct)s%% of an average week (standard deviation)") % {"pct": f"{value * 100:.0f}"}
        return label, _("busiest and quietest weekday differ by %(x)s× an average day") % {"x": f"{value:.1f}"}
    if key == "peak_weekday" and number:
        return label, str(WEEKDAYS.get(int(value), value))
    if key == "top_driver" and isinstance(value, str):
        return label, labels.get(value, value.replace("_", " "))
    return label, value


#: Explanation keys the product page shows as notices of their own, not in the table of drivers.
NOT_DRIVERS = {
    "series_id",
    "model",
    "cold_start",
    "sales_stopped_periods",
    "demand_before_stop",
    "unobserved_periods",
    "recent_unobserved_periods",
    "lost_demand",
}


def _day_ranges(days) -> list[tuple[date, date]]:
    """Consecutive days as (first day, day after the last) pairs."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return out


@login_required
def product_forecast_page(request, sku: str):
    """History, forecast median with its 10–90 band, the backtest scores of every candidate and the drivers."""
    _require(request, *PAGE_ROLES)
    product = get_object_or_404(Product, sku=sku)
    freq = request.GET.get("freq", "D") if request.GET.get("freq") in {"D", "W"} else "D"
    run = active_run(freq)
    rows = product_forecast(product=product, run=run)
    backtests = product_backtests(product=product, run=run)
    history_points: list = []
    stockout_days: list[date] = []
    lines = order_lines_frame(product_ids=[product.pk])
    if not lines.empty:
        end = pd.Timestamp(run.history_end) if run and run.history_end else lines["date"].max()
        demand = demand_from_lines(lines, freq=freq, end=end, product_col="sku")
        start = end - pd.Timedelta(days=120 if freq == "D" else 364)
        demand = demand[demand["date"] >= start]
        history_points = [(d.date(), float(q)) for d, q in zip(demand["date"], demand["quantity"], strict=True)]
        out = stockout_days_frame(product_ids=[product.pk], until=end.date())
        stockout_days = [d.date() for d in out["date"] if d >= start]
    chosen = next((b for b in backtests if b.chosen), None)
    overlay = (chosen.last_origin if chosen else None) or {}
    backtest_points = [
        (date.fromisoformat(d), lo, mid, hi)
        for d, lo, mid, hi in zip(
            overlay.get("dates", []),
            overlay.get("q10", []),
            overlay.get("q50", []),
            overlay.get("q90", []),
            strict=False,
        )
    ]
    span_start = history_points[0][0] if history_points else (rows[0].date if rows else None)
    span_end = rows[-1].date if rows else (history_points[-1][0] if history_points else None)
    promotions = product_promotions(product=product, start=span_start, end=span_end) if span_start else []
    period = timedelta(days=7 if freq == "W" else 1)
    markers = []
    if backtest_points:
        markers.append((backtest_points[0][0], _("backtest origin")))
    if rows:
        markers.append((rows[0].date, _("forecast starts")))
    chart = time_chart(
        [
            Line(_("Actual demand"), history_points, color=PALETTE[7], key="actual"),
            Line(_("Forecast (median)"), [(r.date, r.q50) for r in rows], color=PALETTE[0], key="forecast"),
            Line(
                _("Backtest forecast (median)"),
                [(d, mid) for d, _lo, mid, _hi in backtest_points],
                color=PALETTE[1],
                dashed=True,
                key="backtest",
            ),
        ],
        [
            Band(_("P10–P90 interval"), [(r.date, r.q10, r.q90) for r in rows], color=PALETTE[0], key="forecast-band"),
            Band(
                _("Backtest P10–P90"),
                [(d, lo, hi) for d, lo, _mid, hi in backtest_points],
                color=PALETTE[1],
                key="backtest-band",
                opacity=0.12,
            ),
        ],
        spans=[
            Span(
                _("Promotion"),
                [(p.start_date, p.end_date + timedelta(days=1)) for p in promotions],
                key="promotion",
                offset_days=-period.days / 2,
            ),
            Span(
                _("Out of stock"),
                _day_ranges(stockout_days),
                color=PALETTE[4],
                key="stockout",
                offset_days=-0.5,
            ),
        ],
        markers=markers,
        y_label=_("Units per period"),
    )
    explanation = chosen.explanation if chosen else {}
    for backtest in backtests:
        backtest.model_label = model_label(backtest.model)
    drivers = [
        _driver(key, value, freq=freq)
        for key, value in explanation.items()
        if key not in NOT_DRIVERS and not key.startswith("backtest_")
    ]
    return render(
        request,
        "forecasting/product_forecast.html",
        {
            "product": product,
            "run": run,
            "rows": rows,
            "backtests": backtests,
            "chosen": chosen,
            "model_chosen": model_label(rows[0].model) if rows else "",
            "drivers": drivers,
            "stopped_periods": int(explanation.get("sales_stopped_periods") or 0),
            "demand_before_stop": float(explanation.get("demand_before_stop") or 0.0),
            "unobserved_periods": int(explanation.get("unobserved_periods") or 0),
            "chart": chart,
            "has_history": bool(history_points),
            "freq": freq,
            "total_median": sum(r.q50 for r in rows),
            "promotions": promotions,
            "has_backtest": bool(backtest_points),
        },
    )
