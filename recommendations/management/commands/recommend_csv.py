"""recommend_csv: the recommendation engine on plain CSV files (no database, no network)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from recommendations.engine.pipeline import RecommendConfig, recommend


def _read(path: str, required: tuple[str, ...], label: str) -> pd.DataFrame:
    """Read a CSV as text, checking the required columns exist."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"{path}: row 0 (header), column -: file not found ({label})")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CommandError(f"{path}: row 0 (header), column -: unreadable CSV ({str(exc).splitlines()[0]})")
    df.columns = [str(c).strip() for c in df.columns]
    for col in required:
        if col not in df.columns:
            raise CommandError(f"{path}: row 0 (header), column {col}: missing required column")
    return df


def _fail(path: str, mask: pd.Series, col: str, df: pd.DataFrame, what: str) -> None:
    """Raise naming the first bad data row (1-based, header excluded) and its file line."""
    bad = np.flatnonzero(mask.to_numpy())
    if len(bad):
        n = int(bad[0])
        value = str(df[col].iloc[n])[:40]
        raise CommandError(f"{path}: row {n + 1} (line {n + 2}), column {col}: {what} (got {value!r})")


def load_interactions(path: str) -> pd.DataFrame:
    """`user_id,item_id,timestamp[,quantity]`, validated; ids stay text."""
    df = _read(path, ("user_id", "item_id", "timestamp"), "interactions")
    for col in ("user_id", "item_id"):
        df[col] = df[col].str.strip()
        _fail(path, df[col] == "", col, df, "empty id")
    ts = pd.to_datetime(df["timestamp"].str.strip(), errors="coerce", format="ISO8601")
    _fail(path, ts.isna(), "timestamp", df, "not an ISO date or datetime")
    out = pd.DataFrame({"user_id": df["user_id"], "item_id": df["item_id"], "timestamp": ts})
    if "quantity" in df:
        raw = df["quantity"].str.strip()
        q = pd.to_numeric(raw.replace("", "1"), errors="coerce")
        _fail(path, q.isna() | ~np.isfinite(q.fillna(0.0)), "quantity", df, "not a number")
        out["quantity"] = q.astype(float)
    for col in ("event", "invoice_id"):
        if col in df:
            out[col] = df[col]
    return out


def load_users(path: str) -> pd.DataFrame:
    """`user_id[, ...]`, validated; order kept, duplicates dropped."""
    df = _read(path, ("user_id",), "users")
    df["user_id"] = df["user_id"].str.strip()
    _fail(path, df["user_id"] == "", "user_id", df, "empty id")
    return df.drop_duplicates("user_id").reset_index(drop=True)


def load_items(path: str) -> pd.DataFrame:
    """`item_id[, attribute...]`, validated; numeric attributes stay as given."""
    df = _read(path, ("item_id",), "items")
    df["item_id"] = df["item_id"].str.strip()
    _fail(path, df["item_id"] == "", "item_id", df, "empty id")
    for col in ("stock", "price", "margin", "overstock"):
        if col in df:
            raw = df[col].str.strip()
            v = pd.to_numeric(raw.where(raw != "", None), errors="coerce")
            _fail(path, v.isna() & (raw != ""), col, df, "not a number")
    return df.drop_duplicates("item_id").reset_index(drop=True)


def write_atomic(frame: pd.DataFrame, path: str) -> None:
    """Write to a temporary file in the target folder, then rename over the target."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False, float_format="%.8g")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Command(BaseCommand):
    help = "Recommend k items per user from interaction CSVs (see CONTRACTS.md, recommend_csv)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Argument errors (unknown flag, bad number) become one line on stderr and a non-zero exit."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:
            sys.stderr.write(f"recommend_csv: command line, row -, column -: {message}\n")
            sys.exit(2)

        parser.error = one_line_error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--interactions", required=True, help="user_id,item_id,timestamp[,quantity]")
        parser.add_argument("--users", required=True, help="user_id: the users to recommend for")
        parser.add_argument("--k", type=int, required=True, help="items per user (>= 1)")
        parser.add_argument("--output", required=True, help="user_id,rank,item_id,score")
        parser.add_argument("--items", help="item_id[,category,description,price,stock,...]")
        parser.add_argument("--exclude-seen", action="store_true", help="never recommend an item a user bought")
        parser.add_argument("--seed", type=int, default=0)

    def progress(self, message: str) -> None:
        """One progress line on stderr."""
        self.stderr.write(f"recommend_csv: {message}")

    def handle(self, *args, **options):
        k = options["k"]
        if k < 1:
            raise CommandError(f"command line, row -, column --k: must be at least 1 (got {k})")
        inter = load_interactions(options["interactions"])
        users = load_users(options["users"])
        items = load_items(options["items"]) if options["items"] else None
        self.progress(
            f"{len(inter)} interactions, {inter['user_id'].nunique()} users, {inter['item_id'].nunique()} items; "
            f"{len(users)} users to score"
        )
        config = RecommendConfig(k=k, exclude_seen=options["exclude_seen"], seed=options["seed"])
        result = recommend(inter, users, items, config)
        self.progress(f"ranker: {result.ranker}; as of {result.as_of:%Y-%m-%d %H:%M}")
        out = result.recommendations[["user_id", "rank", "item_id", "score"]]
        write_atomic(out, options["output"])
        self.progress(f"wrote {len(out)} rows to {options['output']}")
        if options["verbosity"] > 1:
            self.stdout.write(f"{len(out)} rows")
