"""Reads of the inventory app."""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from forecasting.engine.series import demand_from_lines
from forecasting.models import Forecast
from forecasting.selectors import active_run, order_lines_frame
from retailai.commerce.selectors import channel_for_partner
from retailai.core.choices import Role
from retailai.core.roles import has_role

from .calibration import cover_periods
from .choices import MovementKind
from .engine.cover import daily_from_periods, days_of_cover
from .engine.leadtimes import DELIVERY_COLUMNS, delivery_events, planning_lead_time, supplier_lead_times
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
from .engine.projection import order_projection, window_totals
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


#: Days ahead the stock list reads the forecast for: cover past it shows as "more than" this.
STOCK_COVER_DAYS = 56
#: The forecast demand the stock list shows beside each row, in days.
STOCK_DEMAND_DAYS = 28
STOCK_SORTS = ("sku", "cover")
#: Expected units short before a new order arrives from which a stock row counts as running short.
STOCK_SHORT_UNITS = 0.5


def stock_cover_start(run, today: date) -> date:
    """The day the stock list counts cover from: today while the active run's forecast reaches it; otherwise the
    day after the run's history (a run whose horizon has passed, or a sample of past data), where it starts."""
    if run is None or run.history_end is None:
        return today
    first = run.history_end + timedelta(days=1)
    last = first + timedelta(days=run.horizon * (7 if run.freq == "W" else 1) - 1)
    return today if first <= today <= last else first


@dataclass
class StockRow:
    """A stock row with what the active forecast says of it (`stock_cover`)."""

    level: StockLevel
    has_forecast: bool = False
    demand_ahead: float | None = None  # median demand over the next STOCK_DEMAND_DAYS
    cover_days: float | None = None  # days the available stock lasts (None: past the look-ahead, or no forecast)
    cover_with_order: float | None = None  # the same with what is on order
    lead_time_days: float | None = None  # the primary supplier's, with its allowance for late deliveries
    short_units: float | None = None  # demand before a new order could arrive that the stock leaves unserved
    runs_short: bool = False  # short_units reaches STOCK_SHORT_UNITS


def stock_cover(levels: list[StockLevel], *, today: date) -> list[StockRow]:
    """The stock rows, each with what the active forecast says of it from `today` on (`StockRow`).

    Cover counts the available stock (on hand − reserved), then with what is on order, against the median
    forecast per day; a weekly forecast is spread over its days. A location's own forecast wins over the
    all-locations one.
    """
    rows = [StockRow(level=lv) for lv in levels]
    if not rows:
        return rows
    run = active_run("D") or active_run("W")
    product_ids = sorted({lv.product_id for lv in levels})
    codes = sorted({lv.location.code for lv in levels})
    period = 7 if run is not None and run.freq == "W" else 1
    leads: dict[int, float] = {}
    terms = SupplierProduct.objects.filter(product_id__in=product_ids, is_primary=True, supplier__active=True)
    primary: dict[int, SupplierProduct] = {}
    for t in terms.order_by("product_id", "unit_cost", "supplier_id"):
        primary.setdefault(t.product_id, t)
    # The lead time the suggestions plan with: the one a supplier kept, once it has delivered often enough.
    for t in with_measured_lead_times(list(primary.values()), today=timezone.localdate())[0]:
        leads[t.product_id] = cover_periods(t, 1, settings.PO_REVIEW_PERIOD_DAYS)[0]
    ahead = max(STOCK_COVER_DAYS, math.ceil(max(leads.values(), default=0)))
    series: dict[tuple[int, str], list[tuple[date, float]]] = defaultdict(list)
    if run is not None:
        forecasts = (
            Forecast.objects.filter(
                run=run,
                product_id__in=product_ids,
                location_code__in=[*codes, ""],
                date__gt=today - timedelta(days=period),
                date__lt=today + timedelta(days=ahead),
            )
            .order_by("product_id", "location_code", "date")
            .values_list("product_id", "location_code", "date", "q50")
        )
        for product_id, code, day, q50 in forecasts.iterator(chunk_size=10_000):
            series[(product_id, code)].append((day, q50))
    for row in rows:
        level = row.level
        row.lead_time_days = leads.get(level.product_id)
        points = series.get((level.product_id, level.location.code)) or series.get((level.product_id, ""))
        if not points:
            continue
        daily = daily_from_periods(np.array([q for _, q in points]), period)
        # A weekly period that began before today has spent its first days already.
        daily = daily[max((today - points[0][0]).days, 0) :][:ahead]
        row.has_forecast = True
        row.demand_ahead = float(daily[:STOCK_DEMAND_DAYS].sum())
        available = max(level.on_hand - level.reserved, 0)
        row.cover_days = days_of_cover(daily[:STOCK_COVER_DAYS], available)
        row.cover_with_order = days_of_cover(daily[:STOCK_COVER_DAYS], available + level.on_order)
        if row.lead_time_days is not None:
            # Units the forecast sells before a new order could arrive that the stock and its orders cannot serve.
            demand_in_lead = float(daily[: math.ceil(row.lead_time_days)].sum())
            row.short_units = max(demand_in_lead - available - level.on_order, 0.0)
            row.runs_short = row.short_units >= STOCK_SHORT_UNITS
    return rows


def stock_sorted_by_cover(rows: list[StockRow]) -> list[StockRow]:
    """Soonest out first: rows by days of cover with what is on order (the larger forecast demand first among
    equal cover), those outlasting the look-ahead after them (largest forecast demand first), rows without a
    forecast last; SKU and location break ties."""

    def key(r: StockRow):
        tie = (r.level.product.sku, r.level.location.code)
        if not r.has_forecast:
            return (2, 0.0, 0.0, *tie)
        if r.cover_with_order is None:
            return (1, 0.0, -(r.demand_ahead or 0.0), *tie)
        return (0, r.cover_with_order, -(r.demand_ahead or 0.0), *tie)

    return sorted(rows, key=key)


def delivered_lines_frame(*, since: date, supplier_ids: list[int] | None = None) -> pd.DataFrame:
    """Lines of sent orders with their first receipt on or after `since` (local dates), and the lead time the
    supply terms promise for them (``engine.leadtimes.DELIVERY_COLUMNS``); lines without terms are left out."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    # An order received in the window went out at most half a year before it (a longer lead time is a typo).
    lines = PurchaseOrderLine.objects.filter(
        purchase_order__sent_at__gte=start - timedelta(days=182), received_quantity__gt=0
    )
    if supplier_ids is not None:
        lines = lines.filter(purchase_order__supplier_id__in=supplier_ids)
    rows = list(
        lines.values_list(
            "purchase_order_id",
            "purchase_order__number",
            "purchase_order__supplier_id",
            "purchase_order__location_id",
            "purchase_order__sent_at",
            "product_id",
        )
    )
    columns = list(DELIVERY_COLUMNS)
    if not rows:
        return pd.DataFrame(columns=columns)
    first: dict[tuple[str, int, int], datetime] = {}
    receipts = StockMovement.objects.filter(
        kind=MovementKind.RECEIPT, at__gte=start, reference__in=sorted({r[1] for r in rows})
    ).values_list("reference", "product_id", "location_id", "at")
    for ref, product_id, location_id, at in receipts.iterator(chunk_size=10_000):
        key = (ref, product_id, location_id)
        if key not in first or at < first[key]:
            first[key] = at
    promised = {
        (s, p): days
        for s, p, days in SupplierProduct.objects.filter(
            supplier_id__in={r[2] for r in rows}, product_id__in={r[5] for r in rows}
        ).values_list("supplier_id", "product_id", "lead_time_days")
    }
    out = []
    for po_id, number, supplier_id, location_id, sent_at, product_id in rows:
        received = first.get((number, product_id, location_id))
        days = promised.get((supplier_id, product_id))
        if received is None or days is None or sent_at is None:
            continue
        out.append(
            (
                supplier_id,
                po_id,
                product_id,
                timezone.localtime(sent_at).date(),
                timezone.localtime(received).date(),
                days,
            )
        )
    return pd.DataFrame(out, columns=columns)


def supplier_lead_time_report(*, today: date, supplier_ids: list[int] | None = None) -> pd.DataFrame:
    """Per supplier (index ``supplier_id``) the lead times it kept over the last ``PO_LEAD_TIME_HISTORY_DAYS``
    (``engine.leadtimes.supplier_lead_times``); suppliers without deliveries are absent."""
    since = today - timedelta(days=settings.PO_LEAD_TIME_HISTORY_DAYS)
    events = delivery_events(delivered_lines_frame(since=since, supplier_ids=supplier_ids))
    return supplier_lead_times(events, min_deliveries=settings.PO_LEAD_TIME_MIN_DELIVERIES)


@dataclass(frozen=True)
class MeasuredLeadTime:
    """What a supplier's deliveries showed, for the explanation of a line planned with them."""

    deliveries: int
    late_days: float  # mean, negative when early
    late_std_days: float

    def as_dict(self) -> dict:
        """For a line's explanation, in tenths of a day."""
        return {
            "deliveries": self.deliveries,
            "late_days": round(self.late_days, 1),
            "late_std_days": round(self.late_std_days, 1),
        }


def with_measured_lead_times(
    terms: list[SupplierProduct], *, today: date
) -> tuple[list[SupplierProduct], dict[int, MeasuredLeadTime]]:
    """The supply terms to plan with, and what was measured per supplier id.

    Terms of a supplier with enough deliveries get the lead time it kept and the deviation of its lateness
    (``engine.leadtimes.planning_lead_time``) in place of their own; the others are returned as they are. The
    changed terms are copies that are never saved: the terms on file stay what the supplier promised.
    """
    report = supplier_lead_time_report(today=today, supplier_ids=sorted({t.supplier_id for t in terms}))
    measured = {
        int(sid): MeasuredLeadTime(
            deliveries=int(row["deliveries"]),
            late_days=float(row["late_days"]),
            late_std_days=float(row["late_std_days"]),
        )
        for sid, row in report.iterrows()
        if row["measured"]
    }
    out = []
    for t in terms:
        m = measured.get(t.supplier_id)
        if m is None:
            out.append(t)
            continue
        planned = copy.copy(t)
        planned._state = copy.copy(t._state)
        lead, std = planning_lead_time(t.lead_time_days, m.late_days, m.late_std_days)
        planned.lead_time_days, planned.lead_time_std_days = lead, Decimal(f"{std:.2f}")
        out.append(planned)
    return out, measured


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


#: Columns of a purchase order's lines as exported, in order.
PO_LINE_EXPORT_COLUMNS = (
    "sku", "supplier_sku", "product", "suggested_quantity", "quantity", "received_quantity", "unit_cost", "value",
    "pack_size", "moq", "on_hand", "on_order", "forecast_cover_demand", "days_of_cover_before",
    "days_of_cover_after", "days_beyond_lead_time", "service_level", "abc_xyz", "override_reason",
)  # fmt: skip
#: Leading characters a spreadsheet would read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: str) -> str:
    """Text a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def purchase_order_lines_export(purchase_order, lines: list[PurchaseOrderLine]) -> list[list]:
    """The rows of an order's lines as a file for a spreadsheet or the supplier, `PO_LINE_EXPORT_COLUMNS` first:
    quantities, costs and the figures behind each suggestion; text cells cannot run as formulas."""
    supplier_skus = dict(
        SupplierProduct.objects.filter(
            supplier_id=purchase_order.supplier_id, product_id__in=[ln.product_id for ln in lines]
        ).values_list("product_id", "supplier_sku")
    )
    rows: list[list] = [list(PO_LINE_EXPORT_COLUMNS)]
    for ln in lines:
        e = ln.explanation or {}
        rows.append(
            [
                _cell_text(ln.product.sku),
                _cell_text(supplier_skus.get(ln.product_id) or ""),
                _cell_text(ln.product.name),
                ln.suggested_quantity,
                ln.quantity,
                ln.received_quantity,
                f"{ln.unit_cost:.4f}",
                f"{ln.value:.2f}",
                e.get("pack_size", ""),
                e.get("moq", ""),
                e.get("on_hand", ""),
                e.get("on_order", ""),
                e.get("forecast_cover_demand", ""),
                e.get("days_of_cover_before", ""),
                e.get("days_of_cover_after", ""),
                "" if cover_slack(e) is None else cover_slack(e),
                e.get("service_level", ""),
                e.get("abc_xyz", ""),
                _cell_text(ln.override_reason or ""),
            ]
        )
    return rows


#: Days past the longest arrival and review period that the whole-order projection still shows, and the most.
ORDER_PROJECTION_EXTRA_DAYS = 7
ORDER_PROJECTION_MAX_DAYS = 182


def line_arrival_day(po, lead_time_days: float, start: date, period: int = 1) -> date:
    """When a line of the order is expected in: on the supplier's ship notice date once it has posted one;
    until then its own lead time (as its suggestion planned, whole periods) after the order was sent, or after
    the day it was suggested for while it has not been sent."""
    if po.shipped_at is not None and po.expected_delivery is not None:
        return po.expected_delivery
    base = timezone.localtime(po.sent_at).date() if po.sent_at is not None else start
    return base + timedelta(days=math.ceil(float(lead_time_days) / period - 1e-9) * period)


@dataclass(frozen=True)
class OrderProjectionSummary:
    """What a whole order prevents (``order_projection_summary``)."""

    dates: list[date]  # day 0 (the order's day) to the last projected day, both included
    unserved_without: list[float]  # value of the demand left unserved up to each date, without the order
    unserved_with: list[float]  # the same with it
    arrivals: np.ndarray  # the day each line arrives, counted from day 0 (at most the last day)
    lines: int  # lines projected
    left_out: int  # lines without a forecast snapshot
    review_days: int
    short_before: int  # lines short by a unit or more before they arrive
    value_before: float
    short_without: int  # ... in the review period after they arrive, without the order
    value_without: float
    short_with: int  # ... the same with it
    value_with: float


def order_projection_summary(po, lines: list[PurchaseOrderLine]) -> OrderProjectionSummary | None:
    """What the whole order prevents: demand its lines' stock leaves unserved, day by day, with and without it;
    in figures, before it arrives and over the review period after (until the next order could arrive).

    Each line is projected from its suggestion's snapshot (stock on hand less reserved, the expected demand per
    day over its cover, what was on order arriving at the end of the lead time), so the figures agree with the
    lines' days of cover; each line arrives as ``line_arrival_day`` expects it (the ship notice's date, or its
    own lead time). Unserved demand is valued at list price (unit cost where a product has none). None when no
    line has a snapshot.
    """
    used = [ln for ln in lines if (ln.explanation or {}).get("daily_demand") is not None]
    if not used:
        return None
    e = [ln.explanation for ln in used]
    start = po.generated_for or timezone.localdate()
    lead = np.array([math.ceil(float(x.get("lead_time_days") or 0) - 1e-9) for x in e])
    review = np.array([int(x.get("review_period_days") or settings.PO_REVIEW_PERIOD_DAYS) for x in e])
    delivery = np.array([(line_arrival_day(po, float(x.get("lead_time_days") or 0), start) - start).days for x in e])
    days = int(
        min(max(delivery.max(), lead.max()) + review.max() + ORDER_PROJECTION_EXTRA_DAYS, ORDER_PROJECTION_MAX_DAYS)
    )
    projection = order_projection(
        stock=np.array([float(x.get("on_hand", 0)) - float(x.get("reserved", 0)) for x in e]),
        daily=np.array([float(x["daily_demand"]) for x in e]),
        on_order=np.array([float(x.get("on_order", 0)) for x in e]),
        on_order_day=lead,
        quantity=np.array([ln.quantity for ln in used], dtype=float),
        delivery_day=delivery,
        days=days,
    )
    price = np.array([float(ln.product.list_price or ln.unit_cost) for ln in used])

    def cumulative(unserved: np.ndarray) -> list[float]:
        return np.concatenate([[0.0], np.cumsum((unserved * price[:, None]).sum(axis=0))]).round(2).tolist()

    arrives = np.clip(delivery, 0, days)
    # Before the order arrives it changes nothing; the review period after that, until the next order can
    # arrive, is what it is for.
    before = window_totals(projection.unserved_with, np.zeros(len(used), dtype=int), arrives, price)
    after_without = window_totals(projection.unserved_without, arrives, arrives + review, price)
    after_with = window_totals(projection.unserved_with, arrives, arrives + review, price)
    return OrderProjectionSummary(
        dates=[start + timedelta(days=t) for t in range(days + 1)],
        unserved_without=cumulative(projection.unserved_without),
        unserved_with=cumulative(projection.unserved_with),
        arrivals=arrives,
        lines=len(used),
        left_out=len(lines) - len(used),
        review_days=int(review.max()),
        short_before=before[0],
        value_before=before[1],
        short_without=after_without[0],
        value_without=after_without[1],
        short_with=after_with[0],
        value_with=after_with[1],
    )


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
