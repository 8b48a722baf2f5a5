"""Locations, stock levels, the stock ledger, suppliers and supplier products."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retailai.commerce.models import Channel, Product

from .choices import LocationKind, MovementKind


class Location(models.Model):
    """A warehouse or store that holds stock."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=LocationKind.choices, default=LocationKind.WAREHOUSE)
    channels = models.ManyToManyField(Channel, verbose_name=_("channels served"), blank=True, related_name="locations")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    """Stock of one product at one location; changed only through inventory.services."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="stock_levels", on_delete=models.PROTECT
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), related_name="stock_levels", on_delete=models.PROTECT
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    on_order = models.IntegerField(_("on order"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stocklevel_unique_product_location"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stocklevel_on_hand_ge_0"),
            models.CheckConstraint(condition=Q(on_order__gte=0), name="stocklevel_on_order_ge_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_ge_0"),
        ]
        indexes = [models.Index(fields=["location", "product"])]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand}"

    @property
    def available(self) -> int:
        """On hand less what is reserved for open orders."""
        return self.on_hand - self.reserved

    @property
    def inventory_position(self) -> int:
        """On hand + on order − reserved: what replenishment compares with the order-up-to level."""
        return self.on_hand + self.on_order - self.reserved


class StockMovement(models.Model):
    """One entry of the stock ledger: a signed change of on-hand stock. Never edited."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="stock_movements", on_delete=models.PROTECT
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), related_name="stock_movements", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Signed change of on-hand stock."))
    on_hand_after = models.IntegerField(_("on hand after"))
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0) | Q(kind="count"), name="movement_quantity_not_0"),
            models.CheckConstraint(
                condition=~Q(kind__in=["receipt", "return", "transfer_in"]) | Q(quantity__gt=0),
                name="movement_inbound_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["sale", "transfer_out"]) | Q(quantity__lt=0),
                name="movement_outbound_negative",
            ),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0), name="movement_on_hand_after_ge_0"),
        ]
        indexes = [models.Index(fields=["product", "location", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product_id}@{self.location_id}"


class Supplier(models.Model):
    """A vendor that supplies products."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    min_order_value = models.DecimalField(
        _("minimum order value"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("Suggested orders below this value are topped up, most urgent line first."),
    )

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierProduct(models.Model):
    """The terms under which a supplier supplies a product."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), related_name="products", on_delete=models.CASCADE
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="supplier_terms", on_delete=models.CASCADE
    )
    supplier_sku = models.CharField(_("supplier SKU"), max_length=64, blank=True)
    lead_time_days = models.PositiveIntegerField(_("lead time (days)"))
    lead_time_std_days = models.DecimalField(_("lead-time std. dev. (days)"), max_digits=6, decimal_places=2, default=0)
    moq = models.PositiveIntegerField(_("minimum order quantity"), default=1)
    pack_size = models.PositiveIntegerField(_("pack size"), default=1)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4)
    order_days = models.CharField(
        _("order days"),
        max_length=7,
        default="1111100",
        help_text=_("Seven 0/1 flags, Monday first: the weekdays on which orders can be placed."),
    )
    is_primary = models.BooleanField(_("primary supplier"), default=True)

    class Meta:
        verbose_name = _("supplier product")
        verbose_name_plural = _("supplier products")
        ordering = ["supplier_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplierproduct_unique"),
            models.CheckConstraint(condition=Q(moq__gte=1), name="supplierproduct_moq_ge_1"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="supplierproduct_pack_ge_1"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="supplierproduct_cost_ge_0"),
            models.CheckConstraint(condition=Q(lead_time_std_days__gte=0), name="supplierproduct_lt_std_ge_0"),
            models.CheckConstraint(condition=Q(order_days__regex=r"^[01]{7}$"), name="supplierproduct_order_days"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.product_id}"


class SupplierPartner(models.Model):
    """Links a Partner user to the supplier it acts for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="supplier_partner", on_delete=models.CASCADE, verbose_name=_("user")
    )
    supplier = models.ForeignKey(
        Supplier, related_name="partners", on_delete=models.CASCADE, verbose_name=_("supplier")
    )

    class Meta:
        verbose_name = _("supplier partner")
        verbose_name_plural = _("supplier partners")

    def __str__(self) -> str:
        return f"{self.user} → {self.supplier}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    SECOND_APPROVAL = "second_approval", _("Awaiting second approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SENT = "sent", _("Sent")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class PurchaseOrder(models.Model):
    """An order to one supplier for one location; suggested nightly, approved by buyers, received into stock."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), related_name="purchase_orders", on_delete=models.PROTECT
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), related_name="purchase_orders", on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"), max_length=24, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    total_quantity = models.PositiveIntegerField(_("total quantity"), default=0)
    total_value = models.DecimalField(_("total value"), max_digits=14, decimal_places=2, default=0)
    expected_delivery = models.DateField(_("expected delivery"), null=True, blank=True)
    generated_for = models.DateField(_("suggested for"), null=True, blank=True, db_index=True)
    # The smallest (days of cover before the order − lead time) over the lines: below zero, a stock-out is likely.
    cover_slack_days = models.FloatField(_("cover slack (days)"), null=True, blank=True)
    is_edited = models.BooleanField(_("edited by a buyer"), default=False)
    is_auto_approved = models.BooleanField(_("auto-approved"), default=False)
    status_reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second approver"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rejected or cancelled by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    second_approved_at = models.DateTimeField(_("second approval at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    supplier_confirmed_at = models.DateTimeField(_("confirmed by supplier at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("ship notice at"), null=True, blank=True)
    ship_reference = models.CharField(_("ship reference"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PurchaseOrderStatus.values), name="purchaseorder_status_valid"
            ),
            models.CheckConstraint(condition=Q(total_value__gte=0), name="purchaseorder_value_ge_0"),
            models.CheckConstraint(
                condition=Q(second_approver__isnull=True) | ~Q(second_approver=models.F("approved_by")),
                name="purchaseorder_two_different_approvers",
            ),
            # One untouched suggestion per supplier, location and day: re-running the batch cannot duplicate it.
            models.UniqueConstraint(
                fields=["supplier", "location", "generated_for"],
                condition=Q(status="draft", is_edited=False, generated_for__isnull=False),
                name="purchaseorder_one_untouched_suggestion",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "cover_slack_days"]),
            models.Index(fields=["supplier", "status"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def cover_shortfall_days(self) -> float | None:
        """How many days before the delivery the stock runs out (positive), if it does."""
        if self.cover_slack_days is None or self.cover_slack_days >= 0:
            return None
        return -self.cover_slack_days

    @property
    def is_open(self) -> bool:
        """Waiting for a buyer's decision."""
        return self.status in OPEN_PO_STATUSES


OPEN_PO_STATUSES = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.PENDING_APPROVAL,
    PurchaseOrderStatus.SECOND_APPROVAL,
)


class PurchaseOrderLine(models.Model):
    """One product on a purchase order: what was suggested, what is ordered, what arrived, and why."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, verbose_name=_("purchase order"), related_name="lines", on_delete=models.CASCADE
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="purchase_order_lines", on_delete=models.PROTECT
    )
    suggested_quantity = models.IntegerField(_("suggested quantity"), default=0)
    quantity = models.IntegerField(_("approved quantity"))
    received_quantity = models.IntegerField(_("received quantity"), default=0)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=4)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["purchase_order_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "product"], name="purchaseorderline_unique_product"),
            models.CheckConstraint(condition=Q(suggested_quantity__gte=0), name="poline_suggested_ge_0"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="poline_quantity_ge_0"),
            models.CheckConstraint(condition=Q(received_quantity__gte=0), name="poline_received_ge_0"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="poline_unit_cost_ge_0"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order_id} · {self.product_id} × {self.quantity}"

    @property
    def value(self):
        """Quantity ordered times unit cost."""
        return self.quantity * self.unit_cost

    @property
    def outstanding(self) -> int:
        """Ordered but not yet received."""
        return max(self.quantity - self.received_quantity, 0)


class PolicyCalibration(models.Model):
    """How suggestions read one forecast run at one location: the planning fill per service-level target.

    A forecast's quantiles rarely land exactly on the fill they promise; replaying the run's backtest windows
    (forecasts made for periods the models had not seen, and the demand that followed) through the lost-sales
    simulation shows which planning fill reaches each target.
    """

    class Status(models.TextChoices):
        CALIBRATED = "calibrated", _("Calibrated")
        SKIPPED = "skipped", _("Skipped")

    run = models.ForeignKey(
        "forecasting.ForecastRun",
        verbose_name=_("forecast run"),
        related_name="policy_calibrations",
        on_delete=models.CASCADE,
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), related_name="policy_calibrations", on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    series = models.PositiveIntegerField(_("series replayed"), default=0)
    periods = models.PositiveIntegerField(_("periods replayed"), default=0)
    base_target = models.FloatField(_("base target"), null=True, blank=True)
    uncalibrated_fill = models.FloatField(
        _("fill without calibration"),
        null=True,
        blank=True,
        help_text=_("Fill of the replay when the base target is planned for as the forecast's quantiles say."),
    )
    # {"0.95": 0.91, ...}: the planning fill of each target, and the fill the replay reached with it.
    planning_fills = models.JSONField(_("planning fill per target"), default=dict, blank=True)
    replay_fills = models.JSONField(_("replay fill per target"), default=dict, blank=True)

    class Meta:
        verbose_name = _("policy calibration")
        verbose_name_plural = _("policy calibrations")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "location"], name="policycalibration_one_per_run_location"),
        ]

    def __str__(self) -> str:
        return f"{self.location} / forecast run {self.run_id}: {self.status}"

    @property
    def base_planning_fill(self) -> float | None:
        """The planning fill of the base target (None when skipped)."""
        if self.base_target is None:
            return None
        return self.planning_fills.get(f"{self.base_target:g}")

    @property
    def base_replay_fill(self) -> float | None:
        """The fill the replay reached at the base target's planning fill."""
        if self.base_target is None:
            return None
        return self.replay_fills.get(f"{self.base_target:g}")
