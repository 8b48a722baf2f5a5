"""Forecast demand from CSV files with the forecasting engine (no database, no network)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError

REQUIRED_HISTORY = ("series_id", "date", "quantity")
REQUIRED_FUTURE = ("series_id", "date")


def _row(i: int) -> int:
    """File row of the i-th data record (the header is row 1)."""
    return int(i) + 2


def read_csv(path: str, label: str, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV as text and check that the required columns are there."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{label}: file not found")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CommandError(f"{label}: row 1, column -: not a UTF-8 CSV with a header row ({str(exc).splitlines()[0]})")
    frame.columns = [c.strip() for c in frame.columns]
    for col in required:
        if col not in frame.columns:
            raise CommandError(f"{label}: row 1, column {col}: missing")
    return frame


def parse_dates(frame: pd.DataFrame, label: str) -> pd.Series:
    """Parse the date column (ISO dates), naming the first bad row."""
    text = frame["date"].str.strip()
    dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        i = bad[0]
        raise CommandError(f"{label}: row {_row(i)}, column date: cannot parse {text.iloc[i]!r} as a date")
    return dates.dt.tz_localize(None) if dates.dt.tz is not None else dates


def parse_number(frame: pd.DataFrame, col: str, label: str) -> pd.Series:
    """Parse a numeric column, naming the first bad row."""
    text = frame[col].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero((values.isna() | ~np.isfinite(values.fillna(0))).to_numpy())
    if len(bad):
        i = bad[0]
        raise CommandError(f"{label}: row {_row(i)}, column {col}: cannot parse {text.iloc[i]!r} as a number")
    return values.astype(float)


def numeric_columns(frame: pd.DataFrame, skip: tuple[str, ...]) -> list[str]:
    """Covariate columns: every other column whose values are mostly numbers (text columns are ignored)."""
    out = []
    for col in frame.columns:
        if col in skip:
            continue
        text = frame[col].str.strip()
        share = pd.to_numeric(text, errors="coerce").notna().mean() if len(text) else 0.0
        if share >= 0.5:
            out.append(col)
    return out


class Command(BaseCommand):
    help = "Forecast every series of a history CSV for N periods, with quantiles, into a CSV (see CONTRACTS.md)."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        """A parser whose usage errors are one line on stderr and a non-zero exit."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:
            sys.stderr.write(f"forecast_csv: {message}\n")
            sys.exit(2)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--history", required=True, help="series_id,date,quantity[,covariate...]")
        parser.add_argument("--horizon", required=True, type=int, help="periods to forecast (>= 1)")
        parser.add_argument("--output", required=True, help="forecast CSV, written atomically")
        parser.add_argument("--future", help="series_id,date,covariate... for the horizon periods")
        parser.add_argument("--freq", choices=["D", "W"], help="D (days) or W (weeks); inferred when absent")
        parser.add_argument("--quantiles", default="0.1,0.5,0.9", help="comma-separated, each in (0, 1)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--country", help="ISO country code (DE, GB, US-CA...) for public-holiday features")
        parser.add_argument(
            "--models",
            help="comma-separated candidates (default seasonal_naive,moving_average,ets,sarimax,tsb,gbm); "
            "add lstm for the TensorFlow sequence model, kept only where its backtest helps",
        )
        parser.add_argument("--verbose", action="store_true", help="print a summary on stdout")

    def handle(self, *args, **opts):
        from forecasting.engine import ForecastConfig, forecast
        from forecasting.engine.pipeline import MODEL_NAMES

        if opts["horizon"] < 1:
            raise CommandError(f"--horizon: must be at least 1, got {opts['horizon']}")
        try:
            quantiles = tuple(float(q) for q in opts["quantiles"].split(",") if q.strip())
        except ValueError:
            raise CommandError(f"--quantiles: cannot parse {opts['quantiles']!r} as numbers")
        if not quantiles or any(not 0 < q < 1 for q in quantiles):
            raise CommandError("--quantiles: each quantile must be between 0 and 1")
        quantiles = tuple(sorted(set(quantiles)))
        models = ForecastConfig.models
        if opts["models"]:
            models = tuple(dict.fromkeys(m.strip() for m in opts["models"].split(",") if m.strip()))
            unknown = [m for m in models if m not in MODEL_NAMES]
            if unknown or not models:
                raise CommandError(f"--models: unknown model {unknown[0] if unknown else '(none)'!r}")
        history, future = load_history_and_future(opts["history"], opts["future"], opts["horizon"], opts["freq"])

        def progress(msg: str) -> None:
            self.stderr.write(f"forecast_csv: {msg}")

        config = ForecastConfig(
            horizon=opts["horizon"],
            freq=opts["freq"],
            quantiles=quantiles,
            seed=opts["seed"],
            country=opts["country"],
            models=models,
            progress=progress,
        )
        try:
            result = forecast(history, future, config)
        except ValueError as exc:
            raise CommandError(f"{opts['history']}: row -, column -: {exc}")
        out = result.forecast.copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        self._write_atomic(out, opts["output"])
        if opts["verbose"]:
            counts = result.chosen.value_counts()
            self.stdout.write(
                f"{len(result.chosen)} series forecast for {opts['horizon']} periods into {opts['output']}; models: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )

    @staticmethod
    def _check_future(history: pd.DataFrame, future: pd.DataFrame, horizon: int, freq: str | None, label: str):
        """Every series needs a future row for each of the horizon periods after its last history date."""
        from forecasting.engine.series import infer_freq, period_start, week_anchor

        freq = freq or infer_freq(history["date"])
        anchor = week_anchor(history["date"]) if freq == "W" else 0
        step = pd.Timedelta(days=7 if freq == "W" else 1)
        last = period_start(history.groupby("series_id")["date"].max(), freq, anchor)
        need = pd.DataFrame(
            {
                "series_id": np.repeat(last.index.to_numpy(), horizon),
                "date": np.repeat(last.to_numpy(), horizon) + np.tile(np.arange(1, horizon + 1), len(last)) * step,
                "k": np.tile(np.arange(1, horizon + 1), len(last)),
            }
        )
        have = pd.DataFrame(
            {"series_id": future["series_id"].to_numpy(), "date": period_start(future["date"], freq, anchor).to_numpy()}
        ).drop_duplicates()
        merged = need.merge(have.assign(ok=True), on=["series_id", "date"], how="left")
        gap = merged[merged["ok"].isna()]
        if len(gap):
            g = gap.iloc[0]
            raise CommandError(
                f"{label}: row -, column date: series {g['series_id']} has no row for {g['date'].date()} "
                f"(horizon period {g['k']})"
            )

    @staticmethod
    def _write_atomic(frame: pd.DataFrame, path: str) -> None:
        """Write to a temporary file next to the target, then rename: readers never see a partial file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                frame.to_csv(fh, index=False, float_format="%.4f")
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def load_history_and_future(
    history_path: str, future_path: str | None, horizon: int, freq: str | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read and check the history and, when given or needed, the future covariates; errors name the row."""
    raw = read_csv(history_path, history_path, REQUIRED_HISTORY)
    if raw.empty:
        raise CommandError(f"{history_path}: row 2, column series_id: no data rows")
    history = pd.DataFrame({"series_id": raw["series_id"], "date": parse_dates(raw, history_path)})
    history["quantity"] = parse_number(raw, "quantity", history_path)
    covs = numeric_columns(raw, REQUIRED_HISTORY)
    for col in covs:
        history[col] = parse_number(raw, col, history_path)
    bad = np.flatnonzero((history["quantity"] < 0).to_numpy())
    if len(bad):
        raise CommandError(f"{history_path}: row {_row(bad[0])}, column quantity: negative demand")
    if covs and not future_path:
        raise CommandError(f"{history_path}: row 1, column {covs[0]}: a covariate needs --future with its values")
    if not future_path:
        return history, None
    fraw = read_csv(future_path, future_path, REQUIRED_FUTURE)
    for col in covs:
        if col not in fraw.columns:
            raise CommandError(f"{future_path}: row 1, column {col}: missing (the history has this covariate)")
    future = pd.DataFrame({"series_id": fraw["series_id"], "date": parse_dates(fraw, future_path)})
    for col in covs:
        future[col] = parse_number(fraw, col, future_path)
    Command._check_future(history, future, horizon, freq, future_path)
    return history, future
