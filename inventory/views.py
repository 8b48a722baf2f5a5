"""Back-office pages of the inventory app."""

import csv
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from forecasting.engine.models import fill_gaps
from forecasting.engine.series import demand_from_lines
from forecasting.selectors import active_run, order_lines_frame
from retailai.commerce.models import Product
from retailai.core.charts import PALETTE, Bars, Line, grouped_bar_chart, time_chart
from retailai.core.choices import Role
from retailai.core.errors import DomainError, ValidationFailed
from retailai.core.models import AuditEvent
from retailai.core.roles import has_role

from . import purchasing
from .calibration import cover_periods, run_calibrations, stored_calibration
from .models import (
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockLevel,
    Supplier,
    SupplierProduct,
)
from .selectors import (
    LINE_SORTS,
    STOCK_COVER_DAYS,
    STOCK_DEMAND_DAYS,
    STOCK_SORTS,
    OverridesReport,
    line_arrival_day,
    order_projection_summary,
    overrides_report,
    purchase_order_lines_export,
    purchase_order_lines_for_review,
    stock_cover,
    stock_cover_start,
    stock_levels_visible_to,
    stock_sorted_by_cover,
    stockout_days_frame,
    supplier_lead_time_report,
    with_measured_lead_times,
)

STOCK_SORT_LABELS = {"sku": _("SKU"), "cover": _("Soonest out first")}


class StockFilterForm(forms.Form):
    """The filters and order of the stock list; every field is optional."""

    q = forms.CharField(label=_("SKU"), required=False, max_length=64)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label=_("All locations"),
    )
    out_of_stock = forms.BooleanField(label=_("Out of stock only"), required=False)
    short = forms.BooleanField(label=_("Runs short before a new order only"), required=False)
    sort = forms.ChoiceField(
        label=_("Order by"), required=False, choices=[(k, STOCK_SORT_LABELS[k]) for k in STOCK_SORTS]
    )

    def filter(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["q"].strip():
            qs = qs.filter(product__sku__istartswith=data["q"].strip())
        if data["location"]:
            qs = qs.filter(location=data["location"])
        if data["out_of_stock"]:
            qs = qs.filter(on_hand__lte=0)
        return qs

    def by_cover(self) -> bool:
        """Whether the rows are chosen or ordered by their cover (which is read for every row, not one page)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return bool(data.get("short")) or data.get("sort") == "cover"


LINE_SORT_LABELS = {
    "urgency": _("Most urgent first"),
    "value": _("Largest value first"),
    "change": _("Largest change first"),
    "sku": _("SKU"),
}


class PurchaseOrderLineFilterForm(forms.Form):
    """The search, filter and order of one purchase order's lines; every field is optional."""

    #: The fields a line edit carries back so the buyer returns to the same view of the order.
    KEEP = ("q", "sort", "short", "page")

    q = forms.CharField(label=_("SKU or product"), required=False, max_length=64)
    sort = forms.ChoiceField(
        label=_("Order by"), required=False, choices=[(k, LINE_SORT_LABELS[k]) for k in LINE_SORTS]
    )
    short = forms.BooleanField(label=_("Short before delivery only"), required=False)

    def options(self) -> dict:
        """The chosen filters (defaults where a field is missing or invalid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "query": data.get("q") or "",
            "sort": data.get("sort") or "urgency",
            "short_only": bool(data.get("short")),
        }


@login_required
def stock_list(request):
    """Stock by product and location with its days of cover at the active forecast; filtered by location, SKU,
    stock-outs and rows that run out before a new order could arrive, in SKU order or soonest out first."""
    if not has_role(request.user, Role.STAFF, Role.BUYER):
        raise PermissionDenied
    form = StockFilterForm(request.GET or None)
    levels = form.filter(stock_levels_visible_to(request.user))
    run = active_run("D") or active_run("W")
    today = stock_cover_start(run, timezone.localdate())
    if form.by_cover():
        rows = stock_cover(list(levels), today=today)
        if form.cleaned_data.get("short"):
            rows = [r for r in rows if r.runs_short]
        if form.cleaned_data.get("sort") == "cover":
            rows = stock_sorted_by_cover(rows)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
    else:
        page = Paginator(levels, 50).get_page(request.GET.get("page"))
        page.object_list = stock_cover(list(page.object_list), today=today)
    filtered = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    context = {
        "page": page,
        "form": form,
        "filtered": filtered,
        "cover_days": STOCK_COVER_DAYS,
        "demand_days": STOCK_DEMAND_DAYS,
        "has_run": run is not None,
        "cover_from": today if today != timezone.localdate() else None,
    }
    return render(request, "inventory/stock_list.html", context)


# --------------------------------------------------------------------------------------------- purchase orders

PO_ROLES = (Role.STAFF, Role.BUYER)
#: Lines shown at once on a purchase order's page (orders for a whole supplier run to hundreds).
PO_LINES_PER_PAGE = 50
PO_ACTIONS = {
    "submit": purchasing.purchase_order_submit,
    "approve": purchasing.purchase_order_approve,
    "send": purchasing.purchase_order_send,
}
PO_REASON_ACTIONS = {
    "reject": purchasing.purchase_order_reject,
    "cancel": purchasing.purchase_order_cancel,
    "close": purchasing.purchase_order_close,
}


def _require_po_role(request) -> None:
    if not has_role(request.user, *PO_ROLES):
        raise PermissionDenied


class InboxFilterForm(forms.Form):
    """The filters above the purchase-order inbox."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Waiting for a decision")), ("all", _("All"))] + list(PurchaseOrderStatus.choices),
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label=_("All locations"),
    )

    def filter(self, user):
        data = self.cleaned_data if self.is_valid() else {}
        qs = purchasing.purchase_order_inbox(user, status=data.get("status") or None)
        if data.get("location"):
            qs = qs.filter(location=data["location"])
        return qs


@login_required
def purchase_order_inbox(request):
    """The buyer's morning inbox: suggested and submitted orders, most urgent first, with bulk approval."""
    _require_po_role(request)
    form = InboxFilterForm(request.GET or None)
    orders = form.filter(request.user).annotate(line_count=Count("lines"))
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return render(
        request,
        "inventory/purchase_order_inbox.html",
        {
            "page": page,
            "form": form,
            # The empty table says what was asked for: "waiting for a decision" only fits the default filter.
            "status_filter": chosen.get("status") or "",
            "location_filter": chosen.get("location"),
            "threshold": settings.PO_SECOND_APPROVAL_VALUE,
            "calibrations": run_calibrations(active_run("D") or active_run("W")),
        },
    )


@login_required
@require_POST
def purchase_order_bulk_approve(request):
    """Approve the ticked orders; each one on its own, so a conflict on one leaves the others approved."""
    _require_po_role(request)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    orders = list(purchasing.purchase_orders_visible_to(request.user).filter(pk__in=ids))
    if not orders:
        messages.error(request, _("Tick at least one purchase order to approve."))
        return redirect("inventory:po-inbox")
    result = purchasing.purchase_order_approve_bulk(purchase_orders=orders, actor=request.user)
    if result.approved:
        messages.success(
            request,
            _("Approved: %(numbers)s.") % {"numbers": ", ".join(po.number for po in result.approved)},
        )
    if result.awaiting_second:
        messages.info(
            request,
            _("Waiting for a second approver: %(numbers)s.")
            % {"numbers": ", ".join(po.number for po in result.awaiting_second)},
        )
    for po, message in result.failed:
        messages.error(request, f"{po.number}: {message}")
    return redirect("inventory:po-inbox")


def _po_chart(po: PurchaseOrder, line: PurchaseOrderLine | None):
    """Projected on hand of one line's product over the forecast, with and without this order.

    Stock is drawn in steps: each day (or week) holds what is on the shelf at its start once that period's deliveries
    are in, so a delivery is a rise on its own date, where the chart's delivery marker stands, and the sales of a
    period show as the drop to the next. The first point is the stock the suggestion started from."""
    run = active_run("D") or active_run("W")
    if line is None or run is None:
        return None
    start = po.generated_for or timezone.localdate()
    forecast = purchasing.planning_forecasts(
        run=run, product_ids=[line.product_id], location_code=po.location.code, start=start
    ).get(line.product_id)
    if forecast is None:
        return None
    period = 7 if run.freq == "W" else 1
    snap = line.explanation or {}
    level = StockLevel.objects.filter(product_id=line.product_id, location_id=po.location_id).first()
    on_hand = snap.get("on_hand", level.on_hand if level else 0) - snap.get("reserved", 0)
    on_order = snap.get("on_order", 0)
    lead_periods = math.ceil(float(snap.get("lead_time_days", 0)) / period - 1e-9)
    arrival_day = line_arrival_day(po, float(snap.get("lead_time_days", 0)), start, period)
    arrival = max(0, (arrival_day - forecast.dates[0]).days // period)
    # A delivery past the forecast's horizon is still shown, a week (two for weekly runs) beyond it: the extra
    # periods repeat the forecast's last week, as the line's cover does.
    periods = max(len(forecast.dates), arrival + (7 if period == 1 else 2))
    demand = [float(x) for x in purchasing.expected_period_demand(forecast, periods, period)]
    existing = {lead_periods: float(on_order)}
    with_arrivals = dict(existing)
    with_arrivals[arrival] = with_arrivals.get(arrival, 0.0) + line.quantity
    dates = [forecast.dates[0] + timedelta(days=period * k) for k in range(len(demand) + 1)]

    def on_shelf(arrivals: dict[int, float]) -> list[tuple[date, float]]:
        # projected_on_hand gives the stock at the end of each period, which is the start of the next one; the
        # period's own deliveries come on top. The last point closes the last period.
        ends = purchasing.projected_on_hand(start_on_hand=on_hand, demand=demand, arrivals=arrivals)
        starts = [float(on_hand), *ends]
        return [
            (day, max(level + arrivals.get(k, 0.0), 0.0))
            for k, (day, level) in enumerate(zip(dates, starts, strict=True))
        ]

    return time_chart(
        [
            Line(
                _("Without this order"),
                on_shelf(existing),
                color=PALETTE[4],
                dashed=True,
                key="without-order",
                step=True,
            ),
            Line(_("With this order"), on_shelf(with_arrivals), color=PALETTE[2], key="with-order", step=True),
        ],
        # The marker stands where the step rises: the start of the period the delivery is counted in (its own
        # date on a daily forecast).
        markers=[(dates[arrival], _("delivery"))] if dates[0] <= arrival_day <= dates[-1] else [],
        y_label=_("Projected units on hand"),
        # As wide as the card: the order page has the room, and a week-by-week projection needs it.
        width=1100,
        height=280,
    )


def _po_order_projection(po: PurchaseOrder, lines: list[PurchaseOrderLine]) -> dict | None:
    """The whole-order card: its figures (``order_projection_summary``) and the chart of demand left unserved to
    date, with and without the order."""
    summary = order_projection_summary(po, lines)
    if summary is None:
        return None
    chart = time_chart(
        [
            Line(
                _("Unserved without this order"),
                list(zip(summary.dates, summary.unserved_without, strict=True)),
                color=PALETTE[4],
                dashed=True,
                key="unserved-without",
            ),
            Line(
                _("Unserved with this order"),
                list(zip(summary.dates, summary.unserved_with, strict=True)),
                color=PALETTE[2],
                key="unserved-with",
            ),
        ],
        # One marker where every line arrives together (a ship notice); lines arriving on their own lead times
        # get one at the first and one at the last arrival.
        markers=_arrival_markers(summary.dates, summary.arrivals),
        y_label=_("Unserved to date"),
        width=1100,
        height=220,
    )
    return {"chart": chart, "figures": summary}


def _arrival_markers(dates: list[date], arrives: np.ndarray) -> list[tuple[date, str]]:
    """Delivery markers of a whole-order chart: one date when all lines arrive together, else the first and the
    last arrival (days past the chart are left out)."""
    inside = sorted({int(d) for d in arrives if 0 <= d < len(dates) - 1})
    if not inside:
        return []
    if len(inside) == 1:
        return [(dates[inside[0]], _("delivery"))]
    return [(dates[inside[0]], _("first delivery")), (dates[inside[-1]], _("last delivery"))]


@login_required
def purchase_order_detail(request, pk: int):
    """One order: lines with their explanations, quantity edits, decisions, and projected stock."""
    _require_po_role(request)
    po = get_object_or_404(purchasing.purchase_orders_visible_to(request.user), pk=pk)
    form = PurchaseOrderLineFilterForm(request.GET or None)
    options = form.options()
    lines = purchase_order_lines_for_review(po, **options)
    all_lines = lines if not (options["query"] or options["short_only"]) else purchase_order_lines_for_review(po)
    page = Paginator(lines, PO_LINES_PER_PAGE).get_page(request.GET.get("page"))
    selected = next((ln for ln in all_lines if str(ln.pk) == request.GET.get("line")), None)
    if selected is None and all_lines:
        selected = min(all_lines, key=lambda ln: (ln.explanation or {}).get("days_of_cover_before") or 1e9)
    editable = po.status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.PENDING_APPROVAL)
    receivable = po.status in purchasing.ON_ORDER_STATUSES
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(PurchaseOrder), object_id=str(po.pk)
    ).select_related("actor")[:20]
    return render(
        request,
        "inventory/purchase_order_detail.html",
        {
            "po": po,
            "lines": all_lines,
            "page": page,
            "form": form,
            "filtered": bool(options["query"] or options["short_only"]),
            "back": request.GET.urlencode(),
            "selected": selected,
            "chart": _po_chart(po, selected),
            "projection": _po_order_projection(po, all_lines),
            "editable": editable,
            "receivable": receivable,
            # Nothing can have come in before the order is approved: the column would only hold zeros.
            "show_received": not editable or any(ln.received_quantity for ln in all_lines),
            "can_approve": po.status in purchasing.OPEN_PO_STATUSES,
            "can_send": po.status == PurchaseOrderStatus.APPROVED,
            "can_cancel": po.status in (*purchasing.OPEN_PO_STATUSES, "approved", "sent"),
            "can_close": po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED,
            "threshold": settings.PO_SECOND_APPROVAL_VALUE,
            "reason_threshold": settings.PO_OVERRIDE_REASON_THRESHOLD,
            "events": events,
        },
    )


@login_required
def purchase_order_lines_csv(request, pk: int):
    """An order's lines as CSV, searched, filtered and ordered as on its page (for a spreadsheet or the supplier)."""
    _require_po_role(request)
    po = get_object_or_404(purchasing.purchase_orders_visible_to(request.user).select_related("supplier"), pk=pk)
    lines = purchase_order_lines_for_review(po, **PurchaseOrderLineFilterForm(request.GET or None).options())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(f"po-{po.pk}-{po.supplier.code}") or f"po-{po.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    csv.writer(response).writerows(purchase_order_lines_export(po, lines))
    return response


@login_required
@require_POST
def purchase_order_action(request, pk: int, action: str):
    """Submit, approve, send, reject, cancel or close an order; domain errors come back as messages."""
    _require_po_role(request)
    po = get_object_or_404(purchasing.purchase_orders_visible_to(request.user), pk=pk)
    try:
        if action in PO_ACTIONS:
            po = PO_ACTIONS[action](purchase_order=po, actor=request.user)
        elif action in PO_REASON_ACTIONS:
            po = PO_REASON_ACTIONS[action](purchase_order=po, actor=request.user, reason=request.POST.get("reason", ""))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(number)s is now %(status)s.") % {"number": po.number, "status": po.get_status_display().lower()},
        )
    return redirect("inventory:po-detail", pk=pk)


@login_required
@require_POST
def purchase_order_line_edit(request, pk: int, line_pk: int):
    """Change one line's quantity (with a reason when the change from the suggestion is large)."""
    _require_po_role(request)
    po = get_object_or_404(purchasing.purchase_orders_visible_to(request.user), pk=pk)
    line = get_object_or_404(po.lines.select_related("product", "purchase_order"), pk=line_pk)
    raw = request.POST.get("quantity", "").strip()
    try:
        if not raw.isdigit():
            raise ValidationFailed(_("Enter a whole number of zero or more."), field="quantity")
        purchasing.purchase_order_line_update(
            line=line, quantity=int(raw), reason=request.POST.get("reason", ""), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, f"{line.product.sku}: {exc.message}")
    else:
        messages.success(request, _("%(sku)s: quantity set to %(qty)s.") % {"sku": line.product.sku, "qty": raw})
    # Back to the same search, order and page of the lines, with this line charted and in view.
    back = QueryDict(request.POST.get("back", ""))
    kept = QueryDict(mutable=True)
    for key in PurchaseOrderLineFilterForm.KEEP:
        if back.get(key):
            kept[key] = back[key][:64]
    kept["line"] = str(line.pk)
    return redirect(f"{reverse('inventory:po-detail', args=[pk])}?{kept.urlencode()}#line-{line.pk}")


@login_required
@require_POST
def purchase_order_receive(request, pk: int):
    """Book a delivery: one quantity per line (blank or zero for lines that did not come)."""
    _require_po_role(request)
    po = get_object_or_404(purchasing.purchase_orders_visible_to(request.user), pk=pk)
    quantities: dict[int, int] = {}
    try:
        for line in po.lines.all():
            raw = request.POST.get(f"receive-{line.pk}", "").strip()
            if raw:
                if not raw.isdigit():
                    raise ValidationFailed(_("Enter whole numbers of zero or more."), field="quantity")
                quantities[line.pk] = int(raw)
        po = purchasing.purchase_order_receive(
            purchase_order=po, actor=request.user, quantities=quantities, reference=request.POST.get("reference", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Delivery booked; %(number)s is %(status)s.")
            % {"number": po.number, "status": po.get_status_display().lower()},
        )
    return redirect("inventory:po-detail", pk=pk)


class OverridesFilterForm(forms.Form):
    """The filters above the overrides page: approval period, supplier and location."""

    PERIODS = [("30", _("Last 30 days")), ("90", _("Last 90 days")), ("365", _("Last 365 days"))]

    period = forms.ChoiceField(label=_("Approved in"), choices=PERIODS, required=False)
    supplier = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Supplier.objects.order_by("name"), required=False, empty_label=_("All suppliers")
    )
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.order_by("name"), required=False, empty_label=_("All locations")
    )


def _overrides_chart(report: OverridesReport):
    """Suggested against approved units per supplier, in the order of the supplier table."""
    table = report.by_supplier
    if table.empty:
        return None
    return grouped_bar_chart(
        [str(name) for name in table.index],
        [
            Bars(_("Suggested"), table["suggested"].tolist(), color=PALETTE[7], key="suggested"),
            Bars(_("Approved"), table["approved"].tolist(), color=PALETTE[0], key="approved"),
        ],
        x_label=_("Units"),
        y_label=_("Supplier"),
    )


def _table_rows(table: pd.DataFrame) -> list[dict]:
    return [
        {"name": name, **{k: (None if pd.isna(v) else v) for k, v in row.items()}}
        for name, row in table.to_dict("index").items()
    ]


@login_required
def purchase_order_overrides(request):
    """How often and how much buyers change the suggested quantities, where, and whether the changes helped."""
    _require_po_role(request)
    query = request.GET.copy()
    query.setdefault("period", "90")  # the dropdown names the default period, also when the link did not say
    form = OverridesFilterForm(query)
    form.is_valid()
    # Valid filters apply; a filter that is not understood is left out, and the page says which.
    data = form.cleaned_data
    days = int(data.get("period") or 90)
    report = overrides_report(
        days=days, today=timezone.localdate(), supplier=data.get("supplier"), location=data.get("location")
    )
    return render(
        request,
        "inventory/purchase_order_overrides.html",
        {
            "form": form,
            "days": days,
            "report": report,
            "totals": report.totals,
            "hindsight": report.hindsight,
            "by_supplier": _table_rows(report.by_supplier),
            "by_approver": _table_rows(report.by_approver),
            "chart": _overrides_chart(report),
            "ignored_filters": [form.fields[name].label for name in form.errors if name in form.fields],
        },
    )


@login_required
def supplier_lead_times(request):
    """The lead times suppliers kept over the last year, against what their terms promise, and which of them the
    suggestions plan with."""
    _require_po_role(request)
    today = timezone.localdate()
    suppliers = list(Supplier.objects.filter(active=True).order_by("name"))
    report = supplier_lead_time_report(today=today)
    rows = []
    for supplier in suppliers:
        r = report.loc[supplier.pk] if supplier.pk in report.index else None
        rows.append({"supplier": supplier, "stats": None if r is None else r.to_dict()})
    # Suppliers with deliveries first, the latest on average at the top; the rest by name.
    rows.sort(key=lambda x: (x["stats"] is None, -(x["stats"] or {}).get("late_days", 0.0)))
    return render(
        request,
        "inventory/supplier_lead_times.html",
        {
            "rows": rows,
            "days": settings.PO_LEAD_TIME_HISTORY_DAYS,
            "min_deliveries": settings.PO_LEAD_TIME_MIN_DELIVERIES,
            "std_factor": settings.PO_LEAD_TIME_STD_FACTOR,
        },
    )


class WhatIfForm(forms.Form):
    """Service level and lead time to try for one product."""

    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label=None,
    )
    service_level = forms.FloatField(
        label=_("Service level (fill rate)"), min_value=0.5, max_value=0.999, required=False
    )
    lead_time_days = forms.IntegerField(
        label=_("Lead time (days)"),
        min_value=0,
        max_value=365,
        required=False,
        help_text=_("As planned: the supplier's lead time plus the allowance for late deliveries."),
    )


@login_required
def what_if(request, sku: str):
    """Try another service level or lead time for one product and see the fill rate and stock it would give."""
    _require_po_role(request)
    product = get_object_or_404(Product, sku=sku)
    terms = (
        SupplierProduct.objects.filter(product=product)
        .select_related("supplier")
        .order_by("-is_primary", "unit_cost")
        .first()
    )
    default_location = Location.objects.filter(stock_levels__product=product, active=True).order_by("code").first()
    query = request.GET.copy()
    if not query.get("location") and default_location is not None:
        # The dropdown names the location the simulation runs for, also when the link did not say.
        query["location"] = str(default_location.pk)
    form = WhatIfForm(query)
    form.is_valid()
    # The fields that are valid are used; the others fall back to the current settings, and the page says so.
    data = form.cleaned_data
    location = data.get("location") or default_location
    run = active_run("D") or active_run("W")
    context = {
        "product": product,
        "terms": terms,
        "form": form,
        "location": location,
        "run": run,
        "fallbacks": [form.fields[name].label for name in form.errors if name in form.fields],
    }
    forecast = None
    if run is not None and location is not None:
        forecast = purchasing.planning_forecasts(
            run=run, product_ids=[product.pk], location_code=location.code, start=timezone.localdate()
        ).get(product.pk)
        if forecast is None:
            forecast = purchasing.planning_forecasts(
                run=run, product_ids=[product.pk], location_code=location.code, start=date(1970, 1, 1)
            ).get(product.pk)
    if terms is None or forecast is None:
        return render(request, "inventory/what_if.html", context)
    period = 7 if run.freq == "W" else 1
    # "Current" is what the suggestions plan with: the service level of the product's latest order line at this
    # location, and the lead time with the same allowance for late deliveries (``cover_periods``).
    last = (
        PurchaseOrderLine.objects.filter(product=product, purchase_order__location=location)
        .order_by("-pk")
        .values_list("explanation", flat=True)
        .first()
    )
    current_sl = float((last or {}).get("service_level", 0.95))
    # The lead time the suggestions plan with: the one the supplier kept, once it has delivered often enough.
    [planned], measured = with_measured_lead_times([terms], today=timezone.localdate())
    current_lt, _lead, _review = cover_periods(planned, period, settings.PO_REVIEW_PERIOD_DAYS)
    demand, basis, estimated = _recent_demand(product, run)
    if demand is None:
        demand, basis = np.asarray(forecast.median), "forecast"
    common = {
        "forecast": forecast,
        "demand": demand,
        "period_days": period,
        "review_period_days": settings.PO_REVIEW_PERIOD_DAYS,
        "pack_size": terms.pack_size,
        "moq": terms.moq,
        "calibration": stored_calibration(run=run, location=location),
    }
    current = purchasing.policy_what_if(service_level=current_sl, lead_time_days=current_lt, **common)
    trial = purchasing.policy_what_if(
        service_level=data.get("service_level") or current_sl,
        lead_time_days=current_lt if data.get("lead_time_days") is None else data["lead_time_days"],
        **common,
    )
    start = forecast.dates[0] - timedelta(days=period * len(demand)) if basis == "history" else forecast.dates[0]
    dates = [start + timedelta(days=period * i) for i in range(len(demand))]
    chart = time_chart(
        [
            Line(_("Demand"), list(zip(dates, [float(x) for x in demand], strict=True)), color=PALETTE[7]),
            # Stock at the end of each period, held until the next one: steps, as on the order page.
            Line(
                _("On hand, current settings"),
                list(zip(dates, current.on_hand, strict=True)),
                color=PALETTE[0],
                key="on-hand-current",
                step=True,
            ),
            Line(
                _("On hand, what-if"),
                list(zip(dates, trial.on_hand, strict=True)),
                color=PALETTE[1],
                dashed=True,
                key="on-hand-what-if",
                step=True,
            ),
        ],
        y_label=_("Units"),
    )
    context.update(
        {
            "lead_time_allowance": current_lt - terms.lead_time_days,
            "measured_lead_time": measured.get(terms.supplier_id),
            "service_level_from_line": bool(last and "service_level" in last),
            "current": current,
            "trial": trial,
            "basis": basis,
            "chart": chart,
            "periods": len(demand),
            "replayed_demand": demand,
            "estimated_periods": estimated,
        }
    )
    return render(request, "inventory/what_if.html", context)


def _recent_demand(product: Product, run) -> tuple[np.ndarray | None, str, int]:
    """The last 120 days (or 26 weeks) of demand before the forecast, when there are at least four weeks of it,
    and how many of those periods were out of stock. Demand on such a period is not known: it replays as the
    forecast's gap filling estimates it (the same weekday of the weeks before), not as zero."""
    lines = order_lines_frame(product_ids=[product.pk])
    if lines.empty:
        return None, "", 0
    freq = run.freq
    end = pd.Timestamp(run.history_end) if run.history_end else lines["date"].max()
    stockouts = stockout_days_frame(product_ids=[product.pk], until=end.date())
    frame = demand_from_lines(lines, freq=freq, end=end, product_col="sku", stockouts=stockouts)
    window = 120 if freq == "D" else 26
    raw = frame["quantity"].to_numpy(dtype=float)
    values = fill_gaps(raw[None, :], freq)[0][-window:]
    if len(values) < (28 if freq == "D" else 4):
        return None, "", 0
    return np.nan_to_num(values), "history", int(np.isnan(raw[-window:]).sum())
