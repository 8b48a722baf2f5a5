"""Admin of the recommendations app: runs and lists are written by the pipeline, events by channels; read here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from retailai.core.admin import JobRunAdmin, ReadOnlyAdminMixin

from .models import BehaviourEvent, CustomerRecommendation, RecommendationRun, SimilarItem


@admin.register(RecommendationRun)
class RecommendationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "progress", "customers_total", "trained_until", "is_active", "activated_at")
    list_filter = ("is_active", "job__status")
    list_select_related = ("job",)
    readonly_fields = ("job", "top_n", "trained_until", "ranker", "customers_total", "products_total", "metrics",
                       "is_active", "activated_at")  # fmt: skip
    exclude = ("popular",)

    @admin.display(description=_("status"), ordering="job__status")
    def status(self, obj):
        return JobRunAdmin.status_badge(self, obj.job)

    @admin.display(description=_("progress"), ordering="job__progress")
    def progress(self, obj):
        return JobRunAdmin.progress_bar(self, obj.job)


@admin.register(CustomerRecommendation)
class CustomerRecommendationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("customer", "rank", "product", "score", "reason", "run")
    list_filter = ("run__is_active",)
    list_select_related = ("customer", "product", "run")
    search_fields = ("=customer__external_id", "=product__sku")
    show_full_result_count = False


@admin.register(SimilarItem)
class SimilarItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "kind", "rank", "similar", "score", "reason", "run")
    list_filter = ("kind", "run__is_active")
    list_select_related = ("product", "similar", "run")
    search_fields = ("=product__sku",)
    show_full_result_count = False


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "channel", "customer_external_id", "kind", "product")
    list_filter = ("kind", "channel")
    list_select_related = ("channel", "product")
    raw_id_fields = ("customer", "product")
    search_fields = ("=customer_external_id", "=product__sku")
    date_hierarchy = "at"
    show_full_result_count = False
