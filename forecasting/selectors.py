"""Reads of the forecasting app: demand history from the order book, the active run, what buyers may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from retailai.commerce.choices import LineKind
from retailai.commerce.models import OrderLine, Product, Promotion
from retailai.core.choices import Role
from retailai.core.roles import has_role

from .engine.series import demand_from_lines
from .models import Forecast, ForecastRun, SeriesBacktest


def order_lines_frame(*, product_ids: list[int] | None = None, until=None, since=None) -> pd.DataFrame:
    """Demand-relevant order lines as a frame (product sku, local date, kind, quantity), merchandise only."""
    qs = OrderLine.objects.filter(
        product__is_merchandise=True, kind__in=[LineKind.SALE, LineKind.CANCELLATION, LineKind.RETURN]
    )
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    if until is not None:
        qs = qs.filter(placed_at__lt=until)
    if since is not None:
        qs = qs.filter(placed_at__gte=since)
    rows = qs.values_list("product__sku", "placed_at", "kind", "quantity", "unit_price", "discount_amount").iterator(
        chunk_size=20_000
    )
    columns = ["sku", "placed_at", "kind", "quantity", "unit_price", "discount_amount"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    if frame.empty:
        return pd.DataFrame({"sku": [], "date": pd.to_datetime([]), "kind": [], "quantity": [], "net_price": []})
    local = pd.to_datetime(frame.pop("placed_at"), utc=True).dt.tz_convert(timezone.get_current_timezone_name())
    frame["date"] = local.dt.tz_localize(None).dt.normalize()
    # What the customer paid per unit: the line's discount spread over its units.
    price = pd.to_numeric(frame.pop("unit_price"), errors="coerce")
    discount = pd.to_numeric(frame.pop("discount_amount"), errors="coerce").fillna(0.0)
    frame["net_price"] = (price - discount / frame["quantity"].clip(lower=1)).clip(lower=0.0)
    return frame


def stockout_days_frame(*, product_ids: list[int], until) -> pd.DataFrame:
    """Days up to `until` (a local date) on which a product had no stock (``series_id`` = sku, ``date``).

    The stock ledger belongs to the inventory app, which reads this one; so the reader is named by the
    ``FORECAST_STOCKOUT_DAYS`` setting (a dotted path) instead of imported. Unset: no days are known.
    """
    path = getattr(settings, "FORECAST_STOCKOUT_DAYS", "")
    if not path:
        return pd.DataFrame({"series_id": pd.Series([], dtype=str), "date": pd.to_datetime([])})
    return import_string(path)(product_ids=product_ids, until=until)


def longest_cover_days(*, period_days: int) -> int:
    """The longest cover, in days, that purchase orders plan from the forecast (in whole periods of
    `period_days`), or 0 when none is known.

    The supply terms belong to the inventory app, which reads this one; so the reader is named by the
    ``FORECAST_MIN_HORIZON_DAYS`` setting (a dotted path) instead of imported. Unset: 0.
    """
    path = getattr(settings, "FORECAST_MIN_HORIZON_DAYS", "")
    if not path:
        return 0
    return int(import_string(path)(period_days=period_days) or 0)


def history_days() -> int:
    """Days from the first to the last merchandise order line, both counted (0 without any)."""
    lines = OrderLine.objects.filter(product__is_merchandise=True)
    span = lines.aggregate(first=Min("placed_at"), last=Max("placed_at"))
    if span["first"] is None:
        return 0
    first, last = (timezone.localtime(span[k]).date() for k in ("first", "last"))
    return (last - first).days + 1


def demand_peaks(*, product_ids: list[int], freq: str, until, periods: int, min_periods: int) -> dict[int, float]:
    """The largest period of net demand per product over the `periods` before `until` (a local date).

    Only products with at least `min_periods` periods since their first sale in that window get a peak: a young
    product's few periods say little about how high its demand can go.
    """
    step = 7 if freq == "W" else 1
    end = datetime.combine(until, time.min)
    start = end - timedelta(days=periods * step)
    tz = timezone.get_current_timezone()
    lines = order_lines_frame(
        product_ids=product_ids, until=timezone.make_aware(end, tz), since=timezone.make_aware(start, tz)
    )
    if lines.empty:
        return {}
    last = pd.Timestamp(end - timedelta(days=step))
    demand = demand_from_lines(lines, freq=freq, end=last, product_col="sku")
    demand = demand[demand["date"] <= last]
    stats = demand.groupby("series_id")["quantity"].agg(["max", "size"])
    stats = stats[stats["size"] >= min_periods]
    ids = dict(Product.objects.filter(pk__in=product_ids).values_list("sku", "pk"))
    return {ids[sku]: float(row["max"]) for sku, row in stats.iterrows() if sku in ids}


def promotions_frame(*, product_ids: list[int], start=None, end=None) -> pd.DataFrame:
    """Promotions of some products overlapping [start, end] as the engine's frame.

    Columns: ``series_id`` (SKU), ``start``, ``end``, 0/1 ``feature, display, tpr`` and ``depth``. The depth is
    the promotion's discount depth, else 1 - promo price / list price, else 0. A promotion in one channel or
    location counts for the product's series, which is the product's demand across all of them.
    """
    qs = Promotion.objects.filter(product_id__in=product_ids)
    if start is not None:
        qs = qs.filter(end_date__gte=start)
    if end is not None:
        qs = qs.filter(start_date__lte=end)
    rows = qs.values_list(
        "product__sku", "start_date", "end_date", "is_feature", "is_display", "is_price_reduction", "discount_depth",
        "promo_price", "product__list_price",
    )  # fmt: skip
    columns = ["series_id", "start", "end", "feature", "display", "tpr", "depth", "promo_price", "list_price"]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    if frame.empty:
        return frame.drop(columns=["promo_price", "list_price"])
    for c in ("depth", "promo_price", "list_price"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    with np.errstate(all="ignore"):
        implied = (1.0 - frame["promo_price"] / frame["list_price"].where(frame["list_price"] > 0)).clip(0.0, 0.99)
    frame["depth"] = frame["depth"].fillna(implied).fillna(0.0)
    for c in ("feature", "display", "tpr"):
        frame[c] = frame[c].astype(float)
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    return frame.drop(columns=["promo_price", "list_price"])


def product_promotions(*, product: Product, start, end) -> list[Promotion]:
    """A product's promotions overlapping [start, end], earliest first (for the forecast chart)."""
    return list(
        Promotion.objects.filter(product=product, end_date__gte=start, start_date__lte=end)
        .select_related("channel")
        .order_by("start_date", "code")
    )


def product_attributes(skus: list[str]) -> pd.DataFrame:
    """Category and list price per SKU, for forecasting new products from similar ones."""
    rows = Product.objects.filter(sku__in=skus).values_list("sku", "category__code", "list_price")
    frame = pd.DataFrame.from_records(rows, columns=["series_id", "category", "price"])
    frame["category"] = frame["category"].fillna("")
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    return frame


def active_run(freq: str = "D") -> ForecastRun | None:
    """The run whose forecasts buyers see, if any."""
    return ForecastRun.objects.select_related("job").filter(freq=freq, is_active=True).first()


def forecasts_visible_to(user) -> QuerySet[Forecast]:
    """Forecasts of active runs: internal roles see all; a supplier partner those of the products it supplies."""
    qs = Forecast.objects.filter(run__is_active=True).select_related("product", "run")
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    if has_role(user, Role.PARTNER):
        supplied = Product.objects.filter(supplier_terms__supplier__partners__user=user).values("pk")
        return qs.filter(product_id__in=supplied)
    return qs.none()


def product_forecast(*, product: Product, run: ForecastRun | None) -> list[Forecast]:
    """A product's forecast rows in one run, by date."""
    if run is None:
        return []
    return list(Forecast.objects.filter(run=run, product=product).order_by("date"))


def product_backtests(*, product: Product, run: ForecastRun | None) -> list[SeriesBacktest]:
    """Every candidate's backtest score for a product in one run, chosen first."""
    if run is None:
        return []
    return list(SeriesBacktest.objects.filter(run=run, product=product).order_by("-chosen", "wape"))


@dataclass
class RunAccuracy:
    """Backtest accuracy of a run's chosen models: overall, by category, the model mix and the hardest series."""

    series: int = 0
    wape_median: float | None = None
    bias_median: float | None = None
    coverage_mean: float | None = None
    by_category: list[dict] = field(default_factory=list)
    model_mix: list[tuple[str, int]] = field(default_factory=list)
    hardest: list[dict] = field(default_factory=list)
    stopped: list[dict] = field(default_factory=list)
    stockouts: list[dict] = field(default_factory=list)


def _finite(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def run_accuracy(run: ForecastRun, *, uncategorised: str = "—", hardest: int = 15) -> RunAccuracy:
    """WAPE, bias and 10–90 coverage of the chosen model of every series in a run, overall and by category."""
    columns = [
        "product__sku", "product__name", "product__category__name", "product__list_price", "model", "wape", "bias",
        "coverage", "actual_total", "abs_error_total",
    ]  # fmt: skip
    chosen = pd.DataFrame.from_records(
        SeriesBacktest.objects.filter(run=run, chosen=True).values(*columns), columns=columns
    )
    if chosen.empty:
        return RunAccuracy()
    chosen["product__category__name"] = chosen["product__category__name"].fillna(uncategorised)
    for c in ("wape", "bias", "coverage", "actual_total", "abs_error_total", "product__list_price"):
        chosen[c] = pd.to_numeric(chosen[c], errors="coerce")
    groups = chosen.groupby("product__category__name")
    by_cat = pd.DataFrame(
        {
            "series": groups.size(),
            "wape": groups["wape"].median(),
            "bias": groups["bias"].median(),
            "coverage": groups["coverage"].mean(),
            "top_model": groups["model"].agg(lambda m: m.value_counts().index[0]),
        }
    ).sort_values(["wape", "series"], ascending=[True, False], na_position="last")
    return RunAccuracy(
        series=len(chosen),
        wape_median=_finite(chosen["wape"].median()),
        bias_median=_finite(chosen["bias"].median()),
        coverage_mean=_finite(chosen["coverage"].mean()),
        by_category=[
            {"category": str(name), **{k: (_finite(v) if k != "top_model" else v) for k, v in row.items()}}
            for name, row in by_cat.iterrows()
        ],
        model_mix=[(str(k), int(v)) for k, v in chosen["model"].value_counts().items()],
        hardest=largest_errors(chosen, hardest),
        stopped=sales_stopped(run),
        stockouts=lost_to_stockouts(run),
    )


def largest_errors(chosen: pd.DataFrame, limit: int) -> list[dict]:
    """The series whose backtest missed the most: by the value of the units missed (at list price), then by the
    units, then by WAPE for runs stored before the totals were.

    Ranking by WAPE alone puts the smallest sellers first: one unit forecast against a one-off sale of a tenth
    of a unit scores 10, while a best seller missed by thousands of units scores 0.3. The value missed is where
    a planner's correction pays. Each row also carries its share of all the value (or units) missed, in percent.
    """
    d = chosen.copy()
    d["error_value"] = d["abs_error_total"] * d["product__list_price"]
    total_value, total_units = d["error_value"].sum(), d["abs_error_total"].sum()
    share = d["error_value"] / total_value if total_value > 0 else d["abs_error_total"] / total_units
    d["error_share_pct"] = 100 * share
    d = d.sort_values(
        ["error_value", "abs_error_total", "wape"], ascending=False, na_position="last", kind="stable"
    ).head(limit)
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in rec.items()}
        for rec in d.to_dict("records")
    ]


def sales_stopped(run: ForecastRun, *, limit: int = 50) -> list[dict]:
    """Series of a run whose sales stopped improbably long ago (``sales_stopped_periods`` in the explanation).

    Largest first by the demand missed since: periods without sales × the demand per period before they began.
    """
    rows = (
        SeriesBacktest.objects.filter(run=run, chosen=True, explanation__sales_stopped_periods__gt=0)
        .values_list("product__sku", "product__name", "product__category__name", "explanation")
        .order_by()
    )
    out: list[dict[str, Any]] = []
    for sku, name, category, e in rows:
        periods, rate = int(e.get("sales_stopped_periods") or 0), float(e.get("demand_before_stop") or 0.0)
        out.append(
            {"sku": sku, "name": name, "category": category, "periods": periods, "rate": rate, "missed": periods * rate}
        )
    return sorted(out, key=lambda r: (-r["missed"], r["sku"]))[:limit]


def lost_to_stockouts(run: ForecastRun, *, limit: int = 50) -> list[dict]:
    """Products of a run with days out of stock lately (``recent_unobserved_periods``) and the demand those days
    likely held, in units and at the product's list price (None without one). Largest lost value first."""
    rows = (
        SeriesBacktest.objects.filter(run=run, chosen=True, explanation__recent_unobserved_periods__gt=0)
        .values_list("product__sku", "product__name", "product__category__name", "product__list_price", "explanation")
        .order_by()
    )
    out: list[dict[str, Any]] = []
    for sku, name, category, price, e in rows:
        units = float(e.get("lost_demand") or 0.0)
        value = None if price is None else units * float(price)
        out.append(
            {
                "sku": sku,
                "name": name,
                "category": category,
                "periods": int(e.get("recent_unobserved_periods") or 0),
                "units": units,
                "value": value,
            }
        )
    return sorted(out, key=lambda r: (-(r["value"] or 0.0), -r["units"], r["sku"]))[:limit]


def backtest_windows(*, run: ForecastRun, product_ids: list[int], location_code: str = "") -> dict[int, list[dict]]:
    """Per product, what the chosen model forecast from each of the run's backtest origins (oldest first), with
    the demand that followed (``dates, actual, q10, q50, q90`` per window); rows for the location win over
    global ones."""
    rows = SeriesBacktest.objects.filter(
        run=run, product_id__in=product_ids, chosen=True, location_code__in=[location_code, ""]
    ).values_list("product_id", "location_code", "origins", "last_origin")
    out: dict[int, list[dict]] = {}
    for product_id, code, origins, last in rows:
        windows = origins or ([last] if last else [])
        if windows and (code == location_code or product_id not in out):
            out[product_id] = windows
    return out
