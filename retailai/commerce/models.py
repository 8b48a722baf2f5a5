"""Products, categories, customers, channels, orders, order lines and promotions."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import ChannelKind, LineKind, OrderKind, OrderStatus


class Category(models.Model):
    """A node of the product category tree."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list["Category"]:
        """The chain from the root down to this node's parent."""
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return list(reversed(chain))


class Product(models.Model):
    """A sellable SKU (or a non-merchandise code such as postage, flagged as such)."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, related_name="products", on_delete=models.PROTECT
    )
    brand = models.CharField(_("brand"), max_length=120, blank=True)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4, null=True, blank=True)
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=4, null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    is_merchandise = models.BooleanField(
        _("merchandise"), default=True, help_text=_("False for postage, fees, discounts and other non-product codes.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_cost__gte=0) | Q(unit_cost__isnull=True), name="product_cost_ge_0"),
            models.CheckConstraint(
                condition=Q(list_price__gte=0) | Q(list_price__isnull=True), name="product_price_ge_0"
            ),
        ]
        indexes = [models.Index(fields=["category", "active"])]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Channel(models.Model):
    """A sales channel: the web shop, a store network or a marketplace partner."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices, default=ChannelKind.WEB)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A known customer; guest orders have none."""

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    country = models.CharField(_("country"), max_length=64, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["external_id"]
        indexes = [models.Index(fields=["country"])]

    def __str__(self) -> str:
        return self.external_id


class Order(models.Model):
    """An order (or credit note) as received from a channel."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), related_name="orders", on_delete=models.PROTECT)
    external_id = models.CharField(_("external id"), max_length=64)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.PROTECT,
        help_text=_("Empty for guest orders."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OrderKind.choices, default=OrderKind.SALE)
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    placed_at = models.DateTimeField(_("placed at"))
    country = models.CharField(_("country"), max_length=64, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="GBP")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="order_unique_external_id_per_channel"),
        ]
        indexes = [
            models.Index(fields=["customer", "placed_at"]),
            models.Index(fields=["placed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None


class OrderLine(models.Model):
    """One line of an order; cancellations and returns are lines of their own kind, never negative rows."""

    order = models.ForeignKey(Order, verbose_name=_("order"), related_name="lines", on_delete=models.CASCADE)
    line_number = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="order_lines", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LineKind.choices, default=LineKind.SALE)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4)
    discount_amount = models.DecimalField(_("discount amount"), max_digits=12, decimal_places=4, default=Decimal(0))
    # Copied from the order so that demand queries by product/customer and date need no join.
    placed_at = models.DateTimeField(_("placed at"))
    customer = models.ForeignKey(
        Customer, null=True, blank=True, related_name="order_lines", on_delete=models.PROTECT, editable=False
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="orderline_unique_number"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_ge_0"),
            models.CheckConstraint(condition=Q(discount_amount__gte=0), name="orderline_discount_ge_0"),
            models.CheckConstraint(condition=Q(kind__in=LineKind.values), name="orderline_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["product", "placed_at"], name="orderline_product_date"),
            models.Index(fields=["customer", "placed_at"], name="orderline_customer_date"),
        ]

    def __str__(self) -> str:
        return f"{self.order} #{self.line_number} {self.product_id} x{self.quantity}"

    @property
    def net_amount(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount_amount


class ChannelPartner(models.Model):
    """Links a Partner user to the sales channel it acts for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="channel_partner", on_delete=models.CASCADE, verbose_name=_("user")
    )
    channel = models.ForeignKey(Channel, related_name="partners", on_delete=models.CASCADE, verbose_name=_("channel"))

    class Meta:
        verbose_name = _("channel partner")
        verbose_name_plural = _("channel partners")

    def __str__(self) -> str:
        return f"{self.user} → {self.channel}"


class Promotion(models.Model):
    """A planned or past promotion of one product: when, where, which kinds and how deep the discount."""

    code = models.CharField(
        _("promotion id"),
        max_length=64,
        help_text=_("The campaign or promotion id; one campaign may cover many products."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="promotions", on_delete=models.PROTECT)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        related_name="promotions",
        on_delete=models.PROTECT,
        help_text=_("Empty: every channel."),
    )
    # A code, not a foreign key: locations belong to inventory, and commerce imports no other app.
    location_code = models.CharField(
        _("location"), max_length=50, blank=True, default="", help_text=_("Empty: every location.")
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    is_feature = models.BooleanField(_("feature or ad"), default=False)
    is_display = models.BooleanField(_("display"), default=False)
    is_price_reduction = models.BooleanField(_("temporary price reduction"), default=False)
    discount_depth = models.DecimalField(
        _("discount depth"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        # xgettext:no-python-format
        help_text=_("Share off the regular price, from 0 up to (not including) 1: 0.25 is 25% off."),
    )
    promo_price = models.DecimalField(_("promotional price"), max_digits=12, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-start_date", "code", "product_id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="promotion_end_after_start"),
            models.CheckConstraint(
                condition=Q(discount_depth__isnull=True) | (Q(discount_depth__gte=0) & Q(discount_depth__lt=1)),
                name="promotion_depth_in_0_1",
            ),
            models.CheckConstraint(
                condition=Q(promo_price__isnull=True) | Q(promo_price__gte=0), name="promotion_price_ge_0"
            ),
            models.CheckConstraint(
                condition=Q(is_feature=True) | Q(is_display=True) | Q(is_price_reduction=True),
                name="promotion_has_a_kind",
            ),
            # Two partial constraints because NULL channels never collide in a plain unique constraint.
            models.UniqueConstraint(
                fields=["code", "product", "location_code", "channel"],
                condition=Q(channel__isnull=False),
                name="promotion_unique_per_channel",
            ),
            models.UniqueConstraint(
                fields=["code", "product", "location_code"],
                condition=Q(channel__isnull=True),
                name="promotion_unique_all_channels",
            ),
        ]
        indexes = [models.Index(fields=["product", "start_date"], name="promotion_product_start")]

    def __str__(self) -> str:
        return f"{self.code} {self.product_id} {self.start_date}–{self.end_date}"

    def clean(self):
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The last day cannot be before the first day.")
        if self.discount_depth is not None and not (0 <= self.discount_depth < 1):
            errors["discount_depth"] = _("The discount depth must be at least 0 and below 1.")
        if not (self.is_feature or self.is_display or self.is_price_reduction):
            errors["is_feature"] = _("Tick at least one kind of promotion.")
        if errors:
            raise ValidationError(errors)

    @property
    def kinds(self) -> list[str]:
        """The kinds as short codes: feature, display, tpr."""
        flags = (("feature", self.is_feature), ("display", self.is_display), ("tpr", self.is_price_reduction))
        return [name for name, on in flags if on]
