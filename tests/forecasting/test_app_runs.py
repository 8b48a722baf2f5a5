"""Forecast runs in the app: chunks stored, activation only when complete, pages and API scoped by role."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import services
from forecasting.models import Forecast, ForecastRun, SeriesBacktest
from forecasting.selectors import active_run
from retailai.core.choices import JobStatus
from retailai.core.errors import Conflict
from retailai.core.models import JobRun
from tests import factories

LONDON = ZoneInfo("Europe/London")
WEEKLY = [2, 3, 3, 4, 9, 14, 4]  # Monday..Sunday: a strong Saturday peak


def _history(products, days: int = 140):
    """Orders with a weekly pattern per product, ending on 2011-12-04 (a Sunday)."""
    channel = factories.ChannelFactory(code="web")
    start = datetime(2011, 12, 4, 12, 0, tzinfo=LONDON) - timedelta(days=days - 1)
    for i, product in enumerate(products):
        scale = i + 1
        for d in range(days):
            at = start + timedelta(days=d)
            qty = WEEKLY[at.weekday()] * scale
            order = factories.OrderFactory(channel=channel, customer=None, placed_at=at)
            factories.OrderLineFactory(order=order, line_number=1, product=product, quantity=qty, placed_at=at)


def _wait(job_id: int, timeout: float = 180) -> JobRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = JobRun.objects.get(pk=job_id)
        if job.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}:
            return job
        time.sleep(0.3)
    raise AssertionError("forecast run did not finish")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_forecasts_every_series_and_becomes_active(celery_worker_process, settings):
    from forecasting.tasks import forecast_run_task

    settings.FORECAST_CHUNK_SIZE = 2  # three products -> two chunks gathered by a chord
    products = [factories.ProductFactory(sku=f"WEEKLY{i}") for i in range(3)]
    _history(products)
    run = services.forecast_run_create(freq="D", horizon=14)

    forecast_run_task.delay(run.pk)

    job = _wait(run.job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    run.refresh_from_db()
    assert run.is_active and run.series_total == 3 and run.series_done == 3
    assert str(run.history_end) == "2011-12-04"
    assert Forecast.objects.filter(run=run).count() == 3 * 14
    assert SeriesBacktest.objects.filter(run=run, chosen=True).count() == 3
    # The run's model mix counts each series' chosen model once, and only models that were backtested.
    chosen = list(SeriesBacktest.objects.filter(run=run, chosen=True).values_list("model", flat=True))
    assert job.metrics["model_mix"] == {m: chosen.count(m) for m in set(chosen)}
    assert sum(job.metrics["model_mix"].values()) == 3
    assert set(chosen) <= {"seasonal_naive", "moving_average", "ets", "sarimax", "tsb", "gbm", "ensemble"}
    rows = list(Forecast.objects.filter(run=run, product=products[2]).order_by("date"))
    assert str(rows[0].date) == "2011-12-05"
    assert all(0 <= r.q10 <= r.q50 <= r.q90 for r in rows)
    # The weekly pattern carries into the forecast: Saturday is the peak of the first forecast week.
    first_week = rows[:7]
    assert max(first_week, key=lambda r: r.q50).date.weekday() == 5


@pytest.mark.django_db
def test_chunks_are_cross_sections_of_the_catalogue(settings):
    # Products are numbered as they first sell: runs of consecutive ones would put the newest together, with no
    # established products in their chunk to borrow a forecast from.
    settings.FORECAST_CHUNK_SIZE = 2
    products = [factories.ProductFactory(sku=f"C{i}") for i in range(5)]
    _history(products, days=3)
    run = services.forecast_run_create(freq="D", horizon=7)

    plan = services.forecast_run_plan(run_id=run.pk)

    ids = [p.pk for p in products]
    assert plan.chunks == [[ids[0], ids[3]], [ids[1], ids[4]], [ids[2]]]


@pytest.mark.django_db
def test_a_partial_run_never_replaces_the_active_one():
    products = [factories.ProductFactory(sku=f"P{i}") for i in range(2)]
    _history(products, days=70)
    first = services.forecast_run_create(freq="D", horizon=7)
    plan = services.forecast_run_plan(run_id=first.pk)
    for chunk in plan.chunks:
        services.forecast_chunk_execute(run_id=first.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=first.pk)

    second = services.forecast_run_create(freq="D", horizon=7)
    services.forecast_run_plan(run_id=second.pk)
    services.forecast_chunk_execute(run_id=second.pk, product_ids=[products[0].pk])  # one of two series
    with pytest.raises(Conflict, match="partial: 1 of 2 series"):
        services.forecast_run_activate(run_id=second.pk)
    services.forecast_run_fail(run_id=second.pk, error="worker lost")

    assert active_run("D").pk == first.pk
    second.refresh_from_db()
    assert second.is_active is False
    assert second.job.status == JobStatus.FAILED
    # A failed run cannot be completed later either.
    with pytest.raises(Conflict, match="is failed"):
        services.forecast_chunk_execute(run_id=second.pk, product_ids=[products[1].pk])


@pytest.mark.django_db
def test_a_failing_chunk_task_fails_the_run_and_keeps_the_previous_forecasts():
    from forecasting.tasks import forecast_chunk_task

    products = [factories.ProductFactory(sku="ONLY")]
    _history(products, days=60)
    first = services.forecast_run_create(freq="D", horizon=7)
    plan = services.forecast_run_plan(run_id=first.pk)
    services.forecast_chunk_execute(run_id=first.pk, product_ids=plan.chunks[0])
    services.forecast_run_activate(run_id=first.pk)
    broken = services.forecast_run_create(freq="D", horizon=7)  # queued, never planned

    with pytest.raises(Conflict):
        forecast_chunk_task.apply(args=[broken.pk, [products[0].pk]], throw=True)

    broken.refresh_from_db()
    assert broken.job.status == JobStatus.FAILED
    assert "is queued, not running" in broken.job.error
    assert active_run("D").pk == first.pk
    assert Forecast.objects.filter(run=first).count() == 7


@pytest.mark.django_db
def test_pages_render_with_and_without_history_and_check_roles(client, personas):
    with_history = factories.ProductFactory(sku="HIST")
    factories.ProductFactory(sku="NEW")
    _history([with_history], days=60)
    run = services.forecast_run_create(freq="D", horizon=7)
    plan = services.forecast_run_plan(run_id=run.pk)
    for chunk in plan.chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    client.force_login(personas["buyer"])
    page = client.get("/forecasts/product/HIST/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b"Forecast (median)" in page.content
    empty = client.get("/forecasts/product/NEW/")
    assert empty.status_code == 200
    assert b"no sales history and no forecast yet" in empty.content
    dashboard = client.get("/forecasts/")
    assert dashboard.status_code == 200 and b"Median WAPE by category" in dashboard.content
    assert b"Run forecast now" not in dashboard.content  # buyers look; staff start runs
    chosen = SeriesBacktest.objects.get(run=run, chosen=True)
    by_category = dashboard.context["accuracy"].by_category
    assert by_category == [
        {"category": with_history.category.name, "series": 1, "wape": pytest.approx(chosen.wape),
         "bias": pytest.approx(chosen.bias), "coverage": pytest.approx(chosen.coverage), "top_model": chosen.model}
    ]  # fmt: skip
    assert b'class="data by-category"' in dashboard.content

    for who in ("marketer", "channel_partner", "outsider"):
        client.force_login(personas[who])
        assert client.get("/forecasts/").status_code == 403
        assert client.get("/forecasts/product/HIST/").status_code == 403
    client.force_login(personas["buyer"])
    assert client.post("/forecasts/run-now/").status_code == 403
    assert ForecastRun.objects.count() == 1
    assert client.get("/forecasts/", {"run": run.pk + 99}).status_code == 404


@pytest.mark.django_db
def test_an_earlier_run_and_the_charts_are_reachable_from_the_admin(client, personas):
    product = factories.ProductFactory(sku="HIST")
    _history([product], days=60)
    runs = []
    for _ in range(2):
        run = services.forecast_run_create(freq="D", horizon=7)
        for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
            services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
        runs.append(services.forecast_run_activate(run_id=run.pk))

    client.force_login(personas["staff"])
    listing = client.get("/admin/forecasting/forecastrun/")
    assert listing.status_code == 200
    assert f'href="/forecasts/?run={runs[0].pk}"'.encode() in listing.content
    backtests = client.get("/admin/forecasting/seriesbacktest/")
    assert b'href="/forecasts/product/HIST/?freq=D"' in backtests.content

    earlier = client.get("/forecasts/", {"run": runs[0].pk})
    assert earlier.status_code == 200
    assert earlier.context["run"].pk == runs[0].pk
    assert b"which is not the run buyers see" in earlier.content
    assert earlier.context["accuracy"].series == 1
    assert b"which is not the run buyers see" not in client.get("/forecasts/").content


@pytest.mark.django_db
def test_the_chosen_backtest_keeps_its_last_origin_forecast_for_the_chart():
    product = factories.ProductFactory(sku="WEEKLY")
    _history([product], days=70)
    run = services.forecast_run_create(freq="D", horizon=7)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)

    chosen = SeriesBacktest.objects.get(run=run, chosen=True)
    others = SeriesBacktest.objects.filter(run=run, chosen=False)
    overlay = chosen.last_origin
    # The last origin forecasts the final horizon of the history (Monday 28 Nov to Sunday 4 Dec), unseen.
    assert overlay["dates"] == [f"2011-11-{d}" for d in range(28, 31)] + [f"2011-12-0{d}" for d in range(1, 5)]
    assert overlay["actual"] == [float(q) for q in WEEKLY]
    assert all(lo <= mid <= hi for lo, mid, hi in zip(overlay["q10"], overlay["q50"], overlay["q90"], strict=True))
    assert all(o.last_origin == {} for o in others)
    # Every origin's window is kept, oldest first and back to back, for the replenishment calibration.
    windows = chosen.origins
    assert len(windows) == 3 and windows[-1] == overlay
    assert [w["dates"][0] for w in windows] == ["2011-11-14", "2011-11-21", "2011-11-28"]
    assert all(o.origins == [] for o in others)


@pytest.mark.django_db
def test_forecast_api_scopes_supplier_partners_to_their_products(api_as, personas):
    mine, other = factories.ProductFactory(sku="MINE"), factories.ProductFactory(sku="OTHER")
    supplier = personas["supplier_partner"].supplier_partner.supplier
    factories.SupplierProductFactory(supplier=supplier, product=mine)
    _history([mine, other], days=60)
    run = services.forecast_run_create(freq="D", horizon=7)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    as_supplier = api_as(personas["supplier_partner"]).get("/api/forecasts/", {"page_size": 100})
    as_buyer = api_as(personas["buyer"]).get("/api/forecasts/", {"sku": "OTHER"})

    assert as_supplier.status_code == 200
    assert {row["sku"] for row in as_supplier.json()["results"]} == {"MINE"}
    assert as_supplier.json()["count"] == 7
    assert as_buyer.status_code == 200 and as_buyer.json()["count"] == 7
    assert api_as(personas["channel_partner"]).get("/api/forecasts/").status_code == 403
    # Filtering or fetching by id never reaches another supplier's product.
    supplier_api = api_as(personas["supplier_partner"])
    assert supplier_api.get("/api/forecasts/", {"sku": "OTHER"}).json()["count"] == 0
    other_id = Forecast.objects.filter(product=other).values_list("pk", flat=True).first()
    mine_id = Forecast.objects.filter(product=mine).values_list("pk", flat=True).first()
    assert supplier_api.get(f"/api/forecasts/{other_id}/").status_code == 404
    assert supplier_api.get(f"/api/forecasts/{mine_id}/").json()["sku"] == "MINE"
    # By product, location and date range: the first forecast week starts on Monday 5 December.
    window = {"sku": "MINE", "location": "", "date_from": "2011-12-06", "date_to": "2011-12-08"}
    dated = supplier_api.get("/api/forecasts/", window).json()
    assert [row["date"] for row in dated["results"]] == ["2011-12-06", "2011-12-07", "2011-12-08"]
    assert supplier_api.get("/api/forecasts/", {"location": "STORE-9"}).json()["count"] == 0
    assert api_as(personas["buyer"]).get("/api/forecasts/", {"date_to": "not-a-date"}).status_code == 400
    assert api_as(personas["outsider"]).get("/api/forecasts/").status_code == 403
    assert api_as(None).get("/api/forecasts/").status_code == 401


def _promoted_history(product, *, weeks: int = 24, every: int = 4, lift: float = 3.0, noisy: bool = False):
    """Weekly-patterned daily sales ending on Sunday 2011-12-04, with a 30%-off week every `every` weeks.

    Promoted weeks sell `lift` times as much at 70% of the price; each one is recorded as a Promotion.
    `noisy` draws each day's sales from a Poisson distribution around that pattern (seeded).
    """
    rng = np.random.default_rng(7)
    channel = factories.ChannelFactory(code="web")
    first_monday = datetime(2011, 12, 5, 12, 0, tzinfo=LONDON) - timedelta(weeks=weeks)
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        promoted = week % every == every - 1
        if promoted:
            factories.PromotionFactory(
                product=product, start_date=monday.date(), end_date=(monday + timedelta(days=6)).date(), is_feature=True
            )
        for d in range(7):
            at = monday + timedelta(days=d)
            mean = WEEKLY[d] * 3 * (lift if promoted else 1.0)
            qty = max(int(rng.poisson(mean)), 1) if noisy else round(mean)
            price = Decimal("7.00") if promoted else Decimal("10.00")
            order = factories.OrderFactory(channel=channel, customer=None, placed_at=at)
            factories.OrderLineFactory(
                order=order, line_number=1, product=product, quantity=qty, unit_price=price, placed_at=at
            )


@pytest.mark.django_db
def test_a_planned_promotion_raises_the_forecast_of_its_week():
    # Given a product whose history sells three times as much in its promoted weeks,
    product = factories.ProductFactory(sku="PROMO", list_price=Decimal("10.00"))
    _promoted_history(product)
    # and a promotion planned for the second forecast week (Monday 12 to Sunday 18 December).
    factories.PromotionFactory(product=product, start_date=date(2011, 12, 12), end_date=date(2011, 12, 18),
                               is_feature=True)  # fmt: skip

    # When the app forecasts it,
    run = services.forecast_run_create(freq="D", horizon=14)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    # then the promoted week is forecast well above the unpromoted one before it, as the history says.
    rows = list(Forecast.objects.filter(run=run, product=product).order_by("date"))
    plain, promoted = sum(r.q50 for r in rows[:7]), sum(r.q50 for r in rows[7:])
    regular_week = 3 * sum(WEEKLY)
    assert str(rows[7].date) == "2011-12-12"
    assert plain == pytest.approx(regular_week, rel=0.3)
    assert promoted > 2.0 * plain, (plain, promoted, rows[0].model)
    chosen = SeriesBacktest.objects.get(run=run, chosen=True)
    assert chosen.explanation["promo_feature_lift"] > 1.0  # the history's lift (3x = +200%) is named


@pytest.mark.django_db
def test_a_planned_promotion_raises_the_weekly_forecast_too():
    product = factories.ProductFactory(sku="PROMO-W", list_price=Decimal("10.00"))
    _promoted_history(product, weeks=36)
    # Wednesday to Tuesday: five of its seven days fall in the week of Monday 12 December, which is flagged.
    factories.PromotionFactory(product=product, start_date=date(2011, 12, 14), end_date=date(2011, 12, 20),
                               is_feature=True)  # fmt: skip

    # One weekly series is too few rows for the global model; SARIMAX takes the covariates as regressors.
    run = services.forecast_run_create(freq="W", horizon=4, models=["seasonal_naive", "moving_average", "sarimax"])
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)

    weeks = list(Forecast.objects.filter(run=run, product=product).order_by("date"))
    assert [str(w.date) for w in weeks] == ["2011-12-05", "2011-12-12", "2011-12-19", "2011-12-26"]
    regular = 3 * sum(WEEKLY)
    assert weeks[0].q50 == pytest.approx(regular, rel=0.3)
    assert weeks[1].q50 > 2.0 * weeks[0].q50, [(w.q50, w.model) for w in weeks]
    assert weeks[2].q50 < 1.5 * weeks[0].q50  # two promoted days do not make a promoted week


@pytest.mark.django_db
@pytest.mark.parametrize("with_price", [False, True])
def test_the_net_price_is_a_covariate_only_when_the_run_asks_for_it(settings, with_price):
    settings.FORECAST_PRICE_COVARIATE = with_price
    product = factories.ProductFactory(sku="PRICED")
    _promoted_history(product, weeks=12)
    run = services.forecast_run_create(freq="D", horizon=7, models=["seasonal_naive", "moving_average"])
    settings.FORECAST_PRICE_COVARIATE = not with_price  # the run keeps what it was created with

    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)

    run.job.refresh_from_db()
    assert run.job.parameters["price_covariate"] is with_price
    explanation = SeriesBacktest.objects.get(run=run, chosen=True).explanation
    assert "promo_feature_lift" in explanation
    # Promoted weeks sold at 7.00 instead of 10.00 and three times as much: a strongly negative elasticity.
    assert ("price_elasticity" in explanation) is with_price
    if with_price:
        assert explanation["price_elasticity"] < -1.0


@pytest.mark.django_db
def test_a_product_whose_sales_stopped_is_listed_on_the_dashboard_and_warned_on_its_page(client, personas):
    from retailai.commerce.models import OrderLine

    steady, gone = factories.ProductFactory(sku="STEADY"), factories.ProductFactory(sku="GONE")
    _history([steady, gone], days=90)
    # GONE (twice WEEKLY, 78 a week) sold nothing in the last 12 days of the history, which ends on 2011-12-04.
    OrderLine.objects.filter(product=gone, placed_at__gte=datetime(2011, 11, 23, tzinfo=LONDON)).delete()
    run = services.forecast_run_create(freq="D", horizon=7)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    client.force_login(personas["buyer"])
    dashboard = client.get("/forecasts/")
    stopped = dashboard.context["accuracy"].stopped
    assert [(s["sku"], s["periods"]) for s in stopped] == [("GONE", 12)]
    assert stopped[0]["rate"] == pytest.approx(2 * sum(WEEKLY) / 7, rel=0.02)
    assert b"Sales stopped" in dashboard.content and b"Days without sales" in dashboard.content
    page = client.get("/forecasts/product/GONE/")
    assert b"No sales in the last 12 days" in page.content
    assert b"No sales in the last" not in client.get("/forecasts/product/STEADY/").content


@pytest.mark.django_db
def test_days_out_of_stock_are_left_out_of_the_history_not_read_as_zero_demand(client, personas):
    from inventory.models import StockMovement
    from inventory.services import stock_count_set
    from retailai.commerce.models import OrderLine

    steady = factories.ProductFactory(sku="STEADY")
    empty = factories.ProductFactory(sku="EMPTY", name="Empty shelf", list_price=Decimal("2.50"))
    _history([steady, empty], days=90)
    # EMPTY (twice WEEKLY, 78 a week) was counted out of stock on the evening of 22 November and sold nothing
    # in the 12 days after: the ledger says why. Stock counts of STEADY never reach zero.
    OrderLine.objects.filter(product=empty, placed_at__gte=datetime(2011, 11, 23, tzinfo=LONDON)).delete()
    wh = factories.LocationFactory(code="wh")
    counts = [
        (empty, 200, datetime(2011, 9, 6, 7, 0)),
        (empty, 0, datetime(2011, 11, 22, 20, 0)),
        (steady, 300, datetime(2011, 9, 6, 7, 0)),
        (steady, 40, datetime(2011, 11, 22, 20, 0)),
    ]
    for product, counted, at in counts:
        change = stock_count_set(product=product, location=wh, counted=counted)
        StockMovement.objects.filter(pk=change.movement.pk).update(at=at.replace(tzinfo=LONDON))
    run = services.forecast_run_create(freq="D", horizon=7)
    for chunk in services.forecast_run_plan(run_id=run.pk).chunks:
        services.forecast_chunk_execute(run_id=run.pk, product_ids=chunk)
    services.forecast_run_activate(run_id=run.pk)

    q50 = {sku: sum(f.q50 for f in Forecast.objects.filter(run=run, product__sku=sku)) for sku in ("STEADY", "EMPTY")}
    # A week of EMPTY sells twice WEEKLY when it is in stock; read as zero demand, 12 empty days would halve it.
    assert q50["EMPTY"] == pytest.approx(2 * sum(WEEKLY), rel=0.2)
    assert q50["STEADY"] == pytest.approx(sum(WEEKLY), rel=0.2)
    expl = SeriesBacktest.objects.get(run=run, product=empty, chosen=True).explanation
    assert expl["unobserved_periods"] == 12 and expl["sales_stopped_periods"] == 0
    windows = SeriesBacktest.objects.get(run=run, product=empty, chosen=True).origins
    assert None in windows[-1]["actual"]  # the backtest scored nothing on the empty days

    client.force_login(personas["buyer"])
    dashboard = client.get("/forecasts/")
    assert dashboard.context["accuracy"].stopped == []
    # Wednesday 23 November to Sunday 4 December: twice WEEKLY's Wed..Sun, Mon..Sun, i.e. 2 x (34 + 39) units.
    [lost] = dashboard.context["accuracy"].stockouts
    assert (lost["sku"], lost["periods"]) == ("EMPTY", 12)
    assert lost["units"] == pytest.approx(146) and lost["value"] == pytest.approx(365)
    assert b"Lost to stock-outs" in dashboard.content and b"365.00" in dashboard.content
    page = client.get("/forecasts/product/EMPTY/")
    assert b"12 days without stock were left out" in page.content
    assert page.content.count(b"chart-span stockout") == 1  # one shaded stretch: 23 Nov to 4 Dec
    other = client.get("/forecasts/product/STEADY/")
    assert b"without stock" not in other.content and b"chart-span stockout" not in other.content
