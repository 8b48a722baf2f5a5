"""Reads of the inventory app."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from retailai.commerce.selectors import channel_for_partner
from retailai.core.choices import Role
from retailai.core.roles import has_role

from .calibration import cover_periods
from .engine.ledger import out_of_stock_days
from .models import StockLevel, StockMovement, Supplier, SupplierProduct


def supplier_for_partner(user) -> Supplier | None:
    """The supplier a Partner user acts for, if any."""
    link = getattr(user, "supplier_partner", None) if user.is_authenticated else None
    return link.supplier if link is not None else None


def stock_levels_visible_to(user) -> QuerySet[StockLevel]:
    """Internal roles see all stock; a supplier partner the stock of what it supplies; a channel partner
    the stock at the locations that serve its channel."""
    qs = StockLevel.objects.select_related("product", "location").order_by("product__sku", "location__code")
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    supplier = supplier_for_partner(user)
    if supplier is not None:
        return qs.filter(product__supplier_terms__supplier=supplier).distinct()
    channel = channel_for_partner(user)
    if channel is not None:
        return qs.filter(location__channels=channel).distinct()
    return qs.none()


def stock_summary() -> dict:
    """Headline stock figures for the home page: locations, SKUs with stock somewhere, SKUs stocked out everywhere."""
    from django.db.models import Max

    from .models import Location

    per_product = StockLevel.objects.values("product").annotate(top=Max("on_hand"))
    with_stock = per_product.filter(top__gt=0).count()
    return {
        "locations": Location.objects.filter(active=True).count(),
        "skus_with_stock": with_stock,
        "skus_out_of_stock": per_product.count() - with_stock,
    }


def suppliers_visible_to(user) -> QuerySet[Supplier]:
    """Internal roles see every supplier; a supplier partner only its own."""
    qs = Supplier.objects.all()
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    supplier = supplier_for_partner(user)
    return qs.filter(pk=supplier.pk) if supplier is not None else qs.none()


def supplier_products_visible_to(user) -> QuerySet[SupplierProduct]:
    """Internal roles see all supply terms; a supplier partner only its own."""
    qs = SupplierProduct.objects.select_related("supplier", "product").order_by("supplier__code", "product__sku")
    if has_role(user, Role.STAFF, Role.BUYER, Role.MARKETER):
        return qs
    supplier = supplier_for_partner(user)
    return qs.filter(supplier=supplier) if supplier is not None else qs.none()


def stockout_days_frame(*, product_ids: list[int], until) -> pd.DataFrame:
    """Days up to `until` (a local date) on which a product had no stock at any location (``series_id`` = sku,
    ``date``), from the stock ledger; the forecasting runs read it (``FORECAST_STOCKOUT_DAYS``)."""
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    rows = (
        StockMovement.objects.filter(product_id__in=product_ids, at__lt=end)
        .order_by("at", "pk")
        .values_list("product__sku", "location_id", "at", "on_hand_after")
    )
    columns = ["series_id", "location", "at", "on_hand_after"]
    ledger = pd.DataFrame.from_records(rows.iterator(chunk_size=20_000), columns=columns)
    if not ledger.empty:
        local = pd.to_datetime(ledger["at"], utc=True).dt.tz_convert(timezone.get_current_timezone_name())
        ledger["at"] = local.dt.tz_localize(None)
    return out_of_stock_days(ledger, pd.Timestamp(until))


def planning_horizon_days(*, period_days: int = 1) -> int:
    """The longest cover, in days, that a suggested purchase order plans from the forecast; 0 without supply terms.

    Over the primary terms of active suppliers for products stocked at an active location (those the nightly
    suggestions plan), the cover of each is counted as a suggested line counts it (``cover_periods``): lead time
    plus its allowance for late deliveries, plus the review period, each in whole periods of `period_days`. The
    forecasting runs read it to reach that far (``FORECAST_MIN_HORIZON_DAYS``).
    """
    review_days = settings.PO_REVIEW_PERIOD_DAYS
    leads = (
        SupplierProduct.objects.filter(
            is_primary=True, supplier__active=True, product__stock_levels__location__active=True
        )
        .order_by()
        .values_list("lead_time_days", "lead_time_std_days")
        .distinct()
    )
    longest = 0
    for lead, std in leads:
        terms = SupplierProduct(lead_time_days=lead, lead_time_std_days=std)
        _, lead_periods, review_periods = cover_periods(terms, period_days, review_days)
        longest = max(longest, lead_periods + review_periods)
    return longest * period_days
