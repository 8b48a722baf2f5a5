"""Recommendation speed on Online Retail: training time, and scoring every customer vs one numpy matmul.

Run: .venv/bin/python bench/recommend_speed.py [--repeats 3] [--no-api] [--api-seconds 8]
The reference is a dense float32 (customers × items) @ (items × items) product: what any item-to-item
model costs to turn every history into a full score matrix. The target is a blend scoring time <= 2x it.
Then bench/recommend_api.py: API latency under load (gunicorn + wrk, 32 connections) against a no-op endpoint.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recommend_quality import load_online_retail  # noqa: E402
from recommendations.engine.blend import BlendConfig, fit_blend  # noqa: E402
from recommendations.engine.interactions import clean_events  # noqa: E402


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of `repeats` calls (seconds)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    """Time fitting, per-candidate scoring, the full blend scoring, and the reference matmul."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cut", default="2011-12-10")
    parser.add_argument("--no-api", action="store_true", help="skip the API load test")
    parser.add_argument("--api-seconds", type=int, default=8, help="seconds per endpoint and round of the load test")
    args = parser.parse_args()
    events, items = load_online_retail()
    cut = pd.Timestamp(args.cut)
    train = clean_events(events[events["timestamp"] < cut])

    t = time.perf_counter()
    blend = fit_blend(train, items, BlendConfig(), as_of=cut)
    fit_s = time.perf_counter() - t
    cs = blend.candidates
    users = cs.inter.user_ids
    print(f"Online Retail up to {cut:%Y-%m-%d}: {len(users)} customers x {cs.inter.n_items} items")
    print(f"training (ranker on the last 30 days + every candidate, fitted twice): {fit_s:.1f}s")
    for name, model in cs.models.items():
        t = time.perf_counter()
        model.fit(cs.inter, items)
        print(f"  fit {name:<18} {time.perf_counter() - t:6.2f}s")

    rows = np.arange(len(users))
    for name, model in cs.models.items():
        s = best_of(lambda m=model: [m.score(rows[i : i + 512]) for i in range(0, len(rows), 512)], args.repeats)
        print(f"  score all customers, {name:<18} {s:6.2f}s")
    rng = np.random.default_rng(0)
    a = rng.random((len(users), cs.inter.n_items), dtype=np.float32)
    b = rng.random((cs.inter.n_items, cs.inter.n_items), dtype=np.float32)
    # Interleaved, best of each: the machine's background load drifts between the two otherwise.
    blend_t, ref_t = [], []
    for _ in range(args.repeats):
        blend_t.append(best_of(lambda: blend.score_frame(users), 1))
        ref_t.append(best_of(lambda: a @ b, 1))
    blend_s, ref_s = min(blend_t), min(ref_t)
    rows = len(blend.score_frame(users[:512])) * len(users) / 512
    print(
        f"blend: score every customer (pool, features, ranker on ~{rows / len(users):.0f} items each, "
        f"{blend.config.threads} threads): {blend_s:.2f}s"
    )
    n = cs.inter.n_items
    print(f"numpy reference ({len(users)}x{n} @ {n}x{n} float32 matmul, BLAS threads): {ref_s:.2f}s")
    print(f"ratio blend / matmul: {blend_s / ref_s:.2f}  (target <= 2.0)")
    if not args.no_api:
        print("\nAPI latency under load (bench/recommend_api.py)", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "recommend_api.py"), "--seconds", str(args.api_seconds)], check=True
        )


if __name__ == "__main__":
    main()
