"""Admin of the forecasting app: runs, forecasts and backtests are written by the pipeline, read here."""

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from retailai.core.admin import JobRunAdmin, ReadOnlyAdminMixin

from .models import Forecast, ForecastRun, SeriesBacktest


def _chart_link(product, freq: str):
    """A link to the buyer page with the product's demand, forecast and backtest chart."""
    url = reverse("forecasting:product", args=[product.sku])
    return format_html('<a href="{}?freq={}">{}</a>', url, freq, _("chart"))


@admin.register(ForecastRun)
class ForecastRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "freq", "status", "progress", "series_label", "history_end", "is_active", "activated",
                    "accuracy_link")  # fmt: skip
    list_filter = ("freq", "is_active", "job__status")
    list_select_related = ("job",)
    readonly_fields = ("job", "freq", "horizon", "quantile_levels", "history_end", "series_total", "series_done",
                       "is_active", "activated", "accuracy_link")  # fmt: skip
    fields = readonly_fields

    @admin.display(description=_("status"), ordering="job__status")
    def status(self, obj):
        return JobRunAdmin.status_badge(self, obj.job)

    @admin.display(description=_("progress"), ordering="job__progress")
    def progress(self, obj):
        return JobRunAdmin.progress_bar(self, obj.job)

    @admin.display(description=_("quantile levels"))
    def quantile_levels(self, obj):
        """The forecast's quantiles as the percentiles buyers see: P10, P50, P90."""
        return ", ".join(f"P{round(float(q) * 100):g}" for q in obj.quantiles or []) or "—"

    @admin.display(description=_("activated at"), ordering="activated_at")
    def activated(self, obj):
        if obj.activated_at is None:
            return "—"
        return format_html(
            '<span style="white-space: nowrap">{}</span>', date_format(localtime(obj.activated_at), "j M Y H:i")
        )

    @admin.display(description=_("series"))
    def series_label(self, obj):
        return f"{obj.series_done}/{obj.series_total}"

    @admin.display(description=_("accuracy"))
    def accuracy_link(self, obj):
        url = reverse("forecasting:run-dashboard")
        return format_html('<a href="{}?run={}">{}</a>', url, obj.pk, _("accuracy dashboard"))


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "location_code", "date", "q10", "q50", "q90", "model", "is_cold_start", "run", "chart")
    list_filter = ("run__freq", "run__is_active", "model", "is_cold_start")
    list_select_related = ("product", "run")
    search_fields = ("=product__sku",)
    date_hierarchy = "date"
    show_full_result_count = False

    @admin.display(description=_("chart"))
    def chart(self, obj):
        return _chart_link(obj.product, obj.run.freq)


@admin.register(SeriesBacktest)
class SeriesBacktestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "model", "chosen", "wape", "mase", "bias", "coverage", "run", "chart")
    list_filter = ("chosen", "model", "run__is_active")
    list_select_related = ("product", "run")
    search_fields = ("=product__sku",)
    show_full_result_count = False

    @admin.display(description=_("chart"))
    def chart(self, obj):
        return _chart_link(obj.product, obj.run.freq)
