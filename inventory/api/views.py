"""API views of the inventory app."""

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import purchasing
from inventory.filtersets import StockLevelFilterSet, SupplierFilterSet, SupplierProductFilterSet
from inventory.models import PurchaseOrderLine
from inventory.selectors import (
    stock_levels_visible_to,
    supplier_lead_time_report,
    supplier_products_visible_to,
    suppliers_visible_to,
)
from retailai.core.api.permissions import ReadAnyRoleWriteStaff
from retailai.core.choices import Role
from retailai.core.errors import ValidationFailed
from retailai.core.roles import has_role

from .permissions import IsBuyerOrSupplierPartner, IsInternalOrSupplierPartner
from .serializers import (
    BulkApproveSerializer,
    LineEditSerializer,
    PurchaseOrderPartnerSerializer,
    PurchaseOrderSerializer,
    ReasonSerializer,
    ReceiveSerializer,
    ShipNoticeSerializer,
    StockLevelSerializer,
    SupplierLeadTimeSerializer,
    SupplierProductSerializer,
    SupplierSerializer,
)


class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock by product and location. The retailer's roles see all; a supplier partner the stock of what it
    supplies; a channel partner the stock at the locations serving its channel."""

    serializer_class = StockLevelSerializer
    permission_classes = [ReadAnyRoleWriteStaff]
    filterset_class = StockLevelFilterSet
    ordering_fields = ["on_hand", "updated_at"]

    def get_queryset(self):
        return stock_levels_visible_to(self.request.user)


class SupplierViewSet(viewsets.ReadOnlyModelViewSet):
    """Suppliers. The retailer's roles see all; a supplier partner only its own supplier."""

    serializer_class = SupplierSerializer
    permission_classes = [IsInternalOrSupplierPartner]
    filterset_class = SupplierFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["name", "code"]

    def get_queryset(self):
        return suppliers_visible_to(self.request.user)

    @extend_schema(responses=SupplierLeadTimeSerializer)
    @action(detail=True, methods=["get"], url_path="lead-times")
    def lead_times(self, request, pk=None):
        """The lead times this supplier kept against its terms, and whether suggestions plan with them."""
        supplier = self.get_object()
        report = supplier_lead_time_report(today=timezone.localdate(), supplier_ids=[supplier.pk])
        row = report.loc[supplier.pk].to_dict() if supplier.pk in report.index else {}
        number = lambda key: None if key not in row else round(float(row[key]), 3)  # noqa: E731
        data = {
            "supplier": supplier.pk,
            "window_days": settings.PO_LEAD_TIME_HISTORY_DAYS,
            "deliveries": int(row.get("deliveries", 0)),
            "promised_days": number("promised_days"),
            "actual_days": number("actual_days"),
            "late_days": number("late_days"),
            "late_std_days": number("late_std_days"),
            "on_time_share": number("on_time_share"),
            "planned_with_measured": bool(row.get("measured", False)),
            "min_deliveries": settings.PO_LEAD_TIME_MIN_DELIVERIES,
        }
        return Response(SupplierLeadTimeSerializer(data).data)


class SupplierProductViewSet(viewsets.ReadOnlyModelViewSet):
    """Supply terms (lead time, MOQ, pack size, cost). The retailer's roles see all; a supplier partner its own."""

    serializer_class = SupplierProductSerializer
    permission_classes = [IsInternalOrSupplierPartner]
    filterset_class = SupplierProductFilterSet
    search_fields = ["product__sku", "product__name", "supplier_sku"]
    ordering_fields = ["lead_time_days", "unit_cost"]

    def get_queryset(self):
        return supplier_products_visible_to(self.request.user)


class PurchaseOrderViewSet(viewsets.ReadOnlyModelViewSet):
    """Purchase orders with their lines. Buyers and staff see and decide on all of them (transitions are POST
    actions; 409 when someone else acted first); a supplier partner sees its approved or sent orders, confirms
    them and posts ship notices."""

    permission_classes = [IsBuyerOrSupplierPartner]
    filterset_fields = ["status", "supplier", "location", "generated_for"]
    search_fields = ["number", "supplier__name"]
    ordering_fields = ["total_value", "cover_slack_days", "created_at", "expected_delivery"]

    def get_queryset(self):
        return purchasing.purchase_orders_visible_to(self.request.user).prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("product"))
        )

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or has_role(self.request.user, Role.STAFF, Role.BUYER):
            return PurchaseOrderSerializer
        return PurchaseOrderPartnerSerializer

    def _done(self, po) -> Response:
        # A partner's order may leave its view (e.g. once received); answer with what was done then.
        po = self.get_queryset().filter(pk=po.pk).first() or po
        return Response(self.get_serializer(po).data)

    def _payload(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._done(purchasing.purchase_order_submit(purchase_order=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._done(purchasing.purchase_order_approve(purchase_order=self.get_object(), actor=request.user))

    @extend_schema(request=ReasonSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = self._payload(ReasonSerializer)
        po = purchasing.purchase_order_reject(
            purchase_order=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return self._done(po)

    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return self._done(purchasing.purchase_order_send(purchase_order=self.get_object(), actor=request.user))

    @extend_schema(request=ReasonSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = self._payload(ReasonSerializer)
        po = purchasing.purchase_order_cancel(
            purchase_order=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return self._done(po)

    @extend_schema(request=ReasonSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = self._payload(ReasonSerializer)
        po = purchasing.purchase_order_close(
            purchase_order=self.get_object(), actor=request.user, reason=data["reason"]
        )
        return self._done(po)

    @extend_schema(request=LineEditSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"], url_path="edit-line")
    def edit_line(self, request, pk=None):
        po = self.get_object()
        data = self._payload(LineEditSerializer)
        line = po.lines.filter(pk=data["line"]).select_related("purchase_order").first()
        if line is None:
            raise ValidationFailed(f"Line {data['line']} is not on {po.number}.", field="line")
        purchasing.purchase_order_line_update(
            line=line, quantity=data["quantity"], reason=data["reason"], actor=request.user
        )
        return self._done(po)

    @extend_schema(request=ReceiveSerializer, responses=PurchaseOrderSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        po = self.get_object()
        data = self._payload(ReceiveSerializer)
        quantities: dict[int, int] = {}
        for row in data["lines"]:
            if row["line"] in quantities:
                raise ValidationFailed(f"Line {row['line']} is given twice.", field="lines")
            quantities[row["line"]] = row["quantity"]
        po = purchasing.purchase_order_receive(
            purchase_order=po, actor=request.user, quantities=quantities, reference=data["reference"]
        )
        return self._done(po)

    @extend_schema(request=None, responses=PurchaseOrderPartnerSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._done(purchasing.purchase_order_confirm(purchase_order=self.get_object(), actor=request.user))

    @extend_schema(request=ShipNoticeSerializer, responses=PurchaseOrderPartnerSerializer)
    @action(detail=True, methods=["post"], url_path="ship-notice")
    def ship_notice(self, request, pk=None):
        data = self._payload(ShipNoticeSerializer)
        po = purchasing.purchase_order_ship_notice(
            purchase_order=self.get_object(),
            actor=request.user,
            expected_delivery=data["expected_delivery"],
            reference=data["reference"],
        )
        return self._done(po)

    @extend_schema(
        request=BulkApproveSerializer,
        responses=inline_serializer(
            "BulkApproveResult",
            {
                "approved": drf_serializers.ListField(child=drf_serializers.IntegerField()),
                "awaiting_second_approval": drf_serializers.ListField(child=drf_serializers.IntegerField()),
                "failed": drf_serializers.ListField(child=drf_serializers.DictField()),
            },
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk-approve")
    def bulk_approve(self, request):
        data = self._payload(BulkApproveSerializer)
        orders = list(self.get_queryset().filter(pk__in=data["ids"]))
        missing = sorted(set(data["ids"]) - {po.pk for po in orders})
        if missing:
            raise ValidationFailed(f"Unknown purchase orders: {missing}.", field="ids")
        result = purchasing.purchase_order_approve_bulk(purchase_orders=orders, actor=request.user)
        return Response(
            {
                "approved": [po.pk for po in result.approved],
                "awaiting_second_approval": [po.pk for po in result.awaiting_second],
                "failed": [{"id": po.pk, "detail": message} for po, message in result.failed],
            }
        )
