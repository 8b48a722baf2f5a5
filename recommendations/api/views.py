"""API views of the recommendations app: served lists for shops and channel partners, and their events."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from recommendations import selectors, services
from retailai.commerce.models import Channel, ChannelPartner
from retailai.commerce.selectors import channel_for_partner
from retailai.core.choices import Role
from retailai.core.errors import NotAllowed, ValidationFailed
from retailai.core.roles import has_role, is_internal

from .serializers import (
    BasketSerializer,
    BehaviourEventInputSerializer,
    BehaviourEventSerializer,
    ListSizeSerializer,
    ServedListSerializer,
)


class CanUseRecommendations(BasePermission):
    """The retailer's roles, and channel partners (the shops that show the lists); not supplier partners."""

    message = "Recommendations are for the retailer's staff and for sales channel partners."

    def has_permission(self, request, view):
        user = request.user
        if is_internal(user):
            return True
        if not user.is_authenticated:
            return False
        _load_channel_link(user)
        return channel_for_partner(user) is not None


def _load_channel_link(user) -> None:
    """Read the partner's channel link and its channel in one query, into the user's relation cache."""
    # channel_for_partner follows user.channel_partner then .channel: two queries on every call otherwise.
    rel = type(user).channel_partner.related
    if not rel.is_cached(user):
        rel.set_cached_value(user, ChannelPartner.objects.select_related("channel").filter(user=user).first())


def _served(served) -> Response:
    # The shape of ServedListSerializer, built directly: this runs on every call of a hot endpoint.
    results = [{"sku": i.sku, "name": i.name, "score": i.score, "reason": i.reason} for i in served.items]
    return Response({"run": served.run_id, "cold_start": served.cold_start, "results": results})


class RecommendationViewSet(viewsets.ViewSet):
    """Served lists: a customer's top-k, a product's similar items, items to add to a basket; and channel events.

    Lists come from the active run after the serving rules (out of stock, inactive and non-merchandise
    products never appear); a customer with no list gets the popular items."""

    permission_classes = [CanUseRecommendations]
    lookup_value_regex = "[^/]+"

    @extend_schema(parameters=[ListSizeSerializer], responses=ServedListSerializer)
    @action(detail=False, methods=["get"], url_path=r"customers/(?P<external_id>[^/]+)")
    def customer(self, request, external_id: str):
        """Top-k recommendations for one customer, by their external id."""
        params = ListSizeSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        served = selectors.customer_recommendations(
            external_id=external_id, k=params.validated_data["k"], user=request.user
        )
        return _served(served)

    @extend_schema(parameters=[ListSizeSerializer], responses=ServedListSerializer)
    @action(detail=False, methods=["get"], url_path=r"products/(?P<sku>[^/]+)/similar")
    def similar(self, request, sku: str):
        """Products bought by the same customers as this one."""
        params = ListSizeSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        served = selectors.similar_products_for(sku=sku, user=request.user, k=params.validated_data["k"])
        if served is None:
            raise NotFound(f"No product {sku}.")
        return _served(served)

    @extend_schema(request=BasketSerializer, responses=ServedListSerializer)
    @action(detail=False, methods=["post"], url_path="bought-together")
    def bought_together(self, request):
        """Items often bought in the same basket as the given SKUs."""
        body = BasketSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        served, unknown = selectors.bought_together_for(
            skus=body.validated_data["skus"], user=request.user, k=body.validated_data["k"]
        )
        if unknown:
            raise ValidationFailed(f"Unknown SKU: {', '.join(unknown)}.", field="skus")
        return _served(served)

    @extend_schema(request=BehaviourEventInputSerializer, responses={201: BehaviourEventSerializer})
    @action(detail=False, methods=["post"], url_path="events")
    def events(self, request):
        """Record a product view or add-to-cart seen by a channel (a channel partner posts for its own channel)."""
        body = BehaviourEventInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        own = channel_for_partner(request.user)
        if own is not None:
            if data.get("channel") not in (None, own.code):
                raise NotAllowed("A channel partner posts events for its own channel only.", field="channel")
            channel = own
        elif has_role(request.user, Role.STAFF):
            channel = Channel.objects.filter(code=data.get("channel") or "").first()
            if channel is None:
                raise ValidationFailed("A known channel code is required.", field="channel")
        else:
            raise NotAllowed("Only channels and staff post behaviour events.")
        event = services.behaviour_event_record(
            channel=channel,
            customer_external_id=data["customer"],
            sku=data["sku"],
            kind=data["kind"],
            at=data.get("at"),
        )
        return Response(BehaviourEventSerializer(event).data, status=status.HTTP_201_CREATED)
