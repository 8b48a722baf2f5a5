"""Fixtures of the commerce tests: small CSV files and a real slice of the Online Retail file."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from django.core.management import call_command

ONLINE_RETAIL = Path("uci_online_retail") / "online_retail_2010-12_2011-12.csv.gz"


@pytest.fixture
def csv_file(tmp_path):
    """write(name, text) -> path of a CSV file holding `text` (gzip-compressed when the name ends in .gz)."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        data = text.lstrip("\n").encode("utf-8")
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return write


@pytest.fixture
def retail_slice(shared_data, tmp_path) -> Path:
    """The header and first 1,999 rows of the UCI Online Retail file, as a plain CSV."""
    with gzip.open(shared_data / ONLINE_RETAIL, "rt", encoding="utf-8", newline="") as source:
        head = [next(source) for _ in range(2000)]
    path = tmp_path / "online_retail_head.csv"
    path.write_text("".join(head), encoding="utf-8")
    return path


@pytest.fixture
def run_command():
    """run_command(name, *args) -> what the command printed on stdout."""

    def run(name: str, *args) -> str:
        out = io.StringIO()
        call_command(name, *[str(a) for a in args], stdout=out, verbosity=0)
        return out.getvalue()

    return run
