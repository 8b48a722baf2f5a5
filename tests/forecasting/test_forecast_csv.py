"""The forecast_csv command: contract shape, atomic output and one-line errors that name the row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from tests.forecasting.conftest import daily_history

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    history = daily_history(n_series=2, days=90, seed=7)
    history["series_id"] = history["series_id"].map({"S00": "00418683", "S01": "B-1"})
    history["promo"] = (history["date"].dt.day % 9 == 0).astype(int)
    h = tmp_path / "h.csv"
    history.assign(date=history["date"].dt.strftime("%Y-%m-%d")).to_csv(h, index=False)
    last = history["date"].max()
    dates = pd.date_range(last + pd.Timedelta(days=1), periods=7, freq="D").strftime("%Y-%m-%d")
    f = tmp_path / "f.csv"
    pd.DataFrame(
        [(s, d, 0) for s in ["00418683", "B-1"] for d in dates], columns=["series_id", "date", "promo"]
    ).to_csv(f, index=False)
    return tmp_path, h, f


def test_writes_the_contract_shape(files):
    tmp, h, f = files
    out = tmp / "out.csv"
    call_command(
        "forecast_csv", "--history", h, "--future", f, "--horizon", "7", "--output", out, "--quantiles", "0.025,0.5,0.9"
    )
    fc = pd.read_csv(out, dtype={"series_id": str})
    assert list(fc.columns) == ["series_id", "date", "q2.5", "q50", "q90", "model"]
    assert sorted(fc["series_id"].unique()) == ["00418683", "B-1"] and len(fc) == 14
    q = fc[["q2.5", "q50", "q90"]].to_numpy()
    assert (q >= 0).all() and (q[:, 1:] >= q[:, :-1]).all()
    assert not [p for p in tmp.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda df: df.assign(quantity=df["quantity"].astype(object).where(df.index != 3, "abc")),
            "row 5, column quantity",
        ),
        (lambda df: df.assign(date=df["date"].where(df.index != 0, "2024-13-45")), "row 2, column date"),
        (lambda df: df.drop(columns=["quantity"]), "row 1, column quantity: missing"),
    ],
)
def test_bad_history_is_rejected_naming_file_row_and_column(files, mutate, expected):
    tmp, h, f = files
    mutate(pd.read_csv(h, dtype=str)).to_csv(h, index=False)
    out = tmp / "out.csv"
    with pytest.raises(CommandError) as exc:
        call_command("forecast_csv", "--history", h, "--future", f, "--horizon", "7", "--output", out)
    assert str(h) in str(exc.value) and expected in str(exc.value)
    assert not out.exists()


def test_covariate_missing_from_future_is_rejected(files):
    tmp, h, f = files
    pd.read_csv(f, dtype=str).drop(columns=["promo"]).to_csv(f, index=False)
    with pytest.raises(CommandError, match=r"f\.csv: row 1, column promo: missing"):
        call_command("forecast_csv", "--history", h, "--future", f, "--horizon", "7", "--output", tmp / "o.csv")
    assert not (tmp / "o.csv").exists()


def test_cli_exits_non_zero_with_one_line_and_no_output(files):
    tmp, h, f = files
    out = tmp / "out.csv"
    for extra in (["--horizon", "0"], ["--horizon", "7", "--bogus"]):
        proc = subprocess.run(
            [sys.executable, "manage.py", "forecast_csv", "--history", h, "--future", f, "--output", out, *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode != 0
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stdout == ""
        assert not out.exists()


def test_models_option_limits_the_candidates_and_rejects_unknown_names(files):
    tmp, h, f = files
    out = tmp / "out.csv"
    args = ["forecast_csv", "--history", h, "--future", f, "--horizon", "7", "--output", out]
    with pytest.raises(CommandError, match=r"--models: unknown model 'prophet'"):
        call_command(*args, "--models", "gbm,prophet")
    assert not out.exists()
    call_command(*args, "--models", "seasonal_naive,moving_average")
    models = set(pd.read_csv(out)["model"])
    assert models and models <= {"seasonal_naive", "moving_average", "ensemble"}
