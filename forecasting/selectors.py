"""Reads of the forecasting app: demand history from the order book, the active run, what buyers may see."""

from __future__ import annotations

import pandas as pd
from django.db.models import QuerySet
from django.utils import timezone

from retailai.commerce.choices import LineKind
from retailai.commerce.models import OrderLine, Product
from retailai.core.choices import Role
from retailai.core.roles import has_role

from .models import Forecast, ForecastRun, SeriesBacktest


def order_lines_frame(*, product_ids: list[int] | None = None, until=None) -> pd.DataFrame:
    """Demand-relevant order lines as a frame (product sku, local date, kind, quantity), merchandise only."""
    qs = OrderLine.objects.filter(
        product__is_merchandise=True, kind__in=[LineKind.SALE, LineKind.CANCELLATION, LineKind.RETURN]
    )
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    if until is not None:
        qs = qs.filter(placed_at__lt=until)
    rows = qs.values_list("product__sku", "placed_at", "kind", "quantity").iterator(chunk_size=20_000)
    frame = pd.DataFrame.from_records(rows, columns=["sku", "placed_at", "kind", "quantity"])
    if frame.empty:
        return pd.DataFrame({"sku": [], "date": pd.to_datetime([]), "kind": [], "quantity": []})
    local = pd.to_datetime(frame.pop("placed_at"), utc=True).dt.tz_convert(timezone.get_current_timezone_name())
    frame["date"] = local.dt.tz_localize(None).dt.normalize()
    return frame


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
