"""recommend_csv: the CSV contract, bad input, atomic output, determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path, shop):
    events, items = shop
    events = events.assign(timestamp=events["timestamp"].dt.strftime("%Y-%m-%d"))
    events.loc[0, "user_id"] = "00418683"  # a numeric-looking id must keep its zeros
    events.to_csv(tmp_path / "i.csv", index=False)
    pd.DataFrame({"user_id": ["00418683", "c10", "brand-new"]}).to_csv(tmp_path / "u.csv", index=False)
    items.to_csv(tmp_path / "items.csv", index=False)
    return tmp_path


def run(files: Path, *extra: str, output: str = "r.csv") -> pd.DataFrame:
    call_command(
        "recommend_csv",
        "--interactions", str(files / "i.csv"),
        "--users", str(files / "u.csv"),
        "--items", str(files / "items.csv"),
        "--output", str(files / output),
        *extra,
    )  # fmt: skip
    return pd.read_csv(files / output, dtype={"user_id": str, "item_id": str})


def test_writes_k_rows_per_user_with_string_ids(files):
    out = run(files, "--k", "4")
    assert list(out.columns) == ["user_id", "rank", "item_id", "score"]
    assert out["user_id"].tolist() == ["00418683"] * 4 + ["c10"] * 4 + ["brand-new"] * 4
    assert out["rank"].tolist() == [1, 2, 3, 4] * 3
    assert (out.groupby("user_id")["score"].diff().dropna() <= 0).all()
    assert not out["item_id"].isin(["POST"]).any()
    assert not list(files.glob(".r.csv.*"))  # no temporary file left


def test_deterministic_and_exclude_seen(files):
    first = run(files, "--k", "3", "--seed", "7")
    second = run(files, "--k", "3", "--seed", "7", output="r2.csv")
    pd.testing.assert_frame_equal(first, second)
    unseen = run(files, "--k", "3", "--exclude-seen", output="r3.csv")
    assert not unseen[unseen["user_id"] == "c10"]["item_id"].isin(["CANDLE1", "CANDLE2"]).any()


def test_bad_timestamp_names_file_row_and_column_and_writes_nothing(files):
    bad = pd.read_csv(files / "i.csv", dtype=str)
    bad.loc[4, "timestamp"] = "yesterday"
    bad.to_csv(files / "i.csv", index=False)
    with pytest.raises(CommandError, match=r"i\.csv: row 5 \(line 6\), column timestamp: not an ISO date"):
        run(files, "--k", "3")
    assert not (files / "r.csv").exists()
    assert list(files.glob("*.tmp")) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: (f / "u.csv").write_text("user\na\n"), r"u\.csv: row 0 \(header\), column user_id"),
        (lambda f: (f / "i.csv").write_text("user_id,item_id,timestamp,quantity\na,X,2024-01-01,two\n"),
         r"i\.csv: row 1 \(line 2\), column quantity: not a number"),
        (lambda f: (f / "i.csv").write_text("user_id,item_id,timestamp\n,X,2024-01-01\n"),
         r"i\.csv: row 1 \(line 2\), column user_id: empty id"),
    ],
)  # fmt: skip
def test_bad_input_is_refused(files, change, message):
    change(files)
    with pytest.raises(CommandError, match=message):
        run(files, "--k", "3")
    assert not (files / "r.csv").exists()


def test_command_line_exit_code_and_one_line(files):
    cmd = [sys.executable, "manage.py", "recommend_csv", "--interactions", str(files / "i.csv"),
           "--users", str(files / "u.csv"), "--k", "0", "--output", str(files / "r.csv")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0
    assert "--k" in proc.stderr
    assert not (files / "r.csv").exists()
