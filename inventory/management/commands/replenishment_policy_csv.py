"""Reorder points and order-up-to levels from CSV files: forecast quantiles, then fill-rate levels (no database)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from forecasting.management.commands.forecast_csv import Command as ForecastCommand
from forecasting.management.commands.forecast_csv import (
    _row,
    load_history_and_future,
    parse_number,
    read_csv,
)

NAME = "replenishment_policy_csv"


def year_of(freq: str | None, history: pd.DataFrame) -> int:
    """Periods in a year at the history's frequency (weeks or days)."""
    from forecasting.engine.series import infer_freq

    return 52 if (freq or infer_freq(history["date"])) == "W" else 364


def read_items(label: str, lead_time: int) -> pd.DataFrame:
    """The optional items file: series_id[,lead_time,moq,pack_size,unit_cost], checked row by row."""
    from inventory.engine.replenish import ITEM_COLUMNS

    raw = read_csv(label, label, ("series_id",))
    items = pd.DataFrame({"series_id": raw["series_id"]})
    for col in ITEM_COLUMNS:
        if col not in raw.columns:
            continue
        blank = raw[col].str.strip() == ""
        values = parse_number(raw.assign(**{col: raw[col].where(~blank, "0")}), col, label)
        whole = col != "unit_cost"
        floor = 0 if col in ("lead_time", "unit_cost") else 1
        bad = np.flatnonzero((~blank & ((values < floor) | (whole & (values != np.round(values))))).to_numpy())
        if len(bad):
            kind = "a whole number" if whole else "a number"
            raise CommandError(
                f"{label}: row {_row(bad[0])}, column {col}: must be {kind} of at least {floor}, "
                f"got {raw[col].iloc[bad[0]]!r}"
            )
        items[col] = values.where(~blank)
    dup = np.flatnonzero(items["series_id"].duplicated().to_numpy())
    if len(dup):
        raise CommandError(f"{label}: row {_row(dup[0])}, column series_id: {items['series_id'].iloc[dup[0]]!r} twice")
    return items


class Command(BaseCommand):
    help = (
        "Per series and horizon period, the reorder point and order-up-to level that meet a fill-rate target "
        "(forecast quantiles -> demand over lead time + review period), into a CSV (see CONTRACTS.md)."
    )
    requires_system_checks: list = []
    requires_migrations_checks = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        """A parser whose usage errors are one line on stderr and a non-zero exit."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:
            sys.stderr.write(f"{NAME}: {message}\n")
            sys.exit(2)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--history", required=True, help="series_id,date,quantity[,covariate...]")
        parser.add_argument("--horizon", required=True, type=int, help="periods to give levels for (>= 1)")
        parser.add_argument("--lead-time", required=True, type=int, help="periods from order to arrival (>= 0)")
        parser.add_argument("--service-level", required=True, type=float, help="fill-rate target in (0, 1)")
        parser.add_argument("--output", required=True, help="policy CSV, written atomically")
        parser.add_argument("--review-period", type=int, default=1, help="review every R periods (>= 1)")
        parser.add_argument("--future", help="series_id,date,covariate... for the horizon periods")
        parser.add_argument("--items", help="series_id[,lead_time,moq,pack_size,unit_cost] overriding the flags")
        parser.add_argument("--freq", choices=["D", "W"], help="D (days) or W (weeks); inferred when absent")
        parser.add_argument(
            "--pooled",
            action="store_true",
            help="meet the fill rate on the total of all series, placing stock where it buys the most fill "
            "per unit_cost (default: every series meets it on its own)",
        )
        parser.add_argument(
            "--calibrate",
            type=int,
            default=0,
            help="past origins (each `horizon` periods apart, just before the end of the history) whose forecasts "
            "are replayed against what happened, to choose how the quantiles are read so that the fill lands "
            "on the target (e.g. 2; default 0: off; skipped when the history is too short)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--country", help="ISO country code (DE, GB, US-CA...) for public-holiday features")
        parser.add_argument("--verbose", action="store_true", help="print a summary on stdout")

    def handle(self, *args, **opts):
        from forecasting.engine import ForecastConfig, forecast
        from inventory.engine.policy import PolicyConfig
        from inventory.engine.replenish import (
            POLICY_QUANTILES,
            ReplenishmentConfig,
            cap_by_history,
            policy_from_forecast,
        )

        horizon, lead, review = opts["horizon"], opts["lead_time"], opts["review_period"]
        if horizon < 1:
            raise CommandError(f"--horizon: must be at least 1, got {horizon}")
        if lead < 0:
            raise CommandError(f"--lead-time: must be at least 0, got {lead}")
        if review < 1:
            raise CommandError(f"--review-period: must be at least 1, got {review}")
        if not 0 < opts["service_level"] < 1:
            raise CommandError(f"--service-level: must be between 0 and 1, got {opts['service_level']}")
        if opts["calibrate"] < 0:
            raise CommandError(f"--calibrate: must be at least 0, got {opts['calibrate']}")

        history, future = load_history_and_future(opts["history"], opts["future"], horizon, opts["freq"])

        items = read_items(opts["items"], lead) if opts["items"] else None
        longest = lead
        if items is not None and "lead_time" in items.columns and items["lead_time"].notna().any():
            longest = max(lead, int(items["lead_time"].max()))

        def progress(msg: str) -> None:
            self.stderr.write(f"{NAME}: {msg}")

        # The last horizon period's cover runs lead time + review period further: forecast those too
        # (covariates beyond the future file hold their last value).
        fcfg = ForecastConfig(
            horizon=horizon + longest + review,
            freq=opts["freq"],
            quantiles=POLICY_QUANTILES,
            seed=opts["seed"],
            country=opts["country"],
            progress=progress,
        )
        try:
            result = forecast(history, future, fcfg)
        except ValueError as exc:
            raise CommandError(f"{opts['history']}: row -, column -: {exc}")
        rcfg = ReplenishmentConfig(
            lead_time=lead,
            review_period=review,
            service_level=opts["service_level"],
            pooled=opts["pooled"],
            policy=PolicyConfig(seed=opts["seed"]),
        )
        if opts["calibrate"]:
            rcfg = self._calibrated(history, future, fcfg, rcfg, items, origins=opts["calibrate"], step=horizon)
        # The quantiles stay inside the envelope of the last year's demand (see cap_by_history).
        year = year_of(fcfg.freq, history)
        frame = cap_by_history(result.forecast, history, window=year)
        levels = policy_from_forecast(frame, rcfg, items, history, year)
        progress(f"levels for {levels['series_id'].nunique()} series")
        out = levels[levels.groupby("series_id").cumcount() < horizon].reset_index(drop=True)
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
        out[["reorder_point", "order_up_to"]] = out[["reorder_point", "order_up_to"]].astype(int)
        ForecastCommand._write_atomic(out, opts["output"])

        if opts["verbose"]:
            self.stdout.write(
                f"{out['series_id'].nunique()} series x {horizon} periods into {opts['output']}; "
                f"mean order-up-to {out['order_up_to'].mean():.1f}"
            )

    def _calibrated(self, history, future, fcfg, rcfg, items, *, origins: int, step: int):
        """The policy config after a calibration replay of the last `origins` x `step` periods of the history."""
        from dataclasses import replace

        from forecasting.engine import forecast
        from forecasting.engine.series import complete_history, infer_freq, week_anchor
        from inventory.engine.calibrate import FILL_MARGIN, calibrate_policy
        from inventory.engine.replenish import cap_by_history

        freq = fcfg.freq or infer_freq(history["date"])
        full = complete_history(history, freq, week_anchor(history["date"]) if freq == "W" else 0)
        dates = np.sort(full["date"].unique())
        window = origins * step
        # The forecasts made before the window need a history of their own: at least twice the window.
        if len(dates) < 3 * window:
            self.stderr.write(f"{NAME}: history too short for a calibration replay of {window} periods; skipped")
            return rcfg
        covs = [c for c in history.columns if c not in ("series_id", "date", "quantity")]
        known = pd.concat([history, future], ignore_index=True) if future is not None else history
        forecasts = []
        for k in range(origins):
            origin = dates[len(dates) - window + k * step]
            past = history[history["date"] < origin]
            later = known[known["date"] >= origin][["series_id", "date", *covs]] if covs else None
            made = forecast(past, later, replace(fcfg, progress=None)).forecast
            forecasts.append(cap_by_history(made, history, window=year_of(freq, history)))
            self.stderr.write(f"{NAME}: calibration forecast from {pd.Timestamp(origin).date()}")
        actual = full[full["date"] >= dates[len(dates) - window]][["series_id", "date", "quantity"]]
        # One standard error of the replayed fill above the target: met on most future periods, not half of them.
        cal = calibrate_policy(
            forecasts, actual, rcfg, items, margin=FILL_MARGIN, history=full, window=year_of(freq, history)
        )
        self.stderr.write(
            f"{NAME}: calibration replay: spread {cal.spread}, error correlation {cal.error_correlation:g}, "
            f"envelope {cal.envelope_level}, planning fill {cal.planning_fill:.3f} -> replayed fill {cal.fill_rate:.3f}"
        )
        return cal.apply(rcfg)
