"""Streaming CSV import machinery shared by every import: chunked reading, vectorised row checks, reports, rejects.

Pure pandas (no Django import): formats built on it can be run and tested offline.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

LINE = "_line"  # physical line number of each row (the header is line 1)
MAX_REPORTED = 20
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}
_INTEGER = r"[+-]?\d+"
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"  # a time with a UTC offset
ERROR_COLUMNS = [LINE, "column", "reason"]


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, not CSV, a required column absent)."""


@dataclass(frozen=True)
class RowError:
    """One problem of one row: where it is and why it is refused."""

    path: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: column {self.column}: {self.reason}"


@dataclass
class ErrorLog:
    """The first problems of a file and how many rows and problems there are in all."""

    path: str
    first: list[RowError] = field(default_factory=list)
    errors: int = 0
    bad_rows: int = 0

    def add(self, errors: pd.DataFrame) -> None:
        """Count one chunk's errors and keep the earliest ones for the report."""
        if errors.empty:
            return
        self.errors += len(errors)
        self.bad_rows += errors[LINE].nunique()
        room = MAX_REPORTED - len(self.first)
        if room > 0:
            head = errors.sort_values(LINE, kind="stable").head(room)
            self.first.extend(
                RowError(self.path, int(line), col, reason)
                for line, col, reason in head[ERROR_COLUMNS].itertuples(index=False)
            )

    def report(self) -> str:
        """The first errors, one per line, then the totals."""
        lines = [str(e) for e in self.first]
        if self.errors > len(self.first):
            lines.append(f"... and {self.errors - len(self.first)} more errors.")
        lines.append(f"{self.bad_rows} bad rows ({self.errors} errors) in {self.path}.")
        return "\n".join(lines)


class ImportRowsInvalid(Exception):
    """Some rows are bad and the import was asked to refuse the file rather than skip them."""

    def __init__(self, log: ErrorLog):
        super().__init__(log.report())
        self.log = log


def map_ids(rows: pd.DataFrame, column: str, known: dict, target: str, reason: str, *, optional: bool = False):
    """Map `column` through `known` into `target`; unknown values (empty ones too unless optional) become errors."""
    ids = rows[column].map(known)
    unknown = ids.isna() & ~((rows[column] == "") if optional else False)
    errors = pd.DataFrame({LINE: rows.loc[unknown, LINE], "column": column, "reason": reason})
    rows = rows[~unknown].copy()
    # An optional column keeps its empty values as missing ids, which only the nullable integer type can hold.
    rows[target] = ids[~unknown].astype("Int64" if optional else "int64")
    return rows, errors


def errors_frame(parts: Iterable[pd.DataFrame] = ()) -> pd.DataFrame:
    """Concatenate error frames (columns _line, column, reason), sorted by line."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({LINE: pd.Series(dtype="int64"), "column": pd.Series(dtype=str), "reason": []})
    return pd.concat(parts, ignore_index=True).sort_values(LINE, kind="stable", ignore_index=True)


class RowChecks:
    """Vectorised parsing and checking of the columns of one chunk; collects every problem found."""

    def __init__(self, chunk: pd.DataFrame):
        self.chunk = chunk
        self._parts: list[pd.DataFrame] = []
        self._bad = np.zeros(len(chunk), dtype=bool)

    def fail(self, mask, column: str, reason: str) -> None:
        """Record `reason` against `column` for every row where mask is true."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self._bad |= mask
        lines = self.chunk[LINE].to_numpy()[mask]
        self._parts.append(pd.DataFrame({LINE: lines, "column": column, "reason": reason}))

    @property
    def bad(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        return self._bad

    def errors(self) -> pd.DataFrame:
        """Every problem of the chunk, sorted by line."""
        return errors_frame(self._parts)

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> pd.Series:
        """The stripped text of a column ('' when the column is absent)."""
        if column not in self.chunk.columns:
            return pd.Series("", index=self.chunk.index, dtype=str)
        values = self.chunk[column].str.strip()
        if required:
            self.fail(values == "", column, "a value is required")
        if max_length is not None:
            self.fail(values.str.len() > max_length, column, f"longer than {max_length} characters")
        return values

    def integer(
        self, column: str, *, required: bool = True, minimum: int | None = None, default: int | None = None
    ) -> pd.Series:
        """A whole-number column as float64 (NaN where empty and not required)."""
        values = self.text(column)
        empty = values == ""
        if required:
            self.fail(empty, column, "a value is required")
        well_formed = values.str.fullmatch(_INTEGER)
        self.fail(~empty & ~well_formed, column, "not a whole number")
        numbers = pd.to_numeric(values.where(well_formed & ~empty), errors="coerce").astype("float64")
        if minimum is not None:
            self.fail(numbers < minimum, column, f"must be at least {minimum}")
        self.fail(numbers.abs() >= 2**31, column, "out of range")
        if default is not None:
            numbers = numbers.fillna(default)
        return numbers

    def decimal(
        self,
        column: str,
        *,
        required: bool = True,
        minimum: float | None = None,
        limit: float = 1e8,
        default: float | None = None,
    ) -> pd.Series:
        """A decimal column as float64 (NaN where empty and not required); |value| must stay below `limit`."""
        values = self.text(column)
        empty = values == ""
        if required:
            self.fail(empty, column, "a value is required")
        numbers = pd.to_numeric(values.where(~empty), errors="coerce").astype("float64")
        finite = np.isfinite(numbers.to_numpy())
        self.fail(~empty & ~finite, column, "not a number")
        if minimum is not None:
            self.fail(numbers < minimum, column, f"must be at least {minimum:g}")
        self.fail(numbers.abs() >= limit, column, "out of range")
        if default is not None:
            numbers = numbers.fillna(default)
        return numbers.where(finite | empty)

    def timestamp(self, column: str, *, tz: str, fmt: str = "ISO8601", required: bool = True) -> pd.Series:
        """A date-time column as UTC timestamps; naive values are local times of `tz`."""
        values = self.text(column)
        empty = values == ""
        if required:
            self.fail(empty, column, "a value is required")
        with_offset = values.str.contains(_OFFSET, regex=True) & (fmt == "ISO8601")
        naive = pd.to_datetime(values.where(~empty & ~with_offset), format=fmt, errors="coerce")
        naive = naive.astype("datetime64[us]")
        # Ambiguous autumn hours take the first (summer-time) reading, like zoneinfo's fold=0.
        local = naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
        parsed = local.dt.tz_convert("UTC")
        if with_offset.any():
            aware = pd.to_datetime(values.where(with_offset), format=fmt, errors="coerce", utc=True)
            parsed = parsed.where(~with_offset, aware.astype("datetime64[us, UTC]"))
        self.fail(~empty & parsed.isna(), column, "not a valid date and time")
        return parsed

    def date(self, column: str, *, required: bool = True) -> pd.Series:
        """A calendar-date column (YYYY-MM-DD) as midnight timestamps (NaT where empty and not required)."""
        values = self.text(column)
        empty = values == ""
        if required:
            self.fail(empty, column, "a value is required")
        well_formed = values.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        parsed = pd.to_datetime(values.where(~empty & well_formed), format="%Y-%m-%d", errors="coerce")
        self.fail(~empty & parsed.isna(), column, "not a valid date (YYYY-MM-DD)")
        return parsed

    def matches(
        self, column: str, pattern: str, reason: str, *, required: bool = False, default: str = ""
    ) -> pd.Series:
        """A text column whose non-empty values must match a regular expression; empty means `default`."""
        values = self.text(column, required=required)
        empty = values == ""
        self.fail(~empty & ~values.str.fullmatch(pattern), column, reason)
        return values.where(~empty, default)

    def choice(self, column: str, allowed: Sequence[str], *, default: str) -> pd.Series:
        """A column restricted to `allowed` values (case-insensitive); empty means `default`."""
        values = self.text(column).str.lower()
        values = values.where(values != "", default)
        self.fail(~values.isin(list(allowed)), column, f"must be one of {', '.join(allowed)}")
        return values

    def boolean(self, column: str, *, default: bool) -> pd.Series:
        """A yes/no column (1/0, true/false, yes/no, y/n, t/f); empty means `default`."""
        values = self.text(column).str.lower()
        truthy, falsy = values.isin(_TRUE), values.isin(_FALSE)
        self.fail(~truthy & ~falsy & (values != ""), column, "must be true or false")
        return pd.Series(np.where(values == "", default, truthy), index=values.index, dtype=bool)

    def unique(self, columns: list[str], key: pd.DataFrame, reason: str) -> None:
        """Refuse rows whose key repeats an earlier row of the same chunk."""
        self.fail(key.duplicated(keep="first").to_numpy(), columns[-1], reason)


class RowFormat:
    """A file layout: its columns and how a chunk becomes clean typed rows. Subclasses may keep state per pass."""

    name = ""
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def start(self) -> None:
        """Reset any state carried from chunk to chunk; called before each pass over the file."""

    def prepare(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return (clean rows of the good lines, with a _line column; errors frame)."""
        raise NotImplementedError


def _open_binary(path: Path):
    """Open a plain or gzip-compressed file; returns (text handle, raw handle)."""
    raw = open(path, "rb")  # closed by the caller
    magic = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8", newline=""), raw


class CsvSource:
    """A CSV or CSV.GZ file read in chunks of strings, each row tagged with its physical line number."""

    def __init__(self, path: str | Path, *, chunk_size: int = 50_000, label: str | None = None):
        self.path = Path(path)
        self.label = label or str(path)
        self.chunk_size = max(1, int(chunk_size))
        self.size = 0
        self.position = 0

    def header(self) -> list[str]:
        """The column names of the first line."""
        if not self.path.is_file():
            raise ImportFileError(f"{self.label}: no such file")
        handle, raw = _open_binary(self.path)
        try:
            row = next(csv.reader(handle), None)
        except (UnicodeDecodeError, OSError, csv.Error) as exc:
            raise ImportFileError(f"{self.label}:1: cannot read the header: {exc}") from None
        finally:
            raw.close()
        if not row:
            raise ImportFileError(f"{self.label}:1: the file is empty (a header line is required)")
        return [c.strip() for c in row]

    def check_columns(self, fmt: RowFormat) -> list[str]:
        """Refuse a file that lacks a required column; returns the header."""
        header = self.header()
        missing = [c for c in fmt.required if c not in header]
        if missing:
            raise ImportFileError(
                "\n".join(
                    f"{self.label}:1: column {c}: missing column (the header has {', '.join(header)})" for c in missing
                )
            )
        return header

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the rows chunk by chunk as strings; memory stays that of one chunk."""
        self.size = self.path.stat().st_size or 1
        handle, raw = _open_binary(self.path)
        next_line = 2
        try:
            reader = pd.read_csv(
                handle,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                chunksize=self.chunk_size,
            )
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                chunk[LINE] = np.arange(next_line, next_line + len(chunk), dtype="int64")
                chunk.index = pd.RangeIndex(len(chunk))
                next_line += len(chunk)
                self.position = raw.tell()
                yield chunk
        except pd.errors.ParserError as exc:
            match = re.search(r"line (\d+)", str(exc))
            where = f"{self.label}:{match.group(1)}" if match else self.label
            raise ImportFileError(f"{where}: malformed CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{self.label}: not UTF-8 text ({exc})") from None
        except (OSError, EOFError) as exc:
            raise ImportFileError(f"{self.label}: cannot read the file ({exc})") from None
        finally:
            raw.close()


class RejectsWriter:
    """Appends refused rows, with their original columns and a reason column, to a CSV file."""

    def __init__(self, path: str | Path, header: list[str]):
        self.path = Path(path)
        self.header = [c for c in header if c != LINE]
        self.rows = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerow([*self.header, "reason"])

    def write(self, chunk: pd.DataFrame, errors: pd.DataFrame) -> None:
        """Write the chunk's rows named in `errors`, each once, with every reason joined."""
        if errors.empty:
            return
        reasons = (
            ("column " + errors["column"] + ": " + errors["reason"]).groupby(errors[LINE], sort=True).agg("; ".join)
        )
        bad = chunk[chunk[LINE].isin(reasons.index)]
        out = bad.reindex(columns=self.header, fill_value="")
        out["reason"] = bad[LINE].map(reasons).to_numpy()
        out.to_csv(self.path, mode="a", header=False, index=False)
        self.rows += len(out)
