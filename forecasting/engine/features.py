"""Covariates for demand models: calendar, public holidays, prices, discounts, promotions and user numerics."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

CALENDAR_D = ("dow", "dom", "month", "woy", "month_end", "payday", "holiday", "holiday_near")
CALENDAR_W = ("woy", "month", "month_end", "payday", "holiday")
#: A price at least this far below the regular price is a temporary price reduction.
TPR_DEPTH = 0.10
#: Calendar features that place a period within the year, and the periods a year spans.
YEARLY_CALENDAR = ("woy", "month")
YEAR = {"D": 364, "W": 52}


@dataclass(frozen=True)
class FeatureSpec:
    """Names and roles of the feature columns of a feature cube."""

    names: tuple[str, ...]
    calendar: tuple[str, ...] = ()
    prices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    numerics: tuple[str, ...] = ()
    derived: dict[str, str] = field(default_factory=dict)

    def index(self, name: str) -> int:
        """Column position of a feature."""
        return self.names.index(name)

    @property
    def covariates(self) -> tuple[str, ...]:
        """User covariate features (prices, flags, numerics and what is derived from them)."""
        return tuple(n for n in self.names if n not in self.calendar)


@lru_cache(maxsize=64)
def _holiday_dates(country: str, years: tuple[int, ...]) -> frozenset:
    """Public holiday dates of a country (ISO code, optionally ``DE-BY`` for a subdivision) for some years."""
    import holidays

    code, _, subdiv = country.partition("-")
    cal = holidays.country_holidays(code, subdiv=subdiv or None, years=list(years))
    return frozenset(pd.Timestamp(d) for d in cal)


def holiday_flags(dates: np.ndarray, country: str | None) -> np.ndarray:
    """1.0 where a date is a public holiday of `country`, else 0.0 (all 0 without a country)."""
    d = pd.DatetimeIndex(dates.ravel())
    if not country:
        return np.zeros(dates.shape, dtype=np.float32)
    years = tuple(sorted({int(y) for y in d.year.unique()}))
    hol = _holiday_dates(country, years)
    hol_idx = pd.DatetimeIndex(sorted(hol)) if hol else pd.DatetimeIndex([])
    return d.normalize().isin(hol_idx).reshape(dates.shape).astype(np.float32)


def calendar_features(dates: np.ndarray, freq: str, country: str | None = None) -> dict[str, np.ndarray]:
    """Calendar covariates for an array of period dates (any shape); weekly periods start on their date."""
    shape = dates.shape
    d = pd.DatetimeIndex(dates.ravel())
    out: dict[str, np.ndarray] = {}
    if freq == "D":
        dim = d.days_in_month.to_numpy()
        dom = d.day.to_numpy()
        out["dow"] = d.day_of_week.to_numpy()
        out["dom"] = dom
        out["month"] = d.month.to_numpy()
        out["woy"] = d.isocalendar().week.to_numpy().astype(int)
        out["month_end"] = (dom > dim - 3).astype(float)
        # Paydays: the 1st, the 15th and the last day of the month, when many salaries and benefits land.
        out["payday"] = ((dom == 1) | (dom == 15) | (dom == dim)).astype(float)
        hol = holiday_flags(dates, country).ravel()
        out["holiday"] = hol
        near = np.zeros_like(hol)
        if country:
            for k in (-2, -1, 1, 2):
                near = np.maximum(
                    near, holiday_flags((d + pd.Timedelta(days=k)).to_numpy().reshape(shape), country).ravel()
                )
        out["holiday_near"] = near
    else:
        end = d + pd.Timedelta(days=6)
        out["woy"] = d.isocalendar().week.to_numpy().astype(int)
        out["month"] = d.month.to_numpy()
        out["month_end"] = (end.month != d.month).astype(float)
        out["payday"] = ((end.month != d.month) | ((d.day <= 15) & (end.day >= 15))).astype(float)
        hol = np.zeros(len(d), dtype=np.float32)
        if country:
            for k in range(7):
                hol += holiday_flags((d + pd.Timedelta(days=k)).to_numpy().reshape(shape), country).ravel()
        out["holiday"] = hol
    return {k: np.asarray(v, dtype=np.float32).reshape(shape) for k, v in out.items()}


def time_index_features(spec: FeatureSpec, n_hist: int, freq: str) -> list[int]:
    """Columns of the yearly calendar features a history of `n_hist` periods cannot learn from.

    Under a year, week of year and month never come round again: in the history they only count time, and a
    horizon value was either never seen or seen only at the end of the history, so a tree model files the
    horizon with the weeks at one end of the history, whatever demand did then (a 100-day history that peaked
    in November and fell back forecast December 21% above its current level). With a year or more, every
    horizon period's week and month were seen a year earlier.
    """
    if n_hist >= YEAR[freq]:
        return []
    return [spec.index(c) for c in YEARLY_CALENDAR if c in spec.calendar]


def classify_covariates(frame: pd.DataFrame, columns: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Split covariate columns into prices (name mentions price), 0/1 flags and other numerics."""
    prices, flags, numerics = [], [], []
    for c in columns:
        v = pd.to_numeric(frame[c], errors="coerce").dropna().to_numpy()
        if "price" in c.lower():
            prices.append(c)
        elif len(v) and np.isin(v, (0.0, 1.0)).all():
            flags.append(c)
        else:
            numerics.append(c)
    return prices, flags, numerics


def price_features(price: np.ndarray, n_hist: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative price and discount depth per series from a (series, periods) price matrix.

    The reference (regular) price is the 90th percentile of the series' history prices, so a temporary
    markdown shows as a discount depth ``1 - price / reference`` and a permanent price change as a relative
    price away from 1.
    """
    hist = price[:, :n_hist]
    with np.errstate(all="ignore"):
        ref = np.nanpercentile(np.where(hist > 0, hist, np.nan), 90, axis=1)
        ref = np.where(np.isfinite(ref) & (ref > 0), ref, 1.0)[:, None]
        rel = np.where(price > 0, price / ref, 1.0)
        depth = np.clip(1.0 - rel, 0.0, 1.0)
    return rel.astype(np.float32), depth.astype(np.float32)


def event_periods(x: np.ndarray, spec: FeatureSpec, n_hist: int) -> np.ndarray:
    """(series, periods) True where an occasional driver is on: a promotion or holiday flag, a feature share,
    or a temporary price reduction of at least :data:`TPR_DEPTH`.

    A covariate counts as occasional when it is zero in at least half of the history: an "open" flag that is
    on nearly every day marks no event. Forecast errors are larger and shaped differently in such periods,
    so the intervals are calibrated for them and for ordinary periods separately.
    """
    out = np.zeros(x.shape[:2], dtype=bool)
    for name in spec.covariates:
        j = spec.index(name)
        if name.endswith("__depth"):
            out |= x[:, :, j] >= TPR_DEPTH
        elif name.endswith("__rel"):
            continue
        elif n_hist and (x[:, :n_hist, j] == 0).mean() >= 0.5:
            out |= x[:, :, j] > 0
    return out
