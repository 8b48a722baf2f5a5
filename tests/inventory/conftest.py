"""Fixtures of the inventory tests: the CSV and command helpers of the commerce tests."""

from tests.commerce.conftest import csv_file, run_command  # noqa: F401
