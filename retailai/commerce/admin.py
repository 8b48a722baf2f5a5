"""Admin of the commerce app: reference data is editable; received orders are facts and stay as imported."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Category, Channel, ChannelPartner, Customer, Order, OrderLine, Product, Promotion


class HasParentFilter(admin.SimpleListFilter):
    """Top-level categories or sub-categories."""

    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("root", _("Top level")), ("child", _("Sub-category"))]

    def queryset(self, request, queryset):
        if self.value() == "root":
            return queryset.filter(parent__isnull=True)
        if self.value() == "child":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    list_filter = (HasParentFilter,)
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


class PricedFilter(admin.SimpleListFilter):
    """Products with or without a list price (unpriced products cannot be margin-checked)."""

    title = _("price")
    parameter_name = "priced"

    def lookups(self, request, model_admin):
        return [("yes", _("Has a list price")), ("no", _("No list price"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(list_price__isnull=False)
        if self.value() == "no":
            return queryset.filter(list_price__isnull=True)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "brand", "unit_cost", "list_price", "is_merchandise", "active")
    list_filter = ("active", "is_merchandise", PricedFilter)
    list_select_related = ("category",)
    search_fields = ("sku", "name", "brand")
    autocomplete_fields = ("category",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("external_id", "country", "region", "first_seen")
    search_fields = ("external_id",)
    date_hierarchy = "first_seen"
    readonly_fields = ("created_at",)
    show_full_result_count = False


class GuestFilter(admin.SimpleListFilter):
    """Guest orders (no known customer) or orders of known customers."""

    title = _("customer")
    parameter_name = "guest"

    def lookups(self, request, model_admin):
        return [("yes", _("Guest orders")), ("no", _("Known customers"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(customer__isnull=True)
        if self.value() == "no":
            return queryset.filter(customer__isnull=False)
        return queryset


class OrderLineInline(admin.TabularInline):
    """Lines of an order; once an order is stored its lines are the record of what was sold."""

    model = OrderLine
    extra = 0
    fields = ("line_number", "product", "kind", "quantity", "unit_price", "discount_amount", "net")
    readonly_fields = ("net",)
    raw_id_fields = ("product",)
    ordering = ("line_number",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description=_("net amount"))
    def net(self, obj):
        return obj.net_amount if obj.pk else "—"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.pk:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is None and super().has_delete_permission(request, obj)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("external_id", "channel", "customer_display", "kind", "status", "placed_at", "currency")
    list_filter = ("channel", "kind", "status", GuestFilter)
    list_select_related = ("channel", "customer")
    search_fields = ("=external_id", "=customer__external_id")
    date_hierarchy = "placed_at"
    raw_id_fields = ("customer",)
    fields = (
        ("channel", "external_id"),
        ("kind", "status"),
        "customer",
        ("placed_at", "created_at"),
        ("country", "currency"),
        "line_count",
    )
    readonly_fields = ("created_at", "line_count")
    inlines = (OrderLineInline,)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A received order is a fact of the history: its identity and lines are kept as imported.
        if obj is not None and obj.pk:
            return (*self.readonly_fields, "channel", "external_id", "customer", "kind", "placed_at", "currency")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Order history feeds forecasts and recommendations: cancel an order (status), never delete it.
        return False

    @admin.display(description=_("customer"), ordering="customer__external_id")
    def customer_display(self, obj):
        return obj.customer or _("guest")

    @admin.display(description=_("lines"))
    def line_count(self, obj):
        return obj.lines.count() if obj.pk else "—"


class ProductKindFilter(admin.SimpleListFilter):
    """Merchandise lines or non-product codes (postage, fees)."""

    title = _("merchandise")
    parameter_name = "merch"

    def lookups(self, request, model_admin):
        return [("yes", _("Merchandise")), ("no", _("Non-merchandise codes"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(product__is_merchandise=True)
        if self.value() == "no":
            return queryset.filter(product__is_merchandise=False)
        return queryset


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ("order", "line_number", "product", "kind", "quantity", "unit_price", "discount_amount", "net")
    list_filter = ("kind", ProductKindFilter)
    list_select_related = ("order", "product")
    search_fields = ("=order__external_id", "=product__sku")
    date_hierarchy = "placed_at"
    raw_id_fields = ("order", "product")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.pk:
            return ("order", "line_number", "product", "kind", "quantity", "unit_price", "discount_amount", "placed_at")
        return ()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("net amount"))
    def net(self, obj):
        return obj.net_amount


@admin.register(ChannelPartner)
class ChannelPartnerAdmin(admin.ModelAdmin):
    list_display = ("user", "channel")
    list_filter = ("channel",)
    list_select_related = ("user", "channel")
    search_fields = ("user__username", "channel__code", "channel__name")
    autocomplete_fields = ("user", "channel")


class PromotionTimeFilter(admin.SimpleListFilter):
    """Promotions that are over, running today, or planned."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("past", _("Over")), ("running", _("Running today")), ("planned", _("Planned"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "past":
            return queryset.filter(end_date__lt=today)
        if self.value() == "running":
            return queryset.filter(start_date__lte=today, end_date__gte=today)
        if self.value() == "planned":
            return queryset.filter(start_date__gt=today)
        return queryset


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("code", "product", "channel", "location_code", "start_date", "end_date", "kind_list",
                    "discount_depth", "promo_price")  # fmt: skip
    list_filter = (PromotionTimeFilter, "is_feature", "is_display", "is_price_reduction", "channel")
    list_select_related = ("product", "channel")
    search_fields = ("=code", "=product__sku", "name")
    date_hierarchy = "start_date"
    raw_id_fields = ("product",)
    readonly_fields = ("created_at", "updated_at", "forecast_link")
    fields = (
        ("code", "name"),
        "product",
        ("channel", "location_code"),
        ("start_date", "end_date"),
        ("is_feature", "is_display", "is_price_reduction"),
        ("discount_depth", "promo_price"),
        "forecast_link",
        ("created_at", "updated_at"),
    )
    show_full_result_count = False

    @admin.display(description=_("kinds"))
    def kind_list(self, obj):
        return ", ".join(obj.kinds)

    @admin.display(description=_("forecast"))
    def forecast_link(self, obj):
        if not obj.pk:
            return "—"
        try:
            # The page belongs to the forecasting app; commerce only links to it by URL name.
            url = reverse("forecasting:product", args=[obj.product.sku])
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">{}</a>', url, _("Demand and forecast chart"))
