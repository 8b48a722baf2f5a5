"""Forecast runs, their per-series forecasts and backtest scores."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retailai.commerce.models import Product
from retailai.core.models import JobRun


class Frequency(models.TextChoices):
    DAILY = "D", _("Daily")
    WEEKLY = "W", _("Weekly")


class ForecastRun(models.Model):
    """One retrain-and-forecast run; its forecasts are what buyers see only once it is active."""

    job = models.OneToOneField(JobRun, verbose_name=_("job run"), related_name="forecast_run", on_delete=models.CASCADE)
    freq = models.CharField(_("frequency"), max_length=1, choices=Frequency.choices, default=Frequency.DAILY)
    horizon = models.PositiveIntegerField(_("horizon (periods)"))
    quantiles = models.JSONField(_("quantile levels"), default=list)
    history_end = models.DateField(_("history up to"), null=True, blank=True)
    series_total = models.PositiveIntegerField(_("series"), default=0)
    series_done = models.PositiveIntegerField(_("series done"), default=0)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("forecast run")
        verbose_name_plural = _("forecast runs")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["freq"], condition=Q(is_active=True), name="forecastrun_one_active_per_freq"
            ),
            models.CheckConstraint(condition=Q(horizon__gte=1), name="forecastrun_horizon_ge_1"),
        ]

    def __str__(self) -> str:
        return f"forecast run #{self.pk} ({self.get_freq_display()}, {self.job.status})"


class Forecast(models.Model):
    """The forecast of one series for one period: quantiles of demand and the model that made them."""

    run = models.ForeignKey(ForecastRun, verbose_name=_("run"), related_name="forecasts", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="forecasts", on_delete=models.CASCADE)
    # A code, not a foreign key: locations belong to inventory, which reads forecasting (never the reverse).
    location_code = models.CharField(_("location"), max_length=50, blank=True, default="")
    date = models.DateField(_("period start"))
    q10 = models.FloatField(_("P10"))
    q50 = models.FloatField(_("median"))
    q90 = models.FloatField(_("P90"))
    quantiles = models.JSONField(_("all quantiles"), default=dict)
    model = models.CharField(_("model"), max_length=40)
    is_cold_start = models.BooleanField(_("from similar products"), default=False)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["product_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["run", "product", "location_code", "date"], name="forecast_unique_period"),
            models.CheckConstraint(
                condition=Q(q10__gte=0) & Q(q10__lte=models.F("q50")) & Q(q50__lte=models.F("q90")),
                name="forecast_quantiles_ordered",
            ),
        ]
        indexes = [models.Index(fields=["product", "run", "date"])]

    def __str__(self) -> str:
        return f"{self.product_id} {self.date}: {self.q50:.1f}"


class SeriesBacktest(models.Model):
    """Backtest scores of one candidate model on one series, and whether it was chosen."""

    run = models.ForeignKey(ForecastRun, verbose_name=_("run"), related_name="backtests", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="backtests", on_delete=models.CASCADE)
    location_code = models.CharField(_("location"), max_length=50, blank=True, default="")
    model = models.CharField(_("model"), max_length=40)
    chosen = models.BooleanField(_("chosen"), default=False)
    wape = models.FloatField(_("WAPE"), null=True)
    mase = models.FloatField(_("MASE"), null=True)
    bias = models.FloatField(_("bias"), null=True)
    pinball = models.FloatField(_("pinball loss"), null=True)
    coverage = models.FloatField(_("10–90 coverage"), null=True)
    # Units over the backtest windows: the demand, and how far the median missed it in all (WAPE = error / demand).
    actual_total = models.FloatField(_("backtest demand"), null=True)
    abs_error_total = models.FloatField(_("backtest absolute error"), null=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    # Only on the chosen row: {"dates": [...], "actual": [...], "q10": [...], "q50": [...], "q90": [...]}.
    last_origin = models.JSONField(
        _("last backtest origin"),
        default=dict,
        blank=True,
        help_text=_("What the chosen model forecast, from the last backtest origin, for periods it had not seen."),
    )
    # Only on the chosen row: one such window per backtest origin, oldest first (replenishment calibrates on them).
    origins = models.JSONField(
        _("backtest origins"),
        default=list,
        blank=True,
        help_text=_("What the chosen model forecast from every backtest origin, for periods it had not seen."),
    )

    class Meta:
        verbose_name = _("series backtest")
        verbose_name_plural = _("series backtests")
        ordering = ["product_id", "model"]
        constraints = [
            models.UniqueConstraint(fields=["run", "product", "location_code", "model"], name="backtest_unique"),
        ]
        indexes = [models.Index(fields=["run", "chosen"])]

    def __str__(self) -> str:
        return f"{self.product_id} {self.model} WAPE={self.wape}"
