"""A small TensorFlow two-tower model: a history tower against an item embedding table (opt-in)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommendations.engine.candidates import Candidate
from recommendations.engine.interactions import Interactions


@dataclass(frozen=True)
class TwoTowerConfig:
    """Sizes and training schedule; sized to train in a minute or two on two CPU cores."""

    dim: int = 64
    hidden: int = 128
    epochs: int = 40
    batch_size: int = 256
    learning_rate: float = 2e-3
    dropout: float = 0.3
    target_days: int = 30  # each training example: history before a split date → items bought in these days
    splits: int = 6  # how many split dates, every target_days back from the snapshot
    half_life_days: float = 120.0
    seed: int = 0


class TwoTower(Candidate):
    """User tower over the decayed purchase history, item tower an embedding; full softmax over items."""

    name = "two_tower"

    def __init__(self, config: TwoTowerConfig | None = None) -> None:
        self.config = config or TwoTowerConfig()

    def _history(self, inter: Interactions, before: pd.Timestamp) -> sp.csr_matrix:
        """Row-normalised decayed history of every user up to `before`."""
        p = inter.purchases
        p = p[p["timestamp"] < before]
        age = ((before - p["timestamp"]) / pd.Timedelta(days=1)).to_numpy()
        w = np.power(0.5, age / self.config.half_life_days).astype(np.float32)
        m = sp.csr_matrix((w, (p["u"], p["i"])), shape=(inter.n_users, inter.n_items))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        return (sp.diags(1.0 / np.maximum(norms, 1e-9)) @ m).tocsr().astype(np.float32)

    def fit(self, inter: Interactions, items: pd.DataFrame | None = None) -> TwoTower:
        """Train on (history before d, items bought in [d, d + target_days)) for a few split dates d."""
        super().fit(inter, items)
        import tensorflow as tf

        cfg = self.config
        tf.keras.utils.set_random_seed(cfg.seed)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(2)
        xs, ys = [], []
        p = inter.purchases
        for s in range(1, cfg.splits + 1):
            split = inter.as_of - pd.Timedelta(days=cfg.target_days * s)
            hist = self._history(inter, split)
            tgt = p[(p["timestamp"] >= split) & (p["timestamp"] < split + pd.Timedelta(days=cfg.target_days))]
            y = sp.csr_matrix(
                (np.ones(len(tgt), dtype=np.float32), (tgt["u"], tgt["i"])), shape=(inter.n_users, inter.n_items)
            )
            y.data[:] = 1.0
            rows = np.flatnonzero((np.diff(hist.indptr) > 0) & (np.diff(y.indptr) > 0))
            xs.append(hist[rows])
            ys.append(y[rows])
        self.model = None
        if not xs or sum(x.shape[0] for x in xs) < 50:
            return self
        x = sp.vstack(xs).toarray()
        y = sp.vstack(ys).toarray()
        y /= y.sum(axis=1, keepdims=True)

        inputs = tf.keras.Input(shape=(inter.n_items,))
        h = tf.keras.layers.Dropout(cfg.dropout)(inputs)
        h = tf.keras.layers.Dense(cfg.hidden, activation="tanh")(h)
        user = tf.keras.layers.Dense(cfg.dim)(h)
        logits = tf.keras.layers.Dense(inter.n_items, use_bias=True, name="items")(user)
        model = tf.keras.Model(inputs, logits)
        model.compile(
            optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
            loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        )
        model.fit(x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True, verbose=0)
        self.model = model
        self.serving_history = self._history(inter, inter.as_of)
        kernel, _ = model.get_layer("items").get_weights()
        self.item_vectors = kernel.T
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Softmax logits turned into probabilities for known users; zero for unknown ones."""
        s = np.zeros((len(rows), self.inter.n_items), dtype=np.float32)
        known = rows >= 0
        if self.model is None or not known.any():
            return s
        logits = self.model.predict(self.serving_history[rows[known]].toarray(), verbose=0, batch_size=1024)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        s[known] = e / e.sum(axis=1, keepdims=True)
        return s
