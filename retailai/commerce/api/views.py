"""API views of the commerce app."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from retailai.commerce import selectors, services
from retailai.commerce.filtersets import (
    CategoryFilterSet,
    CustomerFilterSet,
    OrderFilterSet,
    ProductFilterSet,
    PromotionFilterSet,
)
from retailai.commerce.models import Category, Channel, Customer, OrderLine, Promotion
from retailai.core.api.permissions import IsInternal, IsStaffRole, ReadAnyRoleWriteStaff
from retailai.core.choices import Role
from retailai.core.errors import NotAllowed, ValidationFailed
from retailai.core.roles import has_role

from .permissions import OrderAccess
from .serializers import (
    CategorySerializer,
    CustomerSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    ProductSerializer,
    PromotionSerializer,
)

# Reference data is deactivated, never deleted: order history points at it.
READ_CREATE_UPDATE = ["get", "post", "put", "patch", "head", "options"]


class CategoryViewSet(viewsets.ModelViewSet):
    """The product category tree. Every role reads; Staff writes."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    permission_classes = [ReadAnyRoleWriteStaff]
    filterset_class = CategoryFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["name", "code"]
    http_method_names = READ_CREATE_UPDATE


class ProductViewSet(viewsets.ModelViewSet):
    """Products. Every role reads (a supplier partner the products it supplies, a channel partner the active
    merchandise); Staff writes."""

    serializer_class = ProductSerializer
    permission_classes = [ReadAnyRoleWriteStaff]
    filterset_class = ProductFilterSet
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "brand", "list_price", "updated_at"]
    http_method_names = READ_CREATE_UPDATE

    def get_queryset(self):
        return selectors.products_visible_to(self.request.user)


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers (Staff only)."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [IsStaffRole]
    filterset_class = CustomerFilterSet
    search_fields = ["external_id"]
    ordering_fields = ["external_id", "first_seen", "created_at"]


class PromotionViewSet(viewsets.ReadOnlyModelViewSet):
    """Planned and past promotions per product (the retailer's roles; loaded with import_promotions)."""

    queryset = Promotion.objects.select_related("product", "channel")
    serializer_class = PromotionSerializer
    permission_classes = [IsInternal]
    filterset_class = PromotionFilterSet
    search_fields = ["code", "name", "product__sku"]
    ordering_fields = ["start_date", "end_date", "code"]


@extend_schema_view(
    create=extend_schema(
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="A retry of an order already received."),
            409: OpenApiResponse(description="The external id was already received with different content."),
        },
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Orders with their lines. The retailer's roles read all; a channel partner reads and posts its own
    channel's orders. Posting is idempotent on the channel's external id."""

    permission_classes = [OrderAccess]
    filterset_class = OrderFilterSet
    search_fields = ["external_id", "customer__external_id"]
    ordering_fields = ["placed_at", "created_at"]

    def get_queryset(self):
        lines = OrderLine.objects.select_related("product").order_by("line_number")
        return selectors.orders_visible_to(self.request.user).prefetch_related(Prefetch("lines", queryset=lines))

    def get_serializer_class(self):
        if self.action == "create":
            return OrderCreateSerializer
        return OrderSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.order_create(
            channel=self._channel_to_post_for(data.get("channel")),
            external_id=data["external_id"],
            placed_at=data["placed_at"],
            customer_external_id=data.get("customer_external_id"),
            country=data["country"],
            currency=data.get("currency"),
            lines=[services.OrderLineInput(**line) for line in data["lines"]],
            actor=request.user,
        )
        order = self.get_queryset().get(pk=result.order.pk)
        return Response(
            OrderSerializer(order, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=None,
        responses={200: OrderSerializer, 409: OpenApiResponse(description="The order is no longer placed.")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a placed order (Staff, or the partner of the order's channel)."""
        order = self.get_object()
        if not has_role(request.user, Role.STAFF) and selectors.channel_for_partner(request.user) != order.channel:
            raise NotAllowed("Only Staff or the order's channel partner may cancel it.")
        services.order_cancel(order=order, actor=request.user)
        return Response(
            OrderSerializer(self.get_queryset().get(pk=order.pk), context=self.get_serializer_context()).data
        )

    def _channel_to_post_for(self, requested: Channel | None) -> Channel:
        user = self.request.user
        own = selectors.channel_for_partner(user)
        if requested is None:
            if own is None:
                raise ValidationFailed("This field is required.", field="channel")
            return own
        if requested != own and not has_role(user, Role.STAFF):
            raise NotAllowed(f"You may only post orders for your own channel, not {requested.code}.", field="channel")
        return requested
