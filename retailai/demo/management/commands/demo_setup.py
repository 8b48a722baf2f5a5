"""Prepare the demo: migrate, import the bundled sample, generate master data, create users, run pipelines."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from inventory.models import Location, Supplier, SupplierPartner
from retailai.commerce.models import Channel, ChannelPartner
from retailai.core.choices import Role
from retailai.core.services import job_run_create

from ...generate import demo_master_data

# The demo forecasts every SKU in process: the global models only, so that it takes minutes, not an hour.
DEMO_FORECAST_MODELS = ("seasonal_naive", "moving_average", "tsb", "gbm")
SAMPLE = Path(settings.BASE_DIR) / "demo" / "data" / "online_retail_2011-09_2011-12.csv.gz"

DEMO_USERS = [
    ("buyer", Role.BUYER, False),
    ("marketer", Role.MARKETER, False),
    ("staff", Role.STAFF, True),
    ("supplier", Role.PARTNER, False),
    ("channel", Role.PARTNER, False),
]


class Command(BaseCommand):
    help = "Set up the demo database with the bundled Online Retail sample and one user per role."

    def add_arguments(self, parser):
        parser.add_argument("--sample", default=str(SAMPLE), help="Online Retail CSV(.gz) to import.")
        parser.add_argument("--skip-import", action="store_true", help="Only (re)create users and master data.")
        parser.add_argument("--address", default="127.0.0.1:8000", help="Where the server will listen (host:port).")

    def handle(self, *args, sample: str, skip_import: bool, address: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        web, _ = Channel.objects.get_or_create(code="web", defaults={"name": "Web shop", "kind": "web"})
        dc, _ = Location.objects.get_or_create(code="london-dc", defaults={"name": "London distribution centre"})
        dc.channels.add(web)

        work = Path(settings.BASE_DIR) / "var" / "demo"
        work.mkdir(parents=True, exist_ok=True)
        if not skip_import:
            self.stdout.write("Importing the order history sample…")
            call_command("import_orders", sample, format="online-retail", channel="web", stdout=self.stdout)
            frames = demo_master_data(pd.read_csv(sample, dtype=str, keep_default_na=False))
            for name, frame in frames.items():
                frame.to_csv(work / f"{name}.csv", index=False)
            call_command("import_products", str(work / "products.csv"), stdout=self.stdout)
            call_command("import_suppliers", str(work / "suppliers.csv"), stdout=self.stdout)
            call_command("import_stock", str(work / "stock.csv"), stdout=self.stdout)

        credentials = self._users(web)
        self._pipelines()

        self.stdout.write(self.style.SUCCESS(f"\nDemo ready on http://{address} — sign in as:"))
        for username, role, password in credentials:
            self.stdout.write(f"  {username:<10} {password:<16} {role}")
        self.stdout.write("Passwords are new on every run of `make demo`.")

    def _users(self, web: Channel) -> list[tuple[str, str, str]]:
        User = get_user_model()
        out = []
        for username, role, is_staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = is_staff
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            out.append((username, role, password))
        admin, _ = User.objects.get_or_create(username="admin")
        password = secrets.token_urlsafe(9)
        admin.set_password(password)
        admin.is_staff = admin.is_superuser = True
        admin.save()
        out.append(("admin", "superuser", password))

        supplier = Supplier.objects.order_by("code").first()
        if supplier is not None:
            SupplierPartner.objects.update_or_create(
                user=User.objects.get(username="supplier"), defaults={"supplier": supplier}
            )
        ChannelPartner.objects.update_or_create(user=User.objects.get(username="channel"), defaults={"channel": web})
        return out

    def _pipelines(self) -> None:
        """Run what the nightly schedule runs: order totals, the forecast, then the suggested purchase orders."""
        from forecasting.services import forecast_run_create
        from forecasting.tasks import forecast_run_task
        from inventory.tasks import replenishment_suggest_task
        from recommendations.services import recommendation_run_create
        from recommendations.tasks import recommendation_run_task
        from retailai.commerce.tasks import commerce_totals_task

        run = job_run_create(kind="commerce_totals", parameters={"source": "demo"})
        commerce_totals_task.delay(run.pk)
        self.stdout.write("Forecasting every product (the global models; a few minutes)…")
        forecast = forecast_run_create(freq="D", models=list(DEMO_FORECAST_MODELS))
        forecast_run_task.delay(forecast.pk)
        forecast.refresh_from_db()
        if forecast.history_end is not None:
            # The sample ends in December 2011: plan as of the day after its last order, not today.
            as_of = (forecast.history_end + timedelta(days=1)).isoformat()
            for location in Location.objects.filter(active=True):
                replenishment_suggest_task.delay(location.pk, as_of)
        self.stdout.write("Training the recommendations…")
        recommendation_run_task.delay(recommendation_run_create().pk)
