"""Fixtures of the inventory tests: the CSV and command helpers of the commerce tests; for purchase orders a
hand-made forecast and a small assortment."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests import factories
from tests.commerce.conftest import csv_file, run_command  # noqa: F401

AS_OF = date(2024, 3, 4)


def active_forecast(product_paths: dict, *, start: date = AS_OF, horizon: int = 28, freq: str = "D"):
    """An active forecast run whose rows are given per product as (p10, median, p90) per period or a constant."""
    from forecasting.models import Forecast, ForecastRun
    from retailai.core.models import JobRun

    ForecastRun.objects.filter(freq=freq, is_active=True).update(is_active=False)
    job = JobRun.objects.create(kind="forecast", status="succeeded", progress=100)
    run = ForecastRun.objects.create(
        job=job, freq=freq, horizon=horizon, quantiles=[0.1, 0.5, 0.9], history_end=start - timedelta(days=1),
        is_active=True,
    )  # fmt: skip
    step = 7 if freq == "W" else 1
    rows = []
    for product, path in product_paths.items():
        for t in range(horizon):
            lo, mid, hi = path if isinstance(path, tuple) else (path, path, path)
            rows.append(
                Forecast(
                    run=run,
                    product=product,
                    date=start + timedelta(days=t * step),
                    q10=lo,
                    q50=mid,
                    q90=hi,
                    quantiles={"0.1": lo, "0.5": mid, "0.9": hi},
                    model="hand-made",
                )  # fmt: skip
            )
    Forecast.objects.bulk_create(rows)
    return run


@pytest.fixture
def assortment(personas):
    """A warehouse; TEA (10 a day, exact) and MUG (4 a day, exact) from the supplier partner's supplier,
    JAM (6 a day) from another supplier, SALT (1 a day, plenty in stock): each with terms and stock."""
    warehouse = factories.LocationFactory(code="wh", name="Warehouse")
    own = personas["supplier_partner"].supplier_partner.supplier
    other = factories.SupplierFactory(code="jams", name="Jams Ltd")
    tea = factories.ProductFactory(sku="TEA", name="Green tea")
    mug = factories.ProductFactory(sku="MUG", name="Mug")
    jam = factories.ProductFactory(sku="JAM", name="Jam")
    salt = factories.ProductFactory(sku="SALT", name="Salt")
    terms = {
        "TEA": factories.SupplierProductFactory(supplier=own, product=tea, lead_time_days=7, unit_cost=Decimal("1.20")),
        "MUG": factories.SupplierProductFactory(
            supplier=own, product=mug, lead_time_days=7, unit_cost=Decimal("2.50"), pack_size=12, moq=24
        ),
        "JAM": factories.SupplierProductFactory(
            supplier=other, product=jam, lead_time_days=3, unit_cost=Decimal("2.00")
        ),
        "SALT": factories.SupplierProductFactory(supplier=other, product=salt, lead_time_days=3),
    }
    levels = {
        "TEA": factories.StockLevelFactory(product=tea, location=warehouse, on_hand=30, on_order=20, reserved=5),
        "MUG": factories.StockLevelFactory(product=mug, location=warehouse, on_hand=10),
        "JAM": factories.StockLevelFactory(product=jam, location=warehouse, on_hand=0),
        "SALT": factories.StockLevelFactory(product=salt, location=warehouse, on_hand=500),
    }
    run = active_forecast({tea: 10.0, mug: 4.0, jam: 6.0, salt: 1.0})
    return {
        "location": warehouse, "own": own, "other": other, "terms": terms, "levels": levels, "run": run,
        "products": {"TEA": tea, "MUG": mug, "JAM": jam, "SALT": salt},
    }  # fmt: skip


@pytest.fixture
def suggest(assortment):
    """suggest(actor=None) → the result of a suggestion batch at the warehouse for AS_OF."""
    from inventory.purchasing import replenishment_suggest

    def run(actor=None, as_of=AS_OF):
        return replenishment_suggest(location=assortment["location"], as_of=as_of, actor=actor)

    return run
