"""Reads of the inventory app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from forecasting.engine.series import demand_from_lines
from forecasting.selectors import order_lines_frame
from retailai.commerce.selectors import channel_for_partner
from retailai.core.choices import Role
from retailai.core.roles import has_role

from .calibration import cover_periods
from .engine.ledger import out_of_stock_days
from .engine.overrides import (
    HindsightTotals,
    OverrideTotals,
    cover_demand,
    hindsight,
    hindsight_totals,
    override_changes,
    override_table,
    override_totals,
)
from .models import PurchaseOrderLine, StockLevel, StockMovement, Supplier, SupplierProduct


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


#: How the lines of one purchase order can be ordered on its page.
LINE_SORTS = ("urgency", "value", "change", "sku")


def cover_slack(explanation: dict | None) -> float | None:
    """Days of cover the stock on hand and on order leaves beyond the lead time (negative: short before delivery)."""
    e = explanation or {}
    before, lead = e.get("days_of_cover_before"), e.get("lead_time_days")
    if before is None or lead is None:
        return None
    return round(float(before) - float(lead), 1)


def purchase_order_lines_for_review(
    purchase_order, *, query: str = "", sort: str = "urgency", short_only: bool = False
) -> list[PurchaseOrderLine]:
    """One order's lines as a buyer reviews them: searched, filtered and ordered; each carries ``cover_slack``
    and ``cover_shortfall`` (the days short, or None).

    ``urgency`` puts the lines that run out soonest against the lead time first (lines without a forecast
    last), then the larger values; ``value`` the largest values first; ``change`` the largest edits against
    the suggestion first; ``sku`` the SKU order. A query matches the start of the SKU or any part of the name.
    """
    if sort not in LINE_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    lines = list(purchase_order.lines.select_related("product").order_by("product__sku", "pk"))
    for line in lines:
        line.cover_slack = cover_slack(line.explanation)
        line.cover_shortfall = -line.cover_slack if line.cover_slack is not None and line.cover_slack < 0 else None
    needle = query.strip().casefold()
    if needle:
        lines = [
            ln for ln in lines if ln.product.sku.casefold().startswith(needle) or needle in ln.product.name.casefold()
        ]
    if short_only:
        lines = [ln for ln in lines if ln.cover_slack is not None and ln.cover_slack < 0]
    if sort == "urgency":
        lines.sort(key=lambda ln: (ln.cover_slack is None, ln.cover_slack or 0.0, -ln.value))
    elif sort == "value":
        lines.sort(key=lambda ln: -ln.value)
    elif sort == "change":
        lines.sort(key=lambda ln: -abs(ln.quantity - ln.suggested_quantity))
    return lines


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


# --------------------------------------------------------------------------------------------- overrides

#: Statuses of orders that were finally approved (and not cancelled since): their lines are the buyers' decisions.
DECIDED_PO_STATUSES = ("approved", "sent", "partially_received", "received", "closed")

_LINE_COLUMNS = [
    "line_id", "product_id", "sku", "supplier", "location", "approver", "approved_on", "auto", "suggested",
    "approved", "unit_cost", "cover_periods", "period_days", "safety_stock", "inventory_position", "cover_start",
]  # fmt: skip


def _snapshot_number(explanation: dict, key: str) -> float | None:
    value = (explanation or {}).get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def approved_lines_frame(*, since: date, supplier: Supplier | None = None, location=None) -> pd.DataFrame:
    """Lines of the orders finally approved on or after `since` (a local date), with what was suggested and
    approved, who approved (blank when the order approved itself) and the figures the suggestion planned with.

    ``approved_on`` is the day of the final approval (the second one when two were needed); ``cover_start`` the
    first day the suggestion's forecast covered (the day it was suggested for).
    """
    tz = timezone.get_current_timezone()
    qs = (
        PurchaseOrderLine.objects.annotate(
            decided_at=Coalesce("purchase_order__second_approved_at", "purchase_order__approved_at")
        )
        .filter(
            purchase_order__status__in=DECIDED_PO_STATUSES,
            decided_at__gte=timezone.make_aware(datetime.combine(since, time.min), tz),
        )
        .order_by("pk")
    )
    if supplier is not None:
        qs = qs.filter(purchase_order__supplier=supplier)
    if location is not None:
        qs = qs.filter(purchase_order__location=location)
    rows = []
    for line in qs.values(
        "pk", "product_id", "product__sku", "purchase_order__supplier__name", "purchase_order__location__name",
        "purchase_order__approved_by__username", "purchase_order__approved_by__first_name",
        "purchase_order__approved_by__last_name", "purchase_order__is_auto_approved",
        "purchase_order__generated_for", "decided_at", "suggested_quantity", "quantity", "unit_cost", "explanation",
    ):  # fmt: skip
        snap = line["explanation"] or {}
        approved_on = timezone.localtime(line["decided_at"], tz).date()
        full_name = (
            f"{line['purchase_order__approved_by__first_name']} {line['purchase_order__approved_by__last_name']}"
        )
        forecast_start = snap.get("forecast_start")
        start = date.fromisoformat(forecast_start) if forecast_start else line["purchase_order__generated_for"]
        rows.append(
            (
                line["pk"], line["product_id"], line["product__sku"], line["purchase_order__supplier__name"],
                line["purchase_order__location__name"],
                full_name.strip() or line["purchase_order__approved_by__username"] or "",
                approved_on, bool(line["purchase_order__is_auto_approved"]), int(line["suggested_quantity"]),
                int(line["quantity"]), float(line["unit_cost"]), _snapshot_number(snap, "cover_periods"),
                _snapshot_number(snap, "period_days") or 1.0, _snapshot_number(snap, "safety_stock"),
                _snapshot_number(snap, "inventory_position"), start or approved_on,
            )
        )  # fmt: skip
    return pd.DataFrame(rows, columns=_LINE_COLUMNS).astype({"auto": bool})


@dataclass(frozen=True)
class OverridesReport:
    """What buyers changed in the suggestions approved over a period, where, and whether it helped."""

    since: date
    lines: pd.DataFrame  # approved lines with their changes (``override_changes``)
    totals: OverrideTotals
    by_supplier: pd.DataFrame
    by_approver: pd.DataFrame
    hindsight: HindsightTotals


def overrides_report(*, days: int, today: date, supplier: Supplier | None = None, location=None) -> OverridesReport:
    """The overrides of the last `days` days up to `today`: headline figures, per supplier and per approver, and
    the hindsight verdict of every changed line whose cover window has passed.

    A line's cover runs ``cover_periods`` periods from the day it was suggested for; it is judged once its approval
    day plus that cover is on or before `today`, against the net demand of those days as the forecasts count it
    (all channels, per product).
    """
    since = today - timedelta(days=days)
    lines = override_changes(approved_lines_frame(since=since, supplier=supplier, location=location))
    cover_days = pd.to_timedelta(lines["cover_periods"] * lines["period_days"], unit="D")
    start = pd.to_datetime(lines["cover_start"])
    windows = pd.DataFrame({"series_id": lines["sku"], "start": start, "end": start + cover_days})
    lines["cover_end"] = pd.to_datetime(lines["approved_on"]) + cover_days
    lines["actual_demand"] = _actual_demand(lines, windows, today)
    lines["stockout_days"] = _stockout_days(lines, windows, today)
    judged = hindsight(lines, today=today)
    manual = judged.loc[~judged["auto"].to_numpy()]
    return OverridesReport(
        since=since,
        lines=judged,
        totals=override_totals(judged),
        by_supplier=override_table(manual, "supplier"),
        by_approver=override_table(manual, "approver"),
        hindsight=hindsight_totals(judged),
    )


def _judged(lines: pd.DataFrame, windows: pd.DataFrame, today: date) -> pd.Series:
    """The buyer-approved lines whose cover has passed: the ones hindsight can judge."""
    return ~lines["auto"] & windows["end"].notna() & (lines["cover_end"] <= pd.Timestamp(today))


def _stockout_days(lines: pd.DataFrame, windows: pd.DataFrame, today: date) -> pd.Series:
    """Days without stock at any location (the stock ledger) inside the cover window of each judged line."""
    wanted = _judged(lines, windows, today)
    out = pd.Series(0, index=lines.index)
    if not wanted.any():
        return out
    days = stockout_days_frame(
        product_ids=sorted(set(lines.loc[wanted, "product_id"])), until=windows.loc[wanted, "end"].max().date()
    )
    for i in lines.index[wanted]:
        w = windows.loc[i]
        sku_days = days.loc[days["series_id"] == w["series_id"], "date"]
        out[i] = int(((sku_days >= w["start"]) & (sku_days < w["end"])).sum())
    return out


def _actual_demand(lines: pd.DataFrame, windows: pd.DataFrame, today: date) -> pd.Series:
    """Net demand over the cover window of each buyer-approved line whose cover has passed (NaN for the others)."""
    wanted = _judged(lines, windows, today)
    out = pd.Series(float("nan"), index=lines.index)
    if not wanted.any():
        return out
    windows = windows[wanted]
    tz = timezone.get_current_timezone()
    first, last = windows["start"].min().date(), windows["end"].max().date()
    order_lines = order_lines_frame(
        product_ids=sorted(set(lines.loc[wanted, "product_id"])),
        since=timezone.make_aware(datetime.combine(first, time.min), tz),
        until=timezone.make_aware(datetime.combine(last, time.min), tz),
    )
    daily = (
        demand_from_lines(order_lines, freq="D", end=pd.Timestamp(last) - pd.Timedelta(days=1), product_col="sku")
        if not order_lines.empty
        else order_lines
    )
    out[wanted] = cover_demand(daily, windows)
    return out
