"""How much one replay window decides the replenishment benchmark on Dominick's orange juice.

`bench/replenishment.py` scores the last 13 weeks against a textbook (s, S) whose safety factor k is tuned on
those very weeks to the project's fill rate. This script replays Dominick's, as that benchmark does, in each of
the last N 13-week windows and prints, per window:

- the textbook's k that reaches 95% fill on the window (tuned on it, as the benchmark tunes it), and the fill the
  textbook reaches with the k tuned on the window before (what a policy that calibrates beforehand would run);
- a price-driven reference: each period's cover demand (the period and the lead time after it) forecast by a
  per-series regression of log(1 + units) on log price, deal and feature over the two years before the period,
  the promotions and prices of the cover known as planned, lognormal errors; its (s, S) is s = mean + k·sd of
  the cover, S = s + the review period's mean. With k tuned on the window (like the textbook's) it shows what
  knowing the prices and promotions is worth at equal fill; with the k tuned on the window before, what it is
  worth to a policy that has to choose k beforehand (its inventory then against the textbook at the fill it
  reaches).

The regression is a reference, not the project's forecaster: it bounds what the cover's planned prices and
promotions say about demand when the safety factor is chosen in hindsight.

    python bench/replenishment_windows.py [--windows 6] [--dominicks-stores 10] [--history 104]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.replenishment import (  # noqa: E402
    SETUPS,
    Setup,
    Window,
    fill,
    load,
    moments_levels,
    moments_replay,
    replay,
    replay_window,
    textbook_matrices,
    textbook_replay,
)

TARGET = 0.95


def regression_moments(w: Window, setup: Setup, history: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cover mean, cover variance and review-period mean (series x replay period) from a log-linear regression
    of units on log price, deal and feature, refitted per series at every replay period on the `history` periods
    before it and read at the cover's planned prices and promotions (errors lognormal, independent over the
    cover)."""

    def table(column: str) -> pd.DataFrame:
        return w.grid.pivot(index="series_id", columns="date", values=column).loc[w.ids]

    units = table("quantity")
    at = np.searchsorted(units.columns.to_numpy(), w.dates)
    q = units.to_numpy(dtype=float)
    x = [np.log(table("price").to_numpy(dtype=float)), *(table(c).to_numpy(dtype=float) for c in ("deal", "feat"))]
    cover = setup.lead_time + 1
    n, periods = q.shape
    mean_c, var_c, review = (np.zeros((n, len(at))) for _ in range(3))
    for i in range(n):
        for j, t in enumerate(at):
            lo = max(0, t - history)
            y = np.log1p(q[i, lo:t])
            design = np.column_stack([np.ones(t - lo), *(v[i, lo:t] for v in x)])
            ok = ~np.isnan(y) & ~np.isnan(design).any(axis=1)
            beta, *_ = np.linalg.lstsq(design[ok], y[ok], rcond=None)
            resid = y[ok] - design[ok] @ beta
            s2 = float(resid @ resid / max(ok.sum() - design.shape[1], 1))
            # A cover that runs past the data's end reads the last known week's price and promotions there.
            ahead = np.minimum(np.arange(t, t + cover), periods - 1)
            m = np.column_stack([np.ones(cover), *(v[i, ahead] for v in x)]) @ beta
            mu = np.exp(m + s2 / 2) - 1
            var = (np.exp(s2) - 1) * np.exp(2 * m + s2)
            mean_c[i, j], var_c[i, j], review[i, j] = mu.sum(), var.sum(), mu[-1]
    return mean_c, var_c, review


def main() -> None:
    """Print one row per window, the latest (the one bench/replenishment.py scores) first."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=6, help="13-week windows to replay, counting back from the end")
    p.add_argument("--dominicks-stores", type=int, default=10)
    p.add_argument("--history", type=int, default=104, help="periods each regression is fitted on")
    args = p.parse_args()
    t0 = time.perf_counter()
    setup = SETUPS["dominicks"]
    raw, _ = load("dominicks", argparse.Namespace(dominicks_stores=args.dominicks_stores, windows_before=0))
    found = []
    # One window more than printed: the earliest printed window takes its k's from the one before it.
    for before in range(args.windows + 1):
        w = replay_window(setup, raw, before)
        book_k, book = textbook_replay(w.demand, w.past, setup.lead_time, TARGET)
        moments = regression_moments(w, setup, args.history)
        reg_k, reg = moments_replay(w.demand, moments, setup.lead_time, TARGET)
        found.append((w, book_k, book, moments, reg_k, reg))
    rows = []
    for before in range(args.windows):
        w, book_k, book, moments, reg_k, reg = found[before]
        prior_book_k, prior_reg_k = found[before + 1][1], found[before + 1][4]
        prior_book = replay(
            w.demand, *textbook_matrices(w.past, prior_book_k, setup.lead_time, w.demand.shape), setup.lead_time
        )
        prior_reg = replay(w.demand, *moments_levels(moments, prior_reg_k), setup.lead_time)
        _, book_same = textbook_replay(w.demand, w.past, setup.lead_time, fill(prior_reg))
        rows.append(
            {
                "window": f"{pd.Timestamp(w.dates[0]).date()} ({before} before)",
                "series": len(w.ids),
                "textbook k": f"{book_k:.2f}",
                "textbook, k before: fill": f"{fill(prior_book):.4f}",
                "regression k": f"{reg_k:.2f}",
                "ratio": f"{reg['avg_inv'].sum() / book['avg_inv'].sum():.3f}",
                "regression, k before: fill": f"{fill(prior_reg):.4f}",
                "ratio at its fill": f"{prior_reg['avg_inv'].sum() / book_same['avg_inv'].sum():.3f}",
            }
        )
    print(
        f"Dominick's orange juice, {args.dominicks_stores} stores: {setup.replay}-week windows, lead time "
        f"{setup.lead_time}, review 1; k tuned to fill {TARGET} on each window; ratio = average inventory of the "
        f"price regression / the textbook at the same fill ({time.perf_counter() - t0:.0f}s)"
    )
    print(pd.DataFrame(rows).set_index("window").to_string())


if __name__ == "__main__":
    main()
