"""The app's covariate builder: promotion flags and depth per period, price from sales, their known future."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from forecasting.engine.series import promotion_covariates, with_known_covariates
from forecasting.selectors import promotions_frame
from tests import factories


def _promo(**kw) -> pd.DataFrame:
    row = {"series_id": "A", "start": "2024-03-06", "end": "2024-03-10", "feature": 0.0, "display": 1.0,
           "tpr": 1.0, "depth": 0.2}  # fmt: skip
    return pd.DataFrame([{**row, **kw}])


def test_weekly_periods_are_flagged_when_promoted_on_at_least_half_their_days():
    weeks = pd.DataFrame({"series_id": "A", "date": pd.to_datetime(["2024-03-04", "2024-03-11", "2024-03-18"])})
    # Wednesday to Sunday of the first week (5 of 7 days), then Monday and Tuesday of the next (2 of 7).
    out = promotion_covariates(_promo(end="2024-03-12"), weeks, "W")

    assert out["promo_display"].tolist() == [1.0, 0.0, 0.0]
    assert out["promo_tpr"].tolist() == [1.0, 0.0, 0.0]
    assert out["promo_feature"].tolist() == [0.0, 0.0, 0.0]
    assert out["promo_depth"].tolist() == pytest.approx([0.2 * 5 / 7, 0.2 * 2 / 7, 0.0])


def test_overlapping_promotions_combine_and_other_series_are_untouched():
    dates = pd.to_datetime(["2024-03-05", "2024-03-06", "2024-03-08", "2024-03-08"])
    days = pd.DataFrame({"series_id": ["A", "A", "A", "B"], "date": dates})
    promos = pd.concat([_promo(), _promo(start="2024-03-08", end="2024-03-08", feature=1.0, depth=0.5)])

    out = promotion_covariates(promos, days, "D")

    assert out[["promo_feature", "promo_display", "promo_depth"]].values.tolist() == [
        [0.0, 0.0, 0.0],
        [0.0, 1.0, 0.2],
        [1.0, 1.0, 0.5],
        [0.0, 0.0, 0.0],
    ]


def test_future_price_is_the_regular_price_less_the_planned_discount():
    dates = pd.date_range("2024-03-01", periods=6, freq="D")
    history = pd.DataFrame({"series_id": "A", "date": dates, "quantity": [5, 5, 0, 15, 5, 5.0]})
    # No sale on the 3rd (its price is carried), a 30%-off day on the 4th, then a planned 25% off on the 8th.
    prices = pd.DataFrame({"series_id": "A", "date": dates.delete(2), "price": [10, 10, 7, 10, 10.0]})
    promos = pd.DataFrame(
        {"series_id": ["A", "A"], "start": pd.to_datetime(["2024-03-04", "2024-03-08"]),
         "end": pd.to_datetime(["2024-03-04", "2024-03-08"]), "feature": 0.0, "display": 0.0, "tpr": 1.0,
         "depth": [0.3, 0.25]}
    )  # fmt: skip

    hist, future = with_known_covariates(history, 3, "D", promotions=promos, prices=prices)

    assert hist["price"].tolist() == [10, 10, 10, 7, 10, 10]
    assert hist["promo_tpr"].tolist() == [0, 0, 0, 1, 0, 0]
    assert future["date"].dt.day.tolist() == [7, 8, 9]
    assert future["price"].tolist() == pytest.approx([10, 7.5, 10])
    assert future["promo_depth"].tolist() == pytest.approx([0, 0.25, 0])
    # Kinds that never occur cannot move a forecast and are left out.
    assert "promo_feature" not in hist.columns and "promo_display" not in future.columns


def test_no_informative_covariate_leaves_the_history_as_it_was():
    history = pd.DataFrame({"series_id": "A", "date": pd.date_range("2024-03-01", periods=4), "quantity": 1.0})
    prices = history[["series_id", "date"]].assign(price=2.95)

    hist, future = with_known_covariates(history, 2, "D", promotions=None, prices=prices)

    assert future is None
    assert list(hist.columns) == ["series_id", "date", "quantity"]


@pytest.mark.django_db
def test_promotions_frame_takes_the_depth_given_or_implied_by_the_promotional_price():
    teapot = factories.ProductFactory(sku="TEA-1", list_price=Decimal("10.00"))
    unpriced = factories.ProductFactory(sku="TEA-2", list_price=None)
    week = {"start_date": date(2024, 3, 4), "end_date": date(2024, 3, 10)}
    factories.PromotionFactory(
        code="A", product=teapot, discount_depth=Decimal("0.2"), promo_price=Decimal("5"), **week
    )
    factories.PromotionFactory(code="B", product=teapot, discount_depth=None, promo_price=Decimal("7.50"), **week)
    factories.PromotionFactory(code="C", product=unpriced, discount_depth=None, promo_price=Decimal("1"), **week)
    factories.PromotionFactory(code="D", product=teapot, start_date=date(2024, 5, 1), end_date=date(2024, 5, 2))

    frame = promotions_frame(product_ids=[teapot.pk, unpriced.pk], start=date(2024, 3, 1), end=date(2024, 3, 31))

    assert sorted(zip(frame["series_id"], frame["depth"].round(4), frame["tpr"], strict=True)) == [
        ("TEA-1", 0.2, 1.0),
        ("TEA-1", 0.25, 1.0),
        ("TEA-2", 0.0, 1.0),
    ]
