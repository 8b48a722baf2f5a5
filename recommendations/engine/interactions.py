"""Implicit feedback: purchase lines and behaviour events into a weighted sparse user × item matrix."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine.rules import is_non_merchandise

DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class InteractionConfig:
    """How purchase lines and behaviour events turn into implicit feedback weights."""

    half_life_days: float = 120.0
    event_weights: dict[str, float] = field(default_factory=lambda: {"purchase": 1.0, "cart": 0.3, "view": 0.1})
    drop_non_merchandise: bool = True


@dataclass
class Interactions:
    """A cleaned event log plus its weighted sparse user × item matrix and id maps."""

    events: pd.DataFrame  # user_id, item_id, timestamp, quantity, event, u, i (purchases and behaviour)
    matrix: sp.csr_matrix  # decayed, quantity-aware weights (float32)
    user_ids: np.ndarray
    item_ids: np.ndarray
    as_of: pd.Timestamp

    def __post_init__(self) -> None:
        self.user_index = {u: n for n, u in enumerate(self.user_ids)}
        self.item_index = {i: n for n, i in enumerate(self.item_ids)}

    @property
    def n_users(self) -> int:
        """Number of known users."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Number of known items."""
        return len(self.item_ids)

    @property
    def purchases(self) -> pd.DataFrame:
        """Purchase lines only (behaviour events left out)."""
        return self.events[self.events["event"] == "purchase"]

    def binary(self) -> sp.csr_matrix:
        """Bought-or-not matrix (purchases only), float32."""
        p = self.purchases
        m = sp.csr_matrix(
            (np.ones(len(p), dtype=np.float32), (p["u"].to_numpy(), p["i"].to_numpy())),
            shape=(self.n_users, self.n_items),
        )
        m.data[:] = 1.0
        return m

    def user_positions(self, user_ids) -> np.ndarray:
        """Row index of each user id, -1 for unknown users."""
        return np.array([self.user_index.get(u, -1) for u in user_ids], dtype=np.int64)


def clean_events(events: pd.DataFrame, config: InteractionConfig | None = None) -> pd.DataFrame:
    """Drop cancellations, returned purchases and non-merchandise lines; normalise column types."""
    config = config or InteractionConfig()
    df = events.copy()
    df["user_id"] = df["user_id"].astype(str)
    df["item_id"] = df["item_id"].astype(str)
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    df["quantity"] = pd.to_numeric(df["quantity"], errors="coerce").fillna(1.0) if "quantity" in df else 1.0
    df["event"] = df["event"].astype(str).str.lower() if "event" in df else "purchase"
    if config.drop_non_merchandise:
        df = df[~is_non_merchandise(df["item_id"])]
    df = df[df["event"].isin(list(config.event_weights))]
    purchases = df["event"] == "purchase"
    cancel = purchases & (df["quantity"] <= 0)
    if "invoice_id" in df:
        cancel |= df["invoice_id"].astype(str).str.upper().str.startswith("C")
    returns = df[cancel & purchases]
    df = df[~cancel]
    if len(returns):
        # A pair whose returns cancel everything bought is no evidence of liking the item.
        bought = df[df["event"] == "purchase"].groupby(["user_id", "item_id"])["quantity"].sum()
        returned = returns.groupby(["user_id", "item_id"])["quantity"].sum().abs()
        net = bought.sub(returned, fill_value=0.0)
        gone = net[net <= 0].index
        if len(gone):
            key = pd.MultiIndex.from_frame(df[["user_id", "item_id"]])
            df = df[~(key.isin(gone) & (df["event"] == "purchase").to_numpy())]
    return df[["user_id", "item_id", "timestamp", "quantity", "event"]].reset_index(drop=True)


def build_interactions(
    events: pd.DataFrame,
    config: InteractionConfig | None = None,
    as_of: pd.Timestamp | None = None,
    clean: bool = True,
    extra_items: list[str] | np.ndarray | None = None,
) -> Interactions:
    """Weighted user × item matrix: log quantity × event weight × recency half-life decay, up to `as_of`."""
    config = config or InteractionConfig()
    df = clean_events(events, config) if clean else events.copy()
    if as_of is not None:
        df = df[df["timestamp"] < as_of]
    as_of = pd.Timestamp(as_of) if as_of is not None else (df["timestamp"].max() + pd.Timedelta(seconds=1))
    if pd.isna(as_of):
        as_of = pd.Timestamp("1970-01-01")
    user_ids = np.array(sorted(df["user_id"].unique()), dtype=object)
    known = set(df["item_id"].unique())
    if extra_items is not None:
        known |= {str(i) for i in extra_items}
    item_ids = np.array(sorted(known), dtype=object)
    df["u"] = pd.Categorical(df["user_id"], categories=user_ids).codes.astype(np.int64)
    df["i"] = pd.Categorical(df["item_id"], categories=item_ids).codes.astype(np.int64)
    age_days = ((as_of - df["timestamp"]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    decay = np.power(0.5, np.clip(age_days, 0, None) / config.half_life_days)
    w_event = df["event"].map(config.event_weights).to_numpy(dtype=float)
    q = np.log1p(np.clip(df["quantity"].to_numpy(dtype=float), 0, None)) / np.log(2.0)
    q = np.where(df["event"].to_numpy() == "purchase", np.maximum(q, 1.0), 1.0)
    w = (w_event * decay * q).astype(np.float32)
    mat = sp.csr_matrix((w, (df["u"].to_numpy(), df["i"].to_numpy())), shape=(len(user_ids), len(item_ids)))
    mat.sum_duplicates()
    return Interactions(df.reset_index(drop=True), mat, user_ids, item_ids, as_of)
