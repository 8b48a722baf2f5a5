"""Recommendation runs, their stored lists per customer and per product, and behaviour events from channels."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from retailai.commerce.models import Channel, Customer, Product
from retailai.core.models import JobRun


class RecommendationRun(models.Model):
    """One retrain-and-score run; its lists are served only once it is active."""

    job = models.OneToOneField(
        JobRun, verbose_name=_("job run"), related_name="recommendation_run", on_delete=models.CASCADE
    )
    top_n = models.PositiveIntegerField(_("items per customer"), default=20)
    trained_until = models.DateTimeField(_("trained until"), null=True, blank=True)
    ranker = models.CharField(_("ranker"), max_length=40, blank=True)
    customers_total = models.PositiveIntegerField(_("customers"), default=0)
    products_total = models.PositiveIntegerField(_("products"), default=0)
    # Most popular products of the run, best first, for customers with no stored list: [[product id, score]].
    popular = models.JSONField(_("popular products"), default=list, blank=True)
    metrics = models.JSONField(_("offline metrics"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recommendation run")
        verbose_name_plural = _("recommendation runs")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="recommendationrun_one_active"
            ),
            models.CheckConstraint(condition=Q(top_n__gte=1), name="recommendationrun_top_n_ge_1"),
        ]

    def __str__(self) -> str:
        return f"recommendation run #{self.pk} ({self.job.status})"


class CustomerRecommendation(models.Model):
    """One ranked product for one customer in one run, with the reason shown next to it."""

    run = models.ForeignKey(
        RecommendationRun, verbose_name=_("run"), related_name="customer_recommendations", on_delete=models.CASCADE
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), related_name="recommendations", on_delete=models.CASCADE
    )
    rank = models.PositiveIntegerField(_("rank"))
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="+", on_delete=models.CASCADE)
    score = models.FloatField(_("score"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("customer recommendation")
        verbose_name_plural = _("customer recommendations")
        ordering = ["run_id", "customer_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer", "rank"], name="customerrec_unique_rank"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="customerrec_rank_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} #{self.rank}: {self.product_id}"


class SimilarKind(models.TextChoices):
    SIMILAR = "similar", _("Similar (bought by the same customers)")
    TOGETHER = "together", _("Bought together (same basket)")


class SimilarItem(models.Model):
    """One ranked neighbour of a product in one run: a similar item or one bought in the same basket."""

    run = models.ForeignKey(
        RecommendationRun, verbose_name=_("run"), related_name="similar_items", on_delete=models.CASCADE
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), related_name="+", on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=16, choices=SimilarKind.choices, default=SimilarKind.SIMILAR)
    rank = models.PositiveIntegerField(_("rank"))
    similar = models.ForeignKey(Product, verbose_name=_("similar product"), related_name="+", on_delete=models.CASCADE)
    score = models.FloatField(_("score"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("similar item")
        verbose_name_plural = _("similar items")
        ordering = ["run_id", "product_id", "kind", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "product", "kind", "rank"], name="similaritem_unique_rank"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="similaritem_rank_ge_1"),
            models.CheckConstraint(condition=~Q(product=models.F("similar")), name="similaritem_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.kind} #{self.rank}: {self.similar_id}"


class EventKind(models.TextChoices):
    VIEW = "view", _("Product view")
    CART = "cart", _("Added to cart")


class BehaviourEvent(models.Model):
    """A product view or add-to-cart posted by a sales channel; weaker evidence than a purchase."""

    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), related_name="behaviour_events", on_delete=models.CASCADE
    )
    # The channel's id for the shopper; linked to a known customer when one has that external id.
    customer_external_id = models.CharField(_("customer external id"), max_length=64)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        related_name="behaviour_events",
        on_delete=models.SET_NULL,
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), related_name="behaviour_events", on_delete=models.CASCADE
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EventKind.choices)
    at = models.DateTimeField(_("at"))
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("behaviour event")
        verbose_name_plural = _("behaviour events")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="behaviourevent_kind_valid"),
            models.CheckConstraint(condition=~Q(customer_external_id=""), name="behaviourevent_customer_not_empty"),
        ]
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["channel", "customer_external_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_external_id} {self.kind} {self.product_id}"
