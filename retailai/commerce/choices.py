"""Choices of the commerce app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    WEB = "web", _("Web shop")
    STORE = "store", _("Store")
    MARKETPLACE = "marketplace", _("Marketplace partner")


class OrderKind(models.TextChoices):
    SALE = "sale", _("Sale")
    CREDIT = "credit", _("Credit note (cancellation or return)")
    ADJUSTMENT = "adjustment", _("Accounting adjustment")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class LineKind(models.TextChoices):
    """What a line means for demand; quantities are always positive."""

    SALE = "sale", _("Sale")
    CANCELLATION = "cancellation", _("Cancellation")
    RETURN = "return", _("Return")
    ADJUSTMENT = "adjustment", _("Adjustment (not customer demand)")
