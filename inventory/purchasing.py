"""Purchase orders: nightly replenishment suggestions from the active forecast, and the buyer and supplier
workflow around them (submit, edit, approve, reject, send, cancel, confirm, ship notice, receive).

Every transition claims the order atomically (`filter(pk=..., status=expected).update(...)`); a row count other
than one means someone else acted first and nothing is written. The reads the pages and the API share sit at the
end of the module.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from forecasting.models import Forecast, ForecastRun, SeriesBacktest
from forecasting.selectors import active_run, demand_peaks
from retailai.core.choices import Role
from retailai.core.errors import Conflict, NotAllowed, ValidationFailed
from retailai.core.roles import has_role
from retailai.core.services import audit_event_record

from .calibration import cover_periods, planning_fill, policy_calibration, service_targets
from .choices import MovementKind
from .engine.orders import OrderLine, cut_to_budget, raise_to_minimum_value
from .engine.policy import abc_xyz_classes, expected_demand, extend_periods, order_up_to_levels
from .engine.replenish import cap_quantile_rows
from .engine.simulate import round_order, simulate_lost_sales
from .models import (
    OPEN_PO_STATUSES,
    Location,
    PolicyCalibration,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockLevel,
    SupplierProduct,
)
from .selectors import supplier_for_partner, with_measured_lead_times
from .services import stock_move

S = PurchaseOrderStatus
# Statuses whose outstanding quantities count as stock on order.
ON_ORDER_STATUSES = (S.APPROVED, S.SENT, S.PARTIALLY_RECEIVED)
# What a supplier partner sees: orders released to it and still in flight.
PARTNER_VISIBLE_STATUSES = (S.APPROVED, S.SENT, S.PARTIALLY_RECEIVED)
# P10–P90 width of a normal distribution in standard deviations.
_P10_P90_SIGMAS = 2.5631
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class ForecastInput:
    """The active forecast of one product from the suggestion day on: quantile matrix (periods × levels)."""

    levels: np.ndarray
    quantiles: np.ndarray
    dates: list[date]
    median: np.ndarray
    p10: np.ndarray
    p90: np.ndarray
    # The history's peak the quantiles were held under, when the forecast's median went above it.
    capped_at: float | None = None
    # Periods without sales at the end of the history, where the forecast run judged such a gap improbable.
    sales_stopped_periods: int = 0
    # Periods out of stock (no stock, no sales) that the forecast run left out of the history.
    stockout_periods: int = 0


@dataclass(frozen=True)
class LineSuggestion:
    """One product's suggested order and the figures behind it."""

    terms: SupplierProduct
    quantity: int
    explanation: dict
    cover_slack_days: float | None
    spread: float


@dataclass
class SuggestionResult:
    """What a suggestion batch did at one location."""

    location: Location
    as_of: date
    created: list[PurchaseOrder] = field(default_factory=list)
    replaced: int = 0
    kept: list[str] = field(default_factory=list)
    without_forecast: list[str] = field(default_factory=list)


def repeat_season(period_days: int) -> int:
    """How many of the forecast's last periods a cover past its horizon repeats: a week of a daily forecast."""
    return 7 if period_days == 1 else 1


def _period_days(run: ForecastRun) -> int:
    return 7 if run.freq == "W" else 1


def forecast_inputs(*, run: ForecastRun, product_ids: list[int], location_code: str, start: date) -> dict:
    """The active run's quantile paths per product from `start` on; rows for the location win over global ones."""
    period = _period_days(run)
    rows = (
        Forecast.objects.filter(
            run=run,
            product_id__in=product_ids,
            location_code__in=[location_code, ""],
            date__gt=start - timedelta(days=period),
        )
        .order_by("product_id", "date")
        .values_list("product_id", "location_code", "date", "q10", "q50", "q90", "quantiles")
    )
    levels = sorted(float(q) for q in (run.quantiles or [])) or [0.1, 0.5, 0.9]
    by_series: dict[tuple[int, str], list] = defaultdict(list)
    for product_id, code, day, q10, q50, q90, qs in rows:
        fallback = {0.1: q10, 0.5: q50, 0.9: q90}
        values = [float((qs or {}).get(str(q), fallback.get(q, q50))) for q in levels]
        by_series[(product_id, code)].append((day, values, q10, q50, q90))
    chosen = SeriesBacktest.objects.filter(run=run, chosen=True, product_id__in=product_ids)
    stopped = dict(
        chosen.filter(explanation__sales_stopped_periods__gt=0).values_list(
            "product_id", "explanation__sales_stopped_periods"
        )
    )
    unobserved = dict(
        chosen.filter(explanation__unobserved_periods__gt=0).values_list(
            "product_id", "explanation__unobserved_periods"
        )
    )
    out = {}
    for product_id in product_ids:
        series = by_series.get((product_id, location_code)) or by_series.get((product_id, ""))
        if not series:
            continue
        out[product_id] = ForecastInput(
            levels=np.array(levels),
            quantiles=np.array([s[1] for s in series], dtype=float),
            dates=[s[0] for s in series],
            p10=np.array([s[2] for s in series], dtype=float),
            median=np.array([s[3] for s in series], dtype=float),
            p90=np.array([s[4] for s in series], dtype=float),
            sales_stopped_periods=int(stopped.get(product_id) or 0),
            stockout_periods=int(unobserved.get(product_id) or 0),
        )
    return out


def planning_forecasts(*, run: ForecastRun, product_ids: list[int], location_code: str, start: date) -> dict:
    """The forecasts that suggestions, the order page's projection and the what-if page plan with: the active
    run's quantile paths from `start` on, each held under its product's recent peak (`history_capped`)."""
    forecasts = forecast_inputs(run=run, product_ids=product_ids, location_code=location_code, start=start)
    weeks = int(settings.PO_HISTORY_CAP_WEEKS)
    if not forecasts or weeks <= 0:
        return forecasts
    periods = weeks if run.freq == "W" else 7 * weeks
    peaks = demand_peaks(
        product_ids=list(forecasts), freq=run.freq, until=start, periods=periods, min_periods=periods // 4
    )
    return history_capped(forecasts, peaks)


def history_capped(forecasts: dict[int, ForecastInput], peaks: dict[int, float]) -> dict[int, ForecastInput]:
    """Each forecast held under its product's peak period of the last year, plus the configured headroom.

    A forecast whose median outruns every period the product has sold (a promotion forecast running away, a
    trend extrapolated too far) would buy stock that cannot be sent back; a peak the history has shown is
    still stocked for. Products without enough history keep their forecast.
    """
    headroom = float(settings.PO_HISTORY_CAP_HEADROOM)
    out = {}
    for product_id, f in forecasts.items():
        peak = peaks.get(product_id)
        if not peak or peak <= 0:
            out[product_id] = f
            continue
        q, scaled = cap_quantile_rows(f.quantiles, f.levels, peak, headroom=headroom)
        p10, median, p90 = (np.array([np.interp(level, f.levels, row) for row in q]) for level in (0.1, 0.5, 0.9))
        out[product_id] = ForecastInput(
            levels=f.levels, quantiles=q, dates=f.dates, median=median, p10=p10, p90=p90,
            capped_at=peak if scaled.any() else None, sales_stopped_periods=f.sales_stopped_periods,
            stockout_periods=f.stockout_periods,
        )  # fmt: skip
    return out


def _classes(forecasts: dict[int, ForecastInput], costs: dict[int, float]) -> dict[int, str]:
    """ABC by forecast value, XYZ by the forecast's relative spread (a coefficient of variation)."""
    ids = list(forecasts)
    if not ids:
        return {}
    value = np.array([forecasts[i].median.sum() * costs[i] for i in ids])
    cv = []
    for i in ids:
        f = forecasts[i]
        mean = f.median.mean()
        sigma = ((f.p90 - f.p10) / _P10_P90_SIGMAS).mean()
        cv.append(sigma / mean if mean > 0 else 9.99)
    return dict(zip(ids, abc_xyz_classes(value, np.array(cv)), strict=True))


def line_suggestion(
    *,
    terms: SupplierProduct,
    forecast: ForecastInput,
    level: StockLevel | None,
    period_days: int,
    service_level: float,
    abc_xyz: str,
    review_period_days: int | None = None,
    lead_time_days: float | None = None,
    calibration: PolicyCalibration | None = None,
) -> LineSuggestion:
    """Order-up-to from the forecast quantiles over lead time + review period, minus the inventory position,
    rounded to packs and the MOQ. With a calibration, the level is planned at the fill that its replay showed
    reaches the service level."""
    review_days = settings.PO_REVIEW_PERIOD_DAYS if review_period_days is None else review_period_days
    default_lead, _, review_periods = cover_periods(terms, period_days, review_days)
    if lead_time_days is None:
        lead_time_days = default_lead
    lead_periods = math.ceil(lead_time_days / period_days - 1e-9)
    cover = lead_periods + review_periods
    plan_at = planning_fill(calibration, service_level)
    policy = order_up_to_levels(
        forecast.quantiles[:cover],
        forecast.levels,
        lead_time=lead_periods,
        review_period=review_periods,
        fill_rate=plan_at,
        pack_size=terms.pack_size,
        moq=terms.moq,
        season=repeat_season(period_days),
    )
    order_up_to = float(policy.order_up_to[0])
    cover_demand = float(policy.expected_cover_demand[0])
    on_hand = level.on_hand if level else 0
    on_order = level.on_order if level else 0
    reserved = level.reserved if level else 0
    position = on_hand + on_order - reserved
    need = order_up_to - position
    quantity = round_order(need, pack_size=terms.pack_size, moq=terms.moq)
    daily = cover_demand / (cover * period_days) if cover else 0.0
    before = position / daily if daily > 0 else None
    after = (position + quantity) / daily if daily > 0 else None
    n = min(cover, len(forecast.median))
    median = float(forecast.median[:n].mean()) if n else 0.0
    spread = float((forecast.p90[:n] - forecast.p10[:n]).mean() / median) if median > 0 else 9.99
    rounding = ""
    if quantity and quantity != math.ceil(need - 1e-9):
        rounding = f"{max(need, 0):.0f} → {quantity} (pack {terms.pack_size}, MOQ {terms.moq})"
    explanation = {
        "abc_xyz": abc_xyz,
        "service_level": service_level,
        "planning_fill": round(plan_at, 4),
        "calibration": calibration.pk if calibration is not None and calibration.pk else None,
        "lead_time_days": lead_time_days,
        "review_period_days": review_days,
        "period_days": period_days,
        "cover_periods": cover,
        "forecast_cover_demand": round(cover_demand, 2),
        "order_up_to": round(order_up_to, 2),
        "safety_stock": round(float(policy.safety_stock[0]), 2),
        "on_hand": on_hand,
        "on_order": on_order,
        "reserved": reserved,
        "inventory_position": position,
        "need": round(need, 2),
        "pack_size": terms.pack_size,
        "moq": terms.moq,
        "rounding": rounding,
        "daily_demand": round(daily, 3),
        "days_of_cover_before": None if before is None else round(before, 1),
        "days_of_cover_after": None if after is None else round(after, 1),
        "forecast_spread": round(spread, 3),
        "forecast_start": forecast.dates[0].isoformat() if forecast.dates else None,
    }
    if cover > len(forecast.median):
        # The cover runs past the forecast's horizon: those periods repeat its last week (or last period).
        explanation["periods_past_horizon"] = cover - len(forecast.median)
    if forecast.capped_at is not None:
        explanation["forecast_capped_at"] = round(forecast.capped_at, 2)
    if forecast.sales_stopped_periods:
        explanation["sales_stopped_days"] = forecast.sales_stopped_periods * period_days
    if forecast.stockout_periods:
        explanation["stockout_days_left_out"] = forecast.stockout_periods * period_days
    slack = None if before is None else round(before - lead_time_days, 1)
    return LineSuggestion(
        terms=terms, quantity=quantity, explanation=explanation, cover_slack_days=slack, spread=spread
    )


def _primary_terms(location: Location) -> list[SupplierProduct]:
    """One supply term per product stocked at the location: the primary, cheapest active supplier."""
    terms = (
        SupplierProduct.objects.filter(is_primary=True, supplier__active=True, product__stock_levels__location=location)
        .select_related("supplier", "product")
        .order_by("product_id", "unit_cost", "supplier_id")
    )
    chosen: dict[int, SupplierProduct] = {}
    for t in terms:
        chosen.setdefault(t.product_id, t)
    return list(chosen.values())


def _money(value) -> Decimal:
    return Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def replenishment_suggest(*, location: Location, as_of: date, actor=None) -> SuggestionResult:
    """Draft one purchase order per supplier for what the location needs, from the active forecast.

    Untouched drafts (never edited, still draft) at the location are replaced; a supplier with an order a buyer
    already acted on for the same day keeps it and gets no new draft. Running twice gives the same drafts.
    """
    result = SuggestionResult(location=location, as_of=as_of)
    run = active_run("D") or active_run("W")
    on_file = _primary_terms(location)
    promised = {t.product_id: t.lead_time_days for t in on_file}
    # A supplier whose deliveries showed how late it runs is planned with the lead time it kept.
    terms, measured = with_measured_lead_times(on_file, today=as_of)
    forecasts = (
        planning_forecasts(run=run, product_ids=[t.product_id for t in terms], location_code=location.code, start=as_of)
        if run is not None
        else {}
    )
    result.without_forecast = sorted(t.product.sku for t in terms if t.product_id not in forecasts)
    classes = _classes(forecasts, {t.product_id: float(t.unit_cost) for t in terms})
    levels = {sl.product_id: sl for sl in StockLevel.objects.filter(location=location)}
    calibration = (
        policy_calibration(run=run, location=location, terms=terms)
        if run is not None and forecasts and settings.PO_CALIBRATION
        else None
    )
    targets = service_targets()
    suggestions: dict[int, list[LineSuggestion]] = defaultdict(list)
    for t in terms:
        if t.product_id not in forecasts:
            continue
        cls = classes[t.product_id]
        s = line_suggestion(
            terms=t,
            forecast=forecasts[t.product_id],
            level=levels.get(t.product_id),
            period_days=_period_days(run),
            service_level=float(targets.get(cls, 0.95)),
            abc_xyz=cls,
            calibration=calibration,
        )
        if t.supplier_id in measured:
            s.explanation["measured_lead_time"] = measured[t.supplier_id].as_dict() | {
                "promised_days": promised[t.product_id]
            }
        if s.quantity > 0:
            suggestions[t.supplier_id].append(s)
    suggestions = _order_value_rules(suggestions)

    with transaction.atomic():
        untouched = PurchaseOrder.objects.filter(
            location=location, status=S.DRAFT, is_edited=False, generated_for__isnull=False
        )
        _, deleted = untouched.delete()
        result.replaced = deleted.get(PurchaseOrder._meta.label, 0)
        acted = set(
            PurchaseOrder.objects.filter(location=location, generated_for=as_of).values_list("supplier_id", flat=True)
        )
        for supplier_id in sorted(suggestions):
            lines = sorted(suggestions[supplier_id], key=lambda s: s.terms.product_id)
            if supplier_id in acted:
                result.kept.append(lines[0].terms.supplier.code)
                continue
            result.created.append(_draft_create(location=location, as_of=as_of, lines=lines, actor=actor))
        audit_event_record(
            actor=actor,
            verb="replenishment.suggest",
            obj=location,
            after={
                "as_of": as_of.isoformat(),
                "forecast_run": run.pk if run else None,
                "policy_calibration": calibration.pk if calibration else None,
                "created": [po.number for po in result.created],
                "replaced": result.replaced,
                "kept_suppliers": result.kept,
                "without_forecast": len(result.without_forecast),
            },
        )
        for po in result.created:
            _auto_approve_if_eligible(po, suggestions[po.supplier_id])
    return result


def _order_line(s: LineSuggestion) -> OrderLine:
    """The figures the order-value rules need from a suggested line."""
    e = s.explanation
    return OrderLine(
        quantity=s.quantity,
        unit_cost=float(s.terms.unit_cost),
        pack_size=s.terms.pack_size,
        moq=s.terms.moq,
        daily_demand=float(e.get("daily_demand") or 0.0),
        position=float(e.get("inventory_position") or 0.0),
    )


def _adjusted(s: LineSuggestion, quantity: int, rule: str) -> LineSuggestion:
    """A suggestion with its quantity changed by an order-value rule, the rule and the new cover in its explanation."""
    if quantity == s.quantity:
        return s
    e = dict(s.explanation)
    daily = float(e.get("daily_demand") or 0.0)
    e["value_rule"] = rule
    e["quantity_before_value_rule"] = s.quantity
    if daily > 0:
        e["days_of_cover_after"] = round((float(e["inventory_position"]) + quantity) / daily, 1)
    return LineSuggestion(
        terms=s.terms, quantity=quantity, explanation=e, cover_slack_days=s.cover_slack_days, spread=s.spread
    )


def _order_value_rules(suggestions: dict[int, list[LineSuggestion]]) -> dict[int, list[LineSuggestion]]:
    """Top each supplier's order up to its minimum value, then trim all orders to the run budget (if any)."""
    out: dict[int, list[LineSuggestion]] = {}
    for supplier_id, lines in suggestions.items():
        minimum = float(lines[0].terms.supplier.min_order_value or 0)
        qty = raise_to_minimum_value([_order_line(s) for s in lines], minimum)
        out[supplier_id] = [_adjusted(s, q, "minimum_order_value") for s, q in zip(lines, qty, strict=True)]
    budget = float(settings.PO_BUDGET_PER_RUN or 0)
    if budget > 0:
        keys = [(sid, i) for sid in sorted(out) for i in range(len(out[sid]))]
        qty = cut_to_budget([_order_line(out[sid][i]) for sid, i in keys], budget)
        for (sid, i), q in zip(keys, qty, strict=True):
            out[sid][i] = _adjusted(out[sid][i], q, "budget")
    return {sid: kept for sid, lines in out.items() if (kept := [s for s in lines if s.quantity > 0])}


def _draft_create(*, location: Location, as_of: date, lines: list[LineSuggestion], actor) -> PurchaseOrder:
    lead = max(int(s.explanation["lead_time_days"]) for s in lines)
    slacks = [s.cover_slack_days for s in lines if s.cover_slack_days is not None]
    po = PurchaseOrder.objects.create(
        number=f"tmp-{timezone.now().timestamp()}-{lines[0].terms.supplier_id}-{location.pk}",
        supplier=lines[0].terms.supplier,
        location=location,
        generated_for=as_of,
        expected_delivery=as_of + timedelta(days=lead),
        cover_slack_days=min(slacks) if slacks else None,
        total_quantity=sum(s.quantity for s in lines),
        total_value=_money(sum(s.quantity * s.terms.unit_cost for s in lines)),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    po.number = f"PO-{po.pk:06d}"
    po.save(update_fields=["number"])
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(
                purchase_order=po,
                product_id=s.terms.product_id,
                suggested_quantity=s.quantity,
                quantity=s.quantity,
                unit_cost=s.terms.unit_cost,
                explanation=s.explanation,
            )
            for s in lines
        ]
    )
    return po


def _auto_approve_if_eligible(po: PurchaseOrder, lines: list[LineSuggestion]) -> None:
    """Low-value orders whose forecasts are all tight approve themselves, labelled as such; never one with a
    product whose sales stopped (a stock-out hides demand that goes on, a delisting ends it: a buyer looks first)."""
    limit = Decimal(settings.PO_AUTO_APPROVE_VALUE)
    spreads = [s.spread for s in lines]
    if limit <= 0 or po.total_value > limit or max(spreads) > settings.PO_AUTO_APPROVE_MAX_SPREAD:
        return
    if any(s.explanation.get("sales_stopped_days") for s in lines):
        return
    now = timezone.now()
    claimed = PurchaseOrder.objects.filter(pk=po.pk, status=S.DRAFT).update(
        status=S.APPROVED, is_auto_approved=True, approved_at=now, updated_at=now
    )
    if claimed != 1:
        return
    _on_order_change(po, sign=+1)
    audit_event_record(
        actor=None,
        verb="purchase_order.auto_approve",
        obj=po,
        before={"status": S.DRAFT},
        after={"status": S.APPROVED, "total_value": str(po.total_value), "max_spread": round(max(spreads), 3)},
    )
    po.refresh_from_db()


# --------------------------------------------------------------------------------------------- transitions


def _require_buyer(actor) -> None:
    if not has_role(actor, Role.STAFF, Role.BUYER):
        raise NotAllowed("Only buyers and staff act on purchase orders.")


def _require_supplier(actor, po: PurchaseOrder) -> None:
    supplier = supplier_for_partner(actor)
    if supplier is None or supplier.pk != po.supplier_id:
        raise NotAllowed("Only the supplier of this purchase order may do this.")


def _current(po: PurchaseOrder) -> dict:
    row = PurchaseOrder.objects.filter(pk=po.pk).values("status", "total_value", "approved_by_id").first()
    if row is None:
        raise Conflict(f"Purchase order {po.number} no longer exists.")
    return row


def _conflict(po: PurchaseOrder, action: str) -> Conflict:
    status = PurchaseOrder.objects.filter(pk=po.pk).values_list("status", flat=True).first()
    label = S(status).label if status in S.values else "deleted"
    return Conflict(f"Purchase order {po.number} cannot be {action}: it is {str(label).lower()} now.")


def _claim(po: PurchaseOrder, *, expected, action: str, exclude_approver=None, **values) -> None:
    """Move the order out of `expected` in one UPDATE; anything but one row is a conflict."""
    statuses = [expected] if isinstance(expected, str) else list(expected)
    qs = PurchaseOrder.objects.filter(pk=po.pk, status__in=statuses)
    if exclude_approver is not None:
        qs = qs.exclude(approved_by=exclude_approver)
    if qs.update(updated_at=timezone.now(), **values) != 1:
        raise _conflict(po, action)


def _on_order_change(po: PurchaseOrder, *, sign: int, quantities: dict[int, int] | None = None) -> None:
    """Add (sign +1) or release (sign -1) the lines' open quantities to the location's stock on order."""
    lines = PurchaseOrderLine.objects.filter(purchase_order=po).order_by("product_id")
    for line in lines:
        qty = line.quantity if sign > 0 else line.outstanding
        if quantities is not None:
            qty = quantities.get(line.pk, 0)
        if qty <= 0:
            continue
        level, _ = StockLevel.objects.get_or_create(product_id=line.product_id, location_id=po.location_id)
        change = F("on_order") + qty if sign > 0 else Greatest(F("on_order") - qty, 0)
        StockLevel.objects.filter(pk=level.pk).update(on_order=change)


def _totals_refresh(po: PurchaseOrder) -> None:
    value = ExpressionWrapper(
        F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
    )
    agg = PurchaseOrderLine.objects.filter(purchase_order=po).aggregate(q=Sum("quantity"), v=Sum(value))
    PurchaseOrder.objects.filter(pk=po.pk).update(total_quantity=agg["q"] or 0, total_value=_money(agg["v"] or 0))


def purchase_order_submit(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """A draft goes to approval."""
    _require_buyer(actor)
    po = purchase_order
    with transaction.atomic():
        _claim(po, expected=S.DRAFT, action="submitted", status=S.PENDING_APPROVAL, submitted_at=timezone.now())
        audit_event_record(
            actor=actor,
            verb="purchase_order.submit",
            obj=po,
            before={"status": S.DRAFT},
            after={"status": S.PENDING_APPROVAL},
        )
    po.refresh_from_db()
    return po


def purchase_order_line_update(*, line: PurchaseOrderLine, quantity: int, actor, reason: str = "") -> PurchaseOrderLine:
    """A buyer changes a line's quantity; a change beyond the threshold from the suggestion needs a reason."""
    _require_buyer(actor)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise ValidationFailed("The quantity must be a whole number of zero or more.", field="quantity")
    reason = (reason or "").strip()
    base = line.suggested_quantity
    change = abs(quantity - base) / base if base > 0 else (math.inf if quantity > 0 else 0.0)
    threshold = settings.PO_OVERRIDE_REASON_THRESHOLD
    if change > threshold + 1e-9 and not reason:
        raise ValidationFailed(
            f"Changing the suggested {base} to {quantity} is more than {threshold:.0%}; give a reason.",
            field="reason",
            code="reason_required",
        )
    po = line.purchase_order
    with transaction.atomic():
        _claim(po, expected=[S.DRAFT, S.PENDING_APPROVAL], action="edited", is_edited=True)
        before = PurchaseOrderLine.objects.filter(pk=line.pk).values_list("quantity", flat=True).get()
        PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity=quantity, override_reason=reason[:255])
        _totals_refresh(po)
        audit_event_record(
            actor=actor,
            verb="purchase_order.line_update",
            obj=po,
            before={"product": line.product_id, "quantity": before},
            after={"product": line.product_id, "quantity": quantity, "reason": reason},
        )
    line.refresh_from_db()
    return line


def purchase_order_approve(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """Approve; above PO_SECOND_APPROVAL_VALUE the first approval waits for a second, different approver.
    The final approval puts the quantities on order."""
    _require_buyer(actor)
    po = purchase_order
    now = timezone.now()
    with transaction.atomic():
        current = _current(po)
        status = current["status"]
        if status == S.SECOND_APPROVAL:
            if current["approved_by_id"] == actor.pk:
                raise NotAllowed(
                    f"{po.number} needs a second approver other than the first.", code="second_approver_required"
                )
            _claim(
                po,
                expected=S.SECOND_APPROVAL,
                action="approved",
                exclude_approver=actor,
                status=S.APPROVED,
                second_approver=actor,
                second_approved_at=now,
            )
            new_status, verb = S.APPROVED, "purchase_order.approve_second"
        elif status in (S.DRAFT, S.PENDING_APPROVAL):
            needs_second = current["total_value"] > Decimal(settings.PO_SECOND_APPROVAL_VALUE)
            new_status = S.SECOND_APPROVAL if needs_second else S.APPROVED
            verb = "purchase_order.approve_first" if needs_second else "purchase_order.approve"
            # The value is part of the claim: an edit committed in between makes this a conflict, not a stale check.
            if (
                PurchaseOrder.objects.filter(pk=po.pk, status=status, total_value=current["total_value"]).update(
                    status=new_status, approved_by=actor, approved_at=now, updated_at=now
                )
                != 1
            ):
                raise _conflict(po, "approved")
        else:
            raise _conflict(po, "approved")
        if new_status == S.APPROVED:
            _on_order_change(po, sign=+1)
        audit_event_record(
            actor=actor,
            verb=verb,
            obj=po,
            before={"status": status},
            after={"status": new_status, "total_value": str(current["total_value"])},
        )
    po.refresh_from_db()
    return po


@dataclass
class BulkApproval:
    """Which orders a bulk approval approved (or sent on to a second approver) and which it could not."""

    approved: list[PurchaseOrder] = field(default_factory=list)
    awaiting_second: list[PurchaseOrder] = field(default_factory=list)
    failed: list[tuple[PurchaseOrder, str]] = field(default_factory=list)


def purchase_order_approve_bulk(*, purchase_orders: list[PurchaseOrder], actor) -> BulkApproval:
    """Approve many orders, each on its own: one refused order does not hold back the others."""
    _require_buyer(actor)
    result = BulkApproval()
    for po in sorted(purchase_orders, key=lambda p: p.pk):
        try:
            done = purchase_order_approve(purchase_order=po, actor=actor)
        except (Conflict, NotAllowed, ValidationFailed) as exc:
            result.failed.append((po, exc.message))
            continue
        (result.approved if done.status == S.APPROVED else result.awaiting_second).append(done)
    return result


def purchase_order_reject(*, purchase_order: PurchaseOrder, actor, reason: str) -> PurchaseOrder:
    """Turn a suggestion or an order awaiting approval down, with the reason."""
    _require_buyer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A rejection needs a reason.", field="reason")
    po = purchase_order
    with transaction.atomic():
        status = _current(po)["status"]
        if status not in OPEN_PO_STATUSES:
            raise _conflict(po, "rejected")
        _claim(po, expected=status, action="rejected", status=S.REJECTED, status_reason=reason, decided_by=actor)
        audit_event_record(
            actor=actor,
            verb="purchase_order.reject",
            obj=po,
            before={"status": status},
            after={"status": S.REJECTED, "reason": reason},
        )
    po.refresh_from_db()
    return po


def purchase_order_send(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """Release an approved order to its supplier."""
    _require_buyer(actor)
    po = purchase_order
    with transaction.atomic():
        _claim(po, expected=S.APPROVED, action="sent", status=S.SENT, sent_at=timezone.now())
        audit_event_record(
            actor=actor, verb="purchase_order.send", obj=po, before={"status": S.APPROVED}, after={"status": S.SENT}
        )
    po.refresh_from_db()
    return po


def purchase_order_cancel(*, purchase_order: PurchaseOrder, actor, reason: str) -> PurchaseOrder:
    """Cancel an order before anything arrived; what it had put on order is released."""
    _require_buyer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A cancellation needs a reason.", field="reason")
    po = purchase_order
    with transaction.atomic():
        status = _current(po)["status"]
        if status not in (*OPEN_PO_STATUSES, S.APPROVED, S.SENT):
            raise _conflict(po, "cancelled")
        _claim(po, expected=status, action="cancelled", status=S.CANCELLED, status_reason=reason, decided_by=actor)
        if status in ON_ORDER_STATUSES:
            _on_order_change(po, sign=-1)
        audit_event_record(
            actor=actor,
            verb="purchase_order.cancel",
            obj=po,
            before={"status": status},
            after={"status": S.CANCELLED, "reason": reason},
        )
    po.refresh_from_db()
    return po


def purchase_order_close(*, purchase_order: PurchaseOrder, actor, reason: str = "") -> PurchaseOrder:
    """Close a partly received order short: the rest will not come, and leaves stock on order."""
    _require_buyer(actor)
    po = purchase_order
    with transaction.atomic():
        _claim(
            po,
            expected=S.PARTIALLY_RECEIVED,
            action="closed",
            status=S.CLOSED,
            status_reason=(reason or "").strip(),
            decided_by=actor,
        )
        _on_order_change(po, sign=-1)
        audit_event_record(
            actor=actor,
            verb="purchase_order.close",
            obj=po,
            before={"status": S.PARTIALLY_RECEIVED},
            after={"status": S.CLOSED, "reason": reason},
        )
    po.refresh_from_db()
    return po


def purchase_order_confirm(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """The supplier confirms it has the order."""
    po = purchase_order
    _require_supplier(actor, po)
    now = timezone.now()
    with transaction.atomic():
        claimed = PurchaseOrder.objects.filter(
            pk=po.pk, status__in=[S.APPROVED, S.SENT], supplier_confirmed_at__isnull=True
        ).update(supplier_confirmed_at=now, updated_at=now)
        if claimed != 1:
            raise Conflict(f"Purchase order {po.number} is confirmed already or no longer open for confirmation.")
        audit_event_record(actor=actor, verb="purchase_order.confirm", obj=po, after={"confirmed_at": now.isoformat()})
    po.refresh_from_db()
    return po


def purchase_order_ship_notice(
    *, purchase_order: PurchaseOrder, actor, expected_delivery: date, reference: str = ""
) -> PurchaseOrder:
    """The supplier announces a shipment and when it arrives; the expected delivery moves with it."""
    po = purchase_order
    _require_supplier(actor, po)
    if not isinstance(expected_delivery, date):
        raise ValidationFailed("Give the expected delivery as a date.", field="expected_delivery")
    today = timezone.localdate()
    if expected_delivery < today:
        raise ValidationFailed("The expected delivery cannot be in the past.", field="expected_delivery")
    now = timezone.now()
    with transaction.atomic():
        before = PurchaseOrder.objects.filter(pk=po.pk).values_list("expected_delivery", flat=True).first()
        _claim(
            po,
            expected=PARTNER_VISIBLE_STATUSES,
            action="given a ship notice",
            expected_delivery=expected_delivery,
            shipped_at=now,
            ship_reference=(reference or "").strip()[:64],
        )
        audit_event_record(
            actor=actor,
            verb="purchase_order.ship_notice",
            obj=po,
            before={"expected_delivery": before.isoformat() if before else None},
            after={"expected_delivery": expected_delivery.isoformat(), "reference": reference},
        )
    po.refresh_from_db()
    return po


def purchase_order_receive(
    *, purchase_order: PurchaseOrder, actor, quantities: dict[int, int], reference: str = ""
) -> PurchaseOrder:
    """Book a delivery against the lines: receipts in the stock ledger, less stock on order. Deliveries above the
    ordered quantity are accepted up to PO_OVER_RECEIPT_TOLERANCE; short deliveries leave the order partly received."""
    _require_buyer(actor)
    if not quantities:
        raise ValidationFailed("Give at least one line and quantity.", field="lines")
    for qty in quantities.values():
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise ValidationFailed("Received quantities are whole numbers of zero or more.", field="quantity")
    if not any(quantities.values()):
        raise ValidationFailed("Nothing to receive: every quantity is zero.", field="quantity")
    tolerance = settings.PO_OVER_RECEIPT_TOLERANCE
    with transaction.atomic():
        po = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
        if po.status not in ON_ORDER_STATUSES:
            raise _conflict(po, "received")
        lines = {line.pk: line for line in po.lines.select_related("product")}
        unknown = set(quantities) - set(lines)
        if unknown:
            raise ValidationFailed(f"Lines {sorted(unknown)} are not on {po.number}.", field="lines")
        for line_id, qty in quantities.items():
            line = lines[line_id]
            limit = math.ceil(line.quantity * (1 + tolerance) - 1e-9)
            if line.received_quantity + qty > limit:
                raise ValidationFailed(
                    f"{line.product.sku}: {line.received_quantity + qty} received would exceed the {line.quantity} "
                    f"ordered by more than {tolerance:.0%} (at most {limit}).",
                    field="quantity",
                    code="over_receipt",
                )
        release = {}
        for line_id in sorted(quantities):
            qty = quantities[line_id]
            if qty == 0:
                continue
            line = lines[line_id]
            stock_move(
                product=line.product,
                location=po.location,
                kind=MovementKind.RECEIPT,
                quantity=qty,
                actor=actor,
                reference=po.number,
            )
            release[line_id] = min(qty, line.outstanding)
            PurchaseOrderLine.objects.filter(pk=line_id).update(received_quantity=F("received_quantity") + qty)
        _on_order_change(po, sign=-1, quantities=release)
        complete = not PurchaseOrderLine.objects.filter(purchase_order=po, received_quantity__lt=F("quantity")).exists()
        new_status = S.RECEIVED if complete else S.PARTIALLY_RECEIVED
        _claim(
            po,
            expected=po.status,
            action="received",
            status=new_status,
            received_at=timezone.now() if complete else None,
        )
        audit_event_record(
            actor=actor,
            verb="purchase_order.receive",
            obj=po,
            before={"status": po.status},
            after={"status": new_status, "lines": {str(k): v for k, v in quantities.items()}, "reference": reference},
        )
    po.refresh_from_db()
    return po


# --------------------------------------------------------------------------------------------- reads


def purchase_orders_visible_to(user) -> QuerySet[PurchaseOrder]:
    """Buyers and staff see every order; a supplier partner its own approved or sent ones; anyone else none."""
    qs = PurchaseOrder.objects.select_related("supplier", "location", "approved_by", "second_approver")
    if has_role(user, Role.STAFF, Role.BUYER):
        return qs
    supplier = supplier_for_partner(user)
    if supplier is not None:
        return qs.filter(supplier=supplier, status__in=PARTNER_VISIBLE_STATUSES)
    return qs.none()


def purchase_order_inbox(user, *, status: str | None = None) -> QuerySet[PurchaseOrder]:
    """Orders most urgent first (least cover against lead time), then by value: by default those waiting for a
    decision; `status` narrows to one status, "all" shows every status."""
    qs = purchase_orders_visible_to(user)
    if not status:
        qs = qs.filter(status__in=OPEN_PO_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    return qs.order_by(F("cover_slack_days").asc(nulls_last=True), "-total_value", "pk")


def projected_on_hand(*, start_on_hand: float, demand: list[float], arrivals: dict[int, float]) -> list[float]:
    """On hand at the end of each period: arrivals come in, then demand is served (unmet demand is lost)."""
    out, on_hand = [], float(start_on_hand)
    for t, d in enumerate(demand):
        on_hand += arrivals.get(t, 0.0)
        on_hand = max(on_hand - d, 0.0)
        out.append(on_hand)
    return out


@dataclass(frozen=True)
class WhatIf:
    """How an order-up-to policy with a service level and lead time fares on a demand path."""

    service_level: float
    planning_fill: float
    lead_time_days: float
    order_up_to: float
    safety_stock: float
    fill_rate: float
    average_on_hand: float
    stockout_periods: int
    orders_placed: int
    on_hand: list[float]


def policy_what_if(
    *,
    forecast: ForecastInput,
    demand: np.ndarray,
    period_days: int,
    service_level: float,
    lead_time_days: float,
    review_period_days: int,
    pack_size: int = 1,
    moq: int = 1,
    calibration: PolicyCalibration | None = None,
) -> WhatIf:
    """The order-up-to level the forecast gives for these settings (planned as suggestions plan them, through
    the run's calibration when there is one), replayed on `demand` (lost sales)."""
    lead = math.ceil(lead_time_days / period_days - 1e-9)
    review = max(1, math.ceil(review_period_days / period_days - 1e-9))
    plan_at = planning_fill(calibration, service_level)
    policy = order_up_to_levels(
        forecast.quantiles[: lead + review],
        forecast.levels,
        lead_time=lead,
        review_period=review,
        fill_rate=plan_at,
        pack_size=pack_size,
        moq=moq,
        season=repeat_season(period_days),
    )
    level = float(policy.order_up_to[0])
    sim = simulate_lost_sales(
        np.asarray(demand, dtype=float),
        max(level - 1, 0),
        level,
        lead_time=lead,
        review_period=review,
        pack_size=pack_size,
        moq=moq,
        initial_on_hand=level,
    )
    return WhatIf(
        service_level=service_level,
        planning_fill=plan_at,
        lead_time_days=lead_time_days,
        order_up_to=level,
        safety_stock=float(policy.safety_stock[0]),
        fill_rate=sim.fill_rate,
        average_on_hand=sim.average_on_hand,
        stockout_periods=sim.stockout_periods,
        orders_placed=sim.orders_placed,
        on_hand=[float(x) for x in sim.on_hand],
    )


def expected_period_demand(forecast: ForecastInput, periods: int = 0, period_days: int = 1) -> np.ndarray:
    """Expected demand of each forecast period (``engine.policy.expected_demand``); the median without quantiles.

    With `periods` beyond the forecast's horizon, the extra periods repeat its last week, as a cover does."""
    quantiles = np.asarray(forecast.quantiles, dtype=float)
    if quantiles.size == 0:
        demand = np.asarray(forecast.median, dtype=float)
    else:
        demand = expected_demand(quantiles, forecast.levels)
    return extend_periods(demand[:, None], periods, repeat_season(period_days))[:, 0]
