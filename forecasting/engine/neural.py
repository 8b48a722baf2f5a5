"""A small global TensorFlow sequence model: an LSTM over windows of all series with pinball-loss quantiles."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from forecasting.engine.models import LSTMConfig, Model, MovingAverage, fill_gaps
from forecasting.engine.panel import LONG_WINDOW

QUANTILES = (0.1, 0.5, 0.9)


def _windows(y: np.ndarray, x: np.ndarray, origins: np.ndarray, window: int, horizon: int, seen: np.ndarray):
    """Scaled input windows, future covariates, targets and levels for forecasts made at each origin column.

    Inputs come from `seen` (the history with its gaps filled), targets from `y` (gaps stay NaN).
    """
    n = y.shape[0]
    w2 = LONG_WINDOW["D"] if window >= 28 else 4
    seqs, futs, tgts, levels = [], [], [], []
    for o in origins:
        past = seen[:, max(o - window, 0) : o]
        if past.shape[1] < window:
            past = np.pad(past, ((0, 0), (window - past.shape[1], 0)), constant_values=np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # windows before a series started are all NaN
            level = np.nanmean(past[:, -w2:], axis=1)
        level = np.where(np.isfinite(level) & (level > 0), level, 1.0)
        xs = x[:, max(o - window, 0) : o]
        if xs.shape[1] < window:
            xs = np.pad(xs, ((0, 0), (window - xs.shape[1], 0), (0, 0)))
        seq = np.concatenate([np.nan_to_num(past / level[:, None])[..., None], xs], axis=-1)
        fut = x[:, o : o + horizon].reshape(n, -1)
        tgt = y[:, o : o + horizon] if o + horizon <= y.shape[1] else np.full((n, horizon), np.nan)
        seqs.append(seq)
        futs.append(fut)
        tgts.append(tgt / level[:, None])
        levels.append(level)
    return (np.concatenate(seqs), np.concatenate(futs), np.concatenate(tgts), np.concatenate(levels))


@dataclass
class GlobalLSTM(Model):
    """One LSTM for all series: past window of demand / level and covariates -> horizon x (q10, q50, q90)."""

    name: str = "lstm"
    config: LSTMConfig = field(default_factory=LSTMConfig)
    horizon: int = 28

    def fit(self, history, covariates=None):
        import tensorflow as tf

        c = self.config
        tf.keras.utils.set_random_seed(self.seed)
        tf.config.threading.set_intra_op_parallelism_threads(c.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        self.history_, self.covariates_ = history, covariates
        y = history
        x = covariates if covariates is not None else np.zeros(y.shape + (0,), dtype=np.float32)
        self.mu_ = x.reshape(-1, x.shape[-1]).mean(axis=0) if x.shape[-1] else np.zeros(0)
        self.sd_ = x.reshape(-1, x.shape[-1]).std(axis=0) + 1e-6 if x.shape[-1] else np.zeros(0)
        xz = ((x - self.mu_) / self.sd_).astype(np.float32)
        # Short (weekly) histories get a shorter window so that some training windows exist at all.
        h = self.horizon
        w = self.window_ = int(min(c.window, max(8, (y.shape[1] - h) // 2)))
        last = y.shape[1] - h
        rng = np.random.default_rng(self.seed)
        cand = np.arange(w, last + 1)
        if len(cand) == 0:
            self.model_ = None
            return self
        per = max(c.max_windows // max(y.shape[0], 1), 1)
        origins = np.sort(rng.choice(cand, size=min(per, len(cand)), replace=False))
        seq, fut, tgt, _ = _windows(y, xz, origins, w, h, fill_gaps(y, self.freq))
        ok = ~np.isnan(tgt).any(axis=1) & (np.abs(seq[:, :, 0]).sum(axis=1) > 0)
        seq, fut, tgt = seq[ok], fut[ok], np.clip(tgt[ok], 0, 20)
        if len(seq) < 32:
            self.model_ = None
            return self
        q = tf.constant(QUANTILES, dtype=tf.float32)

        def pinball(y_true, y_pred):
            e = y_true[:, :, None] - y_pred
            return tf.reduce_mean(tf.maximum(q * e, (q - 1.0) * e))

        s_in = tf.keras.Input(shape=seq.shape[1:])
        f_in = tf.keras.Input(shape=fut.shape[1:])
        z = tf.keras.layers.LSTM(c.units)(s_in)
        z = tf.keras.layers.Concatenate()([z, f_in])
        z = tf.keras.layers.Dense(2 * c.units, activation="relu")(z)
        out = tf.keras.layers.Dense(h * len(QUANTILES))(z)
        base = tf.keras.layers.Reshape((h, len(QUANTILES)))(out)
        # Cumulative softplus increments keep the three quantiles ordered.
        ops = tf.keras.ops
        lo = base[:, :, :1]
        inc = ops.softplus(base[:, :, 1:])
        qs = ops.concatenate([lo, lo + ops.cumsum(inc, axis=-1)], axis=-1)
        model = tf.keras.Model([s_in, f_in], qs)
        model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss=pinball)
        model.fit([seq, fut], tgt.astype(np.float32), epochs=c.epochs, batch_size=c.batch_size, verbose=0, shuffle=True)
        self.model_ = model
        return self

    def point(self, horizon, future_covariates=None):
        y = self.history_
        if getattr(self, "model_", None) is None:
            return MovingAverage(freq=self.freq).fit(y).point(horizon)
        x = self.covariates_ if self.covariates_ is not None else np.zeros(y.shape + (0,), dtype=np.float32)
        fc = future_covariates if future_covariates is not None else np.repeat(x[:, -1:], horizon, axis=1)
        xz = ((np.concatenate([x, fc], axis=1) - self.mu_) / self.sd_).astype(np.float32)
        pad = np.full((y.shape[0], horizon), np.nan)
        ahead, seen = np.concatenate([y, pad], axis=1), np.concatenate([fill_gaps(y, self.freq), pad], axis=1)
        seq, fut, _, level = _windows(ahead, xz, np.array([y.shape[1]]), self.window_, horizon, seen)
        pred = self.model_.predict([seq, fut], verbose=0, batch_size=1024)
        return np.clip(pred[:, :, 1], 0, None) * level[:, None]
