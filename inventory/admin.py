"""Admin of the inventory app. On-hand stock changes only through inventory.services, so the ledger is written."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from retailai.core.admin import ReadOnlyAdminMixin
from retailai.core.errors import DomainError

from .models import (
    OPEN_PO_STATUSES,
    Location,
    PolicyCalibration,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierPartner,
    SupplierProduct,
)
from .purchasing import purchase_order_approve_bulk, purchase_order_send
from .selectors import supplier_lead_time_report
from .services import stock_adjust


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    filter_horizontal = ("channels",)


class StockStatusFilter(admin.SimpleListFilter):
    """In stock, out of stock, or more reserved than on hand."""

    title = _("stock status")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [
            ("in", _("In stock")),
            ("out", _("Out of stock")),
            ("short", _("Reserved exceeds on hand")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "in":
            return queryset.filter(on_hand__gt=0)
        if self.value() == "out":
            return queryset.filter(on_hand=0)
        if self.value() == "short":
            return queryset.filter(reserved__gt=F("on_hand"))
        return queryset


class StockAdjustForm(forms.Form):
    """A signed correction of on-hand stock with the reason the ledger keeps."""

    quantity = forms.IntegerField(
        label=_("Change of on-hand stock"),
        help_text=_("Signed: +5 adds five units (found stock), -2 removes two (damage, loss)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, help_text=_("Kept in the stock ledger and audit log."))

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Enter a non-zero change."))
        return quantity


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ("product_label", "location", "on_hand", "on_order", "reserved", "available", "adjust_link")
    list_filter = (StockStatusFilter, "location")
    list_select_related = ("product", "location")
    search_fields = ("=product__sku", "product__name", "location__code")
    raw_id_fields = ("product",)
    readonly_fields = ("on_hand", "updated_at", "adjust_link")
    fields = ("product", "location", "on_hand", "on_order", "reserved", "updated_at", "adjust_link")
    actions = ("adjust_stock",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.pk:
            return ("product", "location", *self.readonly_fields)
        return self.readonly_fields

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="inventory_stocklevel_adjust",
            )
        ]
        return urls + super().get_urls()

    @admin.display(description=_("product"), ordering="product__sku")
    def product_label(self, obj):
        return format_html('<span class="sku">{}</span> {}', obj.product.sku, obj.product.name)

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    @admin.display(description=_("adjust"))
    def adjust_link(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("admin:inventory_stocklevel_adjust", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Adjust"))

    @admin.action(description=_("Adjust stock of the selected rows"), permissions=["change"])
    def adjust_stock(self, request, queryset):
        return self._adjust(request, list(queryset.select_related("product", "location")), from_action=True)

    def adjust_view(self, request, object_id):
        level = get_object_or_404(StockLevel.objects.select_related("product", "location"), pk=object_id)
        if not self.has_change_permission(request, level):
            raise PermissionDenied
        return self._adjust(request, [level], from_action=False)

    def _adjust(self, request, levels, *, from_action):
        """Ask for a quantity and a reason, then write each change through stock_adjust (all or nothing)."""
        submitted = request.method == "POST" and "apply" in request.POST
        form = StockAdjustForm(request.POST if submitted else None)
        if submitted and form.is_valid():
            quantity, reason = form.cleaned_data["quantity"], form.cleaned_data["reason"]
            try:
                with transaction.atomic():
                    for level in levels:
                        stock_adjust(
                            product=level.product,
                            location=level.location,
                            quantity=quantity,
                            actor=request.user,
                            reason=reason,
                        )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Adjusted stock of %(count)d row; the ledger has the change.",
                        "Adjusted stock of %(count)d rows; the ledger has the changes.",
                        len(levels),
                    )
                    % {"count": len(levels)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust stock"),
            "opts": self.model._meta,
            "levels": levels,
            "form": form,
            "from_action": from_action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/inventory/stocklevel/adjust.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "product", "location", "kind", "signed_quantity", "on_hand_after", "reference", "actor")
    list_filter = ("kind", "location")
    list_select_related = ("product", "location", "actor")
    search_fields = ("=product__sku", "reference", "note")
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description=_("quantity"), ordering="quantity")
    def signed_quantity(self, obj):
        return f"{obj.quantity:+d}"


class SupplierProductInline(admin.TabularInline):
    model = SupplierProduct
    extra = 0
    raw_id_fields = ("product",)
    fields = ("product", "supplier_sku", "lead_time_days", "moq", "pack_size", "unit_cost", "is_primary")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "email", "min_order_value", "active")
    list_filter = ("active",)
    search_fields = ("code", "name", "email")
    readonly_fields = ("lead_times_kept",)
    inlines = (SupplierProductInline,)

    @admin.display(description=_("lead times kept"))
    def lead_times_kept(self, obj: Supplier) -> str:
        """What the supplier's deliveries showed, as on the lead-time page (the suggestions plan with it)."""
        if obj.pk is None:
            return "—"
        report = supplier_lead_time_report(today=timezone.localdate(), supplier_ids=[obj.pk])
        if obj.pk not in report.index:
            return gettext("No deliveries in the last %(days)s days.") % {"days": settings.PO_LEAD_TIME_HISTORY_DAYS}
        r = report.loc[obj.pk]
        text = ngettext(
            "%(n)s delivery: promised %(promised).1f d, kept %(kept).1f d, %(late).1f d late on average "
            "(deviation %(sd).1f d), %(on_time).0f%% on time.",
            "%(n)s deliveries: promised %(promised).1f d, kept %(kept).1f d, %(late).1f d late on average "
            "(deviation %(sd).1f d), %(on_time).0f%% on time.",
            int(r["deliveries"]),
        ) % {
            "n": int(r["deliveries"]), "promised": r["promised_days"], "kept": r["actual_days"],
            "late": r["late_days"], "sd": r["late_std_days"], "on_time": 100 * r["on_time_share"],
        }  # fmt: skip
        planned = (
            gettext("Suggestions plan with the lead time kept.")
            if r["measured"]
            else gettext("Suggestions plan with the terms until %(m)s deliveries.")
            % {"m": settings.PO_LEAD_TIME_MIN_DELIVERIES}
        )
        return f"{text} {planned}"


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    list_display = (
        "supplier",
        "product",
        "supplier_sku",
        "lead_time_days",
        "moq",
        "pack_size",
        "unit_cost",
        "is_primary",
    )
    list_filter = ("is_primary", "supplier")
    list_select_related = ("supplier", "product")
    search_fields = ("=product__sku", "supplier_sku", "supplier__name")
    autocomplete_fields = ("supplier",)
    raw_id_fields = ("product",)


@admin.register(SupplierPartner)
class SupplierPartnerAdmin(admin.ModelAdmin):
    list_display = ("user", "supplier")
    list_select_related = ("user", "supplier")
    search_fields = ("user__username", "supplier__name")
    autocomplete_fields = ("user", "supplier")


class AwaitingDecisionFilter(admin.SimpleListFilter):
    """Orders a buyer still has to decide on, or those already decided."""

    title = _("decision")
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [("open", _("Waiting for a decision")), ("decided", _("Decided"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_PO_STATUSES)
        if self.value() == "decided":
            return queryset.exclude(status__in=OPEN_PO_STATUSES)
        return queryset


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    """Purchase orders change only through the purchasing services; the admin shows them and runs the same
    transitions as the pages and the API."""

    list_display = ("number", "supplier", "location", "status", "total_value", "expected_delivery", "is_auto_approved")
    list_filter = (AwaitingDecisionFilter, "status", "is_auto_approved", "location", "supplier")
    list_select_related = ("supplier", "location")
    search_fields = ("number", "supplier__name", "supplier__code")
    date_hierarchy = "created_at"
    actions = ("approve_selected", "send_selected")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # One order is never changed from its page: Django then titles it "View purchase order", shows no save
        # buttons and refuses a POST. The model-wide permission (obj None) still grants the admin actions.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def get_readonly_fields(self, request, obj=None):
        return ["lines", *(f.name for f in self.model._meta.fields)]

    def changelist_view(self, request, extra_context=None):
        # Django titles the list "Select purchase order to change" because the actions need the model-wide change
        # permission; no order is changed from its page, so the list says what a click does: view it.
        title = _("Select %s to view") % self.model._meta.verbose_name
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description=_("lines"))
    def lines(self, po):
        """How many lines, with links to them: an order can hold hundreds, too many to list on this page."""
        if po.pk is None:
            return "—"
        count = po.lines.count()
        lines_url = reverse("admin:inventory_purchaseorderline_changelist") + f"?purchase_order={po.pk}"
        return format_html(
            '{} · <a href="{}">{}</a> · <a href="{}">{}</a>',
            ngettext("%(n)d line", "%(n)d lines", count) % {"n": count},
            lines_url,
            _("list them here"),
            reverse("inventory:po-detail", args=[po.pk]),
            _("open the buyer's page"),
        )

    @admin.action(description=_("Approve the selected purchase orders"), permissions=["change"])
    def approve_selected(self, request, queryset):
        result = purchase_order_approve_bulk(purchase_orders=list(queryset), actor=request.user)
        if result.approved or result.awaiting_second:
            self.message_user(
                request,
                _("%(approved)d approved, %(second)d waiting for a second approver.")
                % {"approved": len(result.approved), "second": len(result.awaiting_second)},
                messages.SUCCESS,
            )
        for po, message in result.failed:
            self.message_user(request, f"{po.number}: {message}", messages.ERROR)

    @admin.action(description=_("Send the selected approved orders to their suppliers"), permissions=["change"])
    def send_selected(self, request, queryset):
        for po in queryset.order_by("pk"):
            try:
                purchase_order_send(purchase_order=po, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{po.number}: {exc.message}", messages.ERROR)


class OverrideFilter(admin.SimpleListFilter):
    """Lines whose ordered quantity differs from the suggestion: raised, cut, or left as suggested."""

    title = _("override")
    parameter_name = "override"

    def lookups(self, request, model_admin):
        return [("raised", _("Raised")), ("cut", _("Cut")), ("none", _("As suggested"))]

    def queryset(self, request, queryset):
        if self.value() == "raised":
            return queryset.filter(quantity__gt=F("suggested_quantity"))
        if self.value() == "cut":
            return queryset.filter(quantity__lt=F("suggested_quantity"))
        if self.value() == "none":
            return queryset.filter(quantity=F("suggested_quantity"))
        return queryset


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Suggested against ordered quantities, line by line: where buyers overrode the policy, and why."""

    list_display = (
        "purchase_order", "product", "suggested_quantity", "quantity", "override_share", "cost", "override_reason",
        "order_status",
    )  # fmt: skip
    list_filter = (OverrideFilter, "purchase_order__status", "purchase_order__supplier", "purchase_order__location")
    list_select_related = ("purchase_order", "product")
    search_fields = ("product__sku", "purchase_order__number", "override_reason")
    show_full_result_count = False

    @admin.display(description=_("change"))
    def override_share(self, line):
        if not line.suggested_quantity:
            return "—"
        return f"{(line.quantity - line.suggested_quantity) / line.suggested_quantity:+.0%}"

    @admin.display(description=_("unit cost"), ordering="unit_cost")
    def cost(self, line):
        return f"{line.unit_cost:,.2f}"

    @admin.display(description=_("status"), ordering="purchase_order__status")
    def order_status(self, line):
        return line.purchase_order.get_status_display()


@admin.register(PolicyCalibration)
class PolicyCalibrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each forecast run's calibration replay chose per location; written by suggestion batches only."""

    list_display = ("run", "location", "status", "series", "periods", "base_target", "planned_at", "uncalibrated_fill")
    list_filter = ("status", "location")
    list_select_related = ("run", "location")
    readonly_fields = [f.name for f in PolicyCalibration._meta.fields]

    @admin.display(description=_("planned at"))
    def planned_at(self, obj: PolicyCalibration):
        return "—" if obj.base_planning_fill is None else obj.base_planning_fill
