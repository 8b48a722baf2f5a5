"""Choices shared across apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Role(models.TextChoices):
    """The groups that carry permissions; a superuser holds every role."""

    BUYER = "Buyer", _("Buyer")
    MARKETER = "Marketer", _("Marketer")
    STAFF = "Staff", _("Staff")
    PARTNER = "Partner", _("Partner")
