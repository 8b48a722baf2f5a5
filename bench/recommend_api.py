"""API latency under load: the recommendation endpoints against a no-op DRF endpoint on the same gunicorn server.

Run: .venv/bin/python bench/recommend_api.py [--seconds 8] [--rounds 5] [--connections 32] [--workers 2]
     DATABASE_URL=postgresql://postgres@127.0.0.1:5432/retailai_rc_bench .venv/bin/python bench/recommend_api.py

Seeds a scratch database (SQLite in a temporary folder, or the PostgreSQL database named in DATABASE_URL, which is
dropped and re-created) with the Online Retail sample that ships with the demo (Sept-Dec 2011: orders, products,
categories, suppliers, stock), trains a real recommendation run, then serves the app with gunicorn under
bench/api/settings.py: the product's URLs plus a no-op endpoint with the same token authentication, permission
and throttle classes. wrk drives each endpoint with 32 connections and a partner's token, cycling through many
customers, products and baskets so no single row stays hot. Target: p95 of each endpoint <= 1.5x the no-op's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "demo" / "data" / "online_retail_2011-09_2011-12.csv.gz"

LUA = """
local paths = {%(paths)s}
local bodies = {%(bodies)s}
local method = "%(method)s"
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
local n = 0
init = function(args)
  n = math.random(#paths)
end
request = function()
  n = n + 1
  local i = (n %% #paths) + 1
  if method == "POST" then
    return wrk.format("POST", paths[1], nil, bodies[(n %% #bodies) + 1])
  end
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _scratch_database(folder: Path) -> str:
    """Point Django at an empty database; returns a description of it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        os.environ["SQLITE_PATH"] = str(folder / "bench.sqlite3")
        return f"SQLite {folder / 'bench.sqlite3'}"
    import dj_database_url

    name = dj_database_url.parse(url)["NAME"]
    if name in ("retailai", "postgres"):
        raise SystemExit(f"refusing to drop {name}: point DATABASE_URL at a scratch database")
    from bench._data import recreate_postgres_database

    return recreate_postgres_database(url)


def seed(sample: Path, work: Path) -> dict:
    """Import the sample, master data and stock; train and activate a run; a channel partner with a token."""
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from inventory.models import Location
    from recommendations import services
    from recommendations.models import CustomerRecommendation, SimilarItem, SimilarKind
    from retailai.commerce.models import Channel, ChannelPartner
    from retailai.core.choices import Role
    from retailai.demo.generate import demo_master_data

    quiet = open(os.devnull, "w")  # noqa: SIM115
    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    web, _ = Channel.objects.get_or_create(code="web", defaults={"name": "Web shop", "kind": "web"})
    dc, _ = Location.objects.get_or_create(code="london-dc", defaults={"name": "London distribution centre"})
    dc.channels.add(web)
    call_command(
        "import_orders", str(sample), format="online-retail", channel="web", verbosity=0, stdout=quiet, stderr=quiet
    )
    for name, frame in demo_master_data(pd.read_csv(sample, dtype=str, keep_default_na=False)).items():
        frame.to_csv(work / f"{name}.csv", index=False)
    call_command("import_products", str(work / "products.csv"), verbosity=0, stdout=quiet, stderr=quiet)
    call_command("import_suppliers", str(work / "suppliers.csv"), verbosity=0, stdout=quiet, stderr=quiet)
    call_command("import_stock", str(work / "stock.csv"), verbosity=0, stdout=quiet, stderr=quiet)
    imported = time.perf_counter() - t
    t = time.perf_counter()
    run = services.recommendation_run_execute(run_id=services.recommendation_run_create().pk)
    trained = time.perf_counter() - t
    user, _ = get_user_model().objects.get_or_create(username="bench-channel")
    user.groups.set([Group.objects.get(name=Role.PARTNER)])
    ChannelPartner.objects.update_or_create(user=user, defaults={"channel": web})
    token, _ = Token.objects.get_or_create(user=user)
    customers = list(
        CustomerRecommendation.objects.filter(run=run, rank=1)
        .order_by("customer_id")
        .values_list("customer__external_id", flat=True)[:3000]
    )
    products = list(
        SimilarItem.objects.filter(run=run, rank=1, kind=SimilarKind.SIMILAR)
        .order_by("product_id")
        .values_list("product__sku", flat=True)[:3000]
    )
    pairs = list(
        SimilarItem.objects.filter(run=run, rank=1, kind=SimilarKind.TOGETHER)
        .order_by("product_id")
        .values_list("product__sku", "similar__sku")[:3000]
    )
    return {
        "run": run.pk,
        "token": token.key,
        "customers": customers,
        "products": products,
        "baskets": [[a, b] for a, b in pairs],
        "imported_s": imported,
        "trained_s": trained,
        "stored_lists": run.customers_total,
    }


def query_counts(seeded: dict) -> dict[str, int]:
    """Database queries one request of each endpoint makes (Django test client, same settings)."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {seeded['token']}")
    requests = {
        "no-op": lambda: client.get("/bench/noop/"),
        "customer": lambda: client.get(f"/api/recommendations/customers/{seeded['customers'][7]}/"),
        "similar": lambda: client.get(f"/api/recommendations/products/{seeded['products'][7]}/similar/"),
        "bought-together": lambda: client.post(
            "/api/recommendations/bought-together/", {"skus": seeded["baskets"][7]}, content_type="application/json"
        ),
    }
    out = {}
    for name, call in requests.items():
        call()  # warm: first-request imports and caches
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        out[name] = len(ctx.captured_queries)
    return out


def _lua(token: str, paths: list[str], bodies: list[str] | None = None) -> str:
    quote = lambda s: json.dumps(s)  # noqa: E731  (a JSON string is a valid Lua string literal here)
    return LUA % {
        "paths": ", ".join(quote(p) for p in paths),
        "bodies": ", ".join(quote(b) for b in (bodies or ['""'])),
        "method": "POST" if bodies else "GET",
        "token": token,
    }


def wrk(url: str, script: Path, seconds: int, connections: int, threads: int) -> dict:
    """One wrk run; latency percentiles in ms, requests per second and error counts."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    p50, p95, p99, n, dur_us, status, socket = (int(v) for v in line.split()[1:])
    return {"p50": p50 / 1e3, "p95": p95 / 1e3, "p99": p99 / 1e3, "rps": n / (dur_us / 1e6), "n": n,
            "non2xx": status, "socket": socket}  # fmt: skip


def _wait_up(url: str, token: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main(argv: list[str] | None = None) -> None:
    """Seed, serve with gunicorn, load every endpoint with wrk and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="measured seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over every endpoint (median reported)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="Online Retail CSV(.gz) to seed from")
    parser.add_argument("--reuse", type=Path, default=None, help="SQLite folder of an earlier run to serve again")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")

    folder = args.reuse or Path(tempfile.mkdtemp(prefix="retailai-api-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api.settings"
        os.environ["RECOMMENDATIONS_EVALUATE"] = "0"  # offline metrics are not what this measures
        os.environ.pop("REDIS_URL", None)  # tasks in process, per-process cache: nothing shared but the database
        marker = folder / "seeded.json"
        if args.reuse and marker.exists():
            os.environ["SQLITE_PATH"] = str(folder / "bench.sqlite3")
            db = f"SQLite {folder / 'bench.sqlite3'} (reused)"
            import django

            django.setup()
            seeded = json.loads(marker.read_text())
        else:
            db = _scratch_database(folder)
            import django

            django.setup()
            seeded = seed(args.sample, folder)
            marker.write_text(json.dumps(seeded))
        print(
            f"seeded {db} from {args.sample.name} in {seeded['imported_s']:.0f}s; recommendation run trained and "
            f"stored in {seeded['trained_s']:.0f}s ({seeded['stored_lists']} customer lists)"
        )
        counts = query_counts(seeded)
        print("queries per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        from django.db import connections

        connections.close_all()

        base = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "retailai.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
             "--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads),
             "--backlog", "2048", "--log-level", "warning", "--chdir", str(ROOT)],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api.settings"}, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        _wait_up(f"{base}/bench/noop/", seeded["token"])
        token = seeded["token"]
        c = seeded["customers"]
        scripts = {
            "no-op (same auth + permission)": _lua(token, ["/bench/noop/"]),
            "no-op (token + signed in only)": _lua(token, ["/bench/noop-plain/"]),
            "customer recommendations": _lua(token, [f"/api/recommendations/customers/{u}/" for u in c]),
            "similar items": _lua(token, [f"/api/recommendations/products/{s}/similar/" for s in seeded["products"]]),
            "bought-together (POST)": _lua(
                token, ["/api/recommendations/bought-together/"], [json.dumps({"skus": b}) for b in seeded["baskets"]]
            ),
        }
        paths = {}
        for name, lua in scripts.items():
            paths[name] = folder / f"{len(paths)}.lua"
            paths[name].write_text(lua)
            wrk(base, paths[name], 3, args.connections, 2)  # warm-up: connections, caches, lazy imports
        # Rounds in rotation, each endpoint's figures the median over rounds: on a shared machine the background
        # load drifts, and one long run per endpoint would compare endpoints measured under different loads.
        rounds: dict[str, list[dict]] = {name: [] for name in scripts}
        for _ in range(args.rounds):
            for name in scripts:
                rounds[name].append(wrk(base, paths[name], args.seconds, args.connections, 2))
        results = {
            name: {key: float(np.median([r[key] for r in runs])) for key in runs[0]} for name, runs in rounds.items()
        }
        for name, runs in rounds.items():
            for key in ("n", "non2xx", "socket"):
                results[name][key] = sum(r[key] for r in runs)
        print(
            f"\ngunicorn {args.workers} workers x {args.threads} threads (gthread), wrk 2 threads, "
            f"{args.connections} connections, {args.rounds} rounds x {args.seconds}s per endpoint (median of rounds), "
            "partner token auth"
        )
        print(f"{'endpoint':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'non-2xx':>9}{'p95 x':>8}")
        ref = results["no-op (same auth + permission)"]["p95"]
        for name, r in results.items():
            print(
                f"{name:<34}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}{r['rps']:>9.0f}"
                f"{r['non2xx'] + r['socket']:>9.0f}{r['p95'] / ref:>8.2f}"
            )
        worst = max(r["p95"] for n, r in results.items() if not n.startswith("no-op"))
        plain = results["no-op (token + signed in only)"]["p95"]
        print(f"worst endpoint p95 / no-op p95 (same auth + permission): {worst / ref:.2f}  (target <= 1.5)")
        print(f"worst endpoint p95 / no-op p95 (token + signed in only): {worst / plain:.2f}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if args.reuse is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
