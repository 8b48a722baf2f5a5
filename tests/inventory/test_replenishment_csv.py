"""The replenishment_policy_csv command: contract shape, seasonal levels, items overrides, errors, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from inventory.engine.policy import order_up_to_levels
from inventory.engine.replenish import ReplenishmentConfig, policy_from_forecast
from inventory.engine.simulate import simulate_lost_sales

ROOT = Path(__file__).resolve().parents[2]
HORIZON = 8
SEASON_WEEKS = range(46, 52)  # a Christmas-like peak, four times the usual demand


def weekly_history(seed: int = 1) -> pd.DataFrame:
    """Three weekly series over two and a half years; "XMAS" quadruples in weeks 46-51 of every year."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-04", "2023-10-02", freq="W-MON")
    rows = []
    for sid, base in (("00418683", 20.0), ("B-1", 6.0), ("XMAS", 15.0)):
        week = dates.isocalendar().week.to_numpy()
        peak = np.isin(week, SEASON_WEEKS) if sid == "XMAS" else np.zeros(len(dates), bool)
        qty = rng.poisson(base * np.where(peak, 4.0, 1.0))
        rows.append(pd.DataFrame({"series_id": sid, "date": dates.strftime("%Y-%m-%d"), "quantity": qty}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def history_csv(tmp_path):
    h = tmp_path / "h.csv"
    weekly_history().to_csv(h, index=False)
    return h


def run(history, out, *extra):
    """Run the command with the usual flags."""
    call_command(
        "replenishment_policy_csv",
        "--history", history, "--horizon", str(HORIZON), "--lead-time", "2", "--service-level", "0.95",
        "--output", out, *extra,
    )  # fmt: skip
    return pd.read_csv(out, dtype={"series_id": str})


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policy")
    h = tmp / "h.csv"
    weekly_history().to_csv(h, index=False)
    first = run(h, tmp / "p1.csv")
    second = run(h, tmp / "p2.csv")
    return tmp, first, second


def test_rows_for_every_series_and_period_with_reorder_point_below_order_up_to(policy):
    tmp, p, _ = policy
    assert list(p.columns) == ["series_id", "date", "reorder_point", "order_up_to"]
    assert sorted(p["series_id"].unique()) == ["00418683", "B-1", "XMAS"]
    assert p.groupby("series_id").size().tolist() == [HORIZON] * 3
    assert p.groupby("series_id")["date"].min().eq("2023-10-09").all()
    assert (p["reorder_point"] <= p["order_up_to"]).all() and (p["reorder_point"] >= 0).all()
    # A steady 20 a week over a lead time of 2 plus a review of 1: about 60, plus some safety stock.
    steady = p[p["series_id"] == "00418683"]["order_up_to"]
    assert steady.between(55, 110).all()
    assert not [f for f in tmp.iterdir() if f.name.endswith(".tmp")]


def test_deterministic(policy):
    _, first, second = policy
    pd.testing.assert_frame_equal(first, second)


def test_seasonal_rise_raises_the_order_up_to_ahead_of_the_season(tmp_path):
    # History up to the week before week 43 of 2023: the peak (weeks 46-51) starts inside the horizon.
    h = tmp_path / "h.csv"
    hist = weekly_history()
    hist[hist["date"] <= "2023-10-16"].to_csv(h, index=False)
    p = run(h, tmp_path / "p.csv")
    xmas = p[p["series_id"] == "XMAS"].set_index("date")["order_up_to"]
    # Week 43's cover (weeks 43-45) is all low season; week 44's cover reaches week 46, the first peak week.
    assert xmas["2023-10-23"] < 100
    assert xmas["2023-11-06"] > xmas["2023-10-23"] * 1.5
    assert xmas["2023-11-13"] > xmas["2023-10-23"] * 2


def test_items_override_pack_size_and_moq(tmp_path, history_csv, policy):
    _, base, _ = policy
    items = tmp_path / "items.csv"
    pd.DataFrame(
        {"series_id": ["00418683", "B-1"], "lead_time": ["2", ""], "moq": ["1", "48"], "pack_size": ["24", ""]}
    ).to_csv(items, index=False)
    p = run(history_csv, tmp_path / "p.csv", "--items", items)
    by = {sid: g["order_up_to"].to_numpy() for sid, g in p.groupby("series_id")}
    old = {sid: g["order_up_to"].to_numpy() for sid, g in base.groupby("series_id")}
    # Packs of 24 leave the position anywhere in [S, S + 23] after ordering: S comes down, by up to half a pack.
    assert (by["00418683"] < old["00418683"]).all()
    assert by["00418683"].mean() < old["00418683"].mean() - 5
    # B-1 sells about 6 a week: an MOQ of 48 is eight weeks of stock, so the reorder point S - 1 only has to
    # protect the lead time while a lot lasts (an (s, Q) policy) and S falls below the lot-of-one level.
    assert (by["B-1"] < old["B-1"]).all()
    np.testing.assert_array_equal(by["XMAS"], old["XMAS"])


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda df: df.assign(quantity=df["quantity"].astype(object).where(df.index != 3, "abc")),
            "row 5, column quantity",
        ),
        (lambda df: df.assign(date=df["date"].where(df.index != 0, "2024-13-45")), "row 2, column date"),
        (lambda df: df.assign(quantity=df["quantity"].where(df.index != 6, "-4")), "row 8, column quantity"),
        (lambda df: df.drop(columns=["quantity"]), "row 1, column quantity: missing"),
    ],
)
def test_bad_history_is_rejected_naming_the_row_and_no_output_is_left(tmp_path, history_csv, mutate, expected):
    mutate(pd.read_csv(history_csv, dtype=str)).to_csv(history_csv, index=False)
    out = tmp_path / "p.csv"
    with pytest.raises(CommandError) as exc:
        run(history_csv, out)
    assert str(history_csv) in str(exc.value) and expected in str(exc.value)
    assert not out.exists()


def test_bad_items_and_flags_are_rejected(tmp_path, history_csv):
    items = tmp_path / "items.csv"
    pd.DataFrame({"series_id": ["B-1", "XMAS"], "pack_size": ["6", "0"]}).to_csv(items, index=False)
    out = tmp_path / "p.csv"
    with pytest.raises(CommandError, match=r"items\.csv: row 3, column pack_size"):
        run(history_csv, out, "--items", items)
    with pytest.raises(CommandError, match="--review-period"):
        run(history_csv, out, "--review-period", "0")
    assert not out.exists()


def test_pack_rounding_lowers_the_level_and_still_meets_the_fill_rate_in_replay():
    rng = np.random.default_rng(5)
    levels = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])
    q = np.tile(np.quantile(rng.poisson(30, 50_000), levels).astype(float), (300, 1))
    demand = rng.poisson(30, 300).astype(float)
    plain = order_up_to_levels(q, levels, lead_time=2, fill_rate=0.95)
    packed = order_up_to_levels(q, levels, lead_time=2, fill_rate=0.95, pack_size=24)
    assert packed.order_up_to[0] < plain.order_up_to[0] - 6
    sim = simulate_lost_sales(demand, packed.reorder_point, packed.order_up_to, lead_time=2, pack_size=24)
    naive = simulate_lost_sales(demand, plain.reorder_point, plain.order_up_to, lead_time=2, pack_size=24)
    assert sim.fill_rate >= 0.94
    assert sim.average_on_hand < naive.average_on_hand - 5


def test_pooled_target_meets_the_total_fill_with_less_stock_than_per_series():
    steady = np.tile([90.0, 100.0, 110.0], (6, 1))
    erratic = np.tile([0.0, 5.0, 60.0], (6, 1))
    dates = pd.date_range("2024-01-01", periods=6, freq="D")
    frame = pd.concat(
        [
            pd.DataFrame({"series_id": sid, "date": dates, "q10": q[:, 0], "q50": q[:, 1], "q90": q[:, 2]})
            for sid, q in (("steady", steady), ("erratic", erratic))
        ]
    )
    each = policy_from_forecast(frame, ReplenishmentConfig(lead_time=2))
    pooled = policy_from_forecast(frame, ReplenishmentConfig(lead_time=2, pooled=True))
    assert pooled["order_up_to"].sum() < each["order_up_to"].sum()
    per = pooled.groupby("series_id")["order_up_to"].first()
    base = each.groupby("series_id")["order_up_to"].first()
    # Stock moves away from the erratic series, where a unit buys little fill.
    assert per["erratic"] < base["erratic"]


def test_items_lead_time_overrides_the_default_for_that_series_only():
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    frame = pd.concat(
        [pd.DataFrame({"series_id": sid, "date": dates, "q10": 8.0, "q50": 10.0, "q90": 12.0}) for sid in "AB"]
    )
    items = pd.DataFrame({"series_id": ["B"], "lead_time": [5.0]})
    p = policy_from_forecast(frame, ReplenishmentConfig(lead_time=1), items).groupby("series_id")["order_up_to"]
    a, b = p.first()["A"], p.first()["B"]
    assert 20 <= a <= 24 and 60 <= b <= 68  # cover of 2 and of 6 periods of about 10


def test_cli_exits_non_zero_with_one_line_and_no_output(tmp_path, history_csv):
    out = tmp_path / "p.csv"
    proc = subprocess.run(
        [
            sys.executable, "manage.py", "replenishment_policy_csv", "--history", str(history_csv), "--horizon", "4",
            "--lead-time", "2", "--service-level", "0.95", "--output", str(out), "--bogus",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_calibration_replay_flag(tmp_path, history_csv, policy, capsys):
    _, base, _ = policy
    p = run(history_csv, tmp_path / "p.csv", "--calibrate", "2")
    assert "calibration replay: spread" in capsys.readouterr().err
    assert list(p.columns) == list(base.columns) and len(p) == len(base)
    assert (p["reorder_point"] <= p["order_up_to"]).all()
    # The steady series (about 20 a week, lead time 2 + review 1) still gets about 60 and some safety stock.
    assert p[p["series_id"] == "00418683"]["order_up_to"].between(55, 110).all()
    with pytest.raises(CommandError, match="--calibrate"):
        run(history_csv, tmp_path / "q.csv", "--calibrate", "-1")
