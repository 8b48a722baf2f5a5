"""The one driver every CSV import runs on: check the file, then write it in one transaction under a JobRun.

An import is an Importer (a row format, optional database checks, a writer and a dry-run planner) handed
to import_file() with the user's options. Without skip_invalid the whole file is checked first and a single
bad row refuses the file with nothing written; with it, bad rows go to a rejects CSV and the rest is imported.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from django.db import transaction
from tqdm import tqdm

from retailai.core.jobs import run_tracked
from retailai.core.services import job_run_create

from .framework import CsvSource, ErrorLog, ImportRowsInvalid, RejectsWriter, RowFormat, errors_frame


@dataclass(frozen=True)
class ImportOptions:
    """What the user asked for: file, chunking, dry run, skipping bad rows and where their rejects go."""

    path: str
    chunk_size: int = 50_000
    dry_run: bool = False
    skip_invalid: bool = False
    rejects_path: str | None = None
    show_progress: bool = True
    user: Any = None

    @property
    def rejects(self) -> str:
        """The rejects file: as given, or FILE.rejects.csv next to the input."""
        return self.rejects_path or f"{self.path}.rejects.csv"


@dataclass
class ImportOutcome:
    """Row counts of one import and, per table, how many rows it created (or would create, on a dry run)."""

    path: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    created: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    rejects_path: str | None = None
    job_run_id: int | None = None

    def metrics(self) -> dict:
        """The outcome as JSON-ready metrics of the JobRun."""
        return asdict(self)


class Importer:
    """One kind of import: its format, the database checks of its rows, its writes and its dry-run count."""

    kind = ""
    fmt: RowFormat

    expected_rows: int | None = None  # good rows found by the check pass, when there was one
    spill = False  # keep the checked rows on disk so that the write pass does not parse the file again

    def parameters(self) -> dict:
        """Extra JobRun parameters describing this import."""
        return {}

    def check(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Refuse rows that the database rejects (unknown SKU, ...); returns (good rows, errors). Reads only."""
        return rows, errors_frame()

    def counts(self) -> dict[str, int]:
        """Row counts of the tables the import writes (compared before and after to report what was created)."""
        return {}

    def begin(self) -> None:
        """Called inside the transaction before the first chunk."""

    def write(self, rows: pd.DataFrame) -> None:
        """Write one chunk of good rows."""
        raise NotImplementedError

    def finish(self) -> None:
        """Called inside the transaction after the last chunk."""

    def plan(self, rows: pd.DataFrame) -> None:
        """Dry run: account for one chunk of good rows without writing."""

    def planned(self) -> dict[str, int]:
        """Dry run: rows that would be created, per table."""
        return {}

    def stats(self) -> dict[str, int]:
        """Extra counts kept by the writer (changes that are not new rows)."""
        return {}


class RowSpill:
    """The good rows of the check pass in a temporary Arrow stream file, read back chunk by chunk when writing."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="retailai-import-")
        self.path = Path(self._dir.name) / "rows.arrows"
        self._writer = None
        self._schema = None
        self.chunks = 0
        self.rows_read = 0

    def add(self, rows: pd.DataFrame) -> None:
        """Append one chunk of good rows."""
        if rows.empty:
            return
        table = pa.Table.from_pandas(rows, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            options = pa.ipc.IpcWriteOptions(compression="lz4")
            self._writer = pa.ipc.new_stream(str(self.path), self._schema, options=options)
        self._writer.write_table(table.cast(self._schema))
        self.chunks += 1

    def __iter__(self):
        """The chunks, in file order."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self.chunks:
            return
        with pa.ipc.open_stream(str(self.path)) as reader:
            for batch in reader:
                yield batch.to_pandas()

    def close(self) -> None:
        """Delete the file."""
        if self._writer is not None:
            self._writer.close()
        self._dir.cleanup()


def _bar(source: CsvSource, options: ImportOptions, desc: str) -> tqdm:
    """A progress bar on stderr over the bytes of the file."""
    return tqdm(
        total=source.path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=desc,
        file=sys.stderr,
        disable=not options.show_progress,
        leave=False,
    )


def _chunks(source: CsvSource, importer: Importer, options: ImportOptions, desc: str, progress=None):
    """Yield (raw chunk, good rows, errors) for the whole file, advancing the bar and the JobRun progress."""
    importer.fmt.start()
    with _bar(source, options, desc) as bar:
        done = 0
        for chunk in source.chunks():
            rows, errors = importer.fmt.prepare(chunk)
            rows, refused = importer.check(rows)
            yield chunk, rows, errors_frame([errors, refused])
            bar.update(source.position - done)
            done = source.position
            if progress is not None:
                progress(100.0 * done / max(source.size, 1), f"{desc} {source.label}")


def _scan(
    source: CsvSource, importer: Importer, options: ImportOptions, spill: RowSpill | None = None
) -> ImportOutcome:
    """Check the whole file (and, on a dry run, count what would be created) without writing anything."""
    outcome = ImportOutcome(path=source.label, dry_run=options.dry_run)
    log = ErrorLog(source.label)
    for chunk, rows, errors in _chunks(source, importer, options, "checking"):
        log.add(errors)
        outcome.rows_read += len(chunk)
        outcome.rows_imported += len(rows)
        if options.dry_run:
            importer.plan(rows)
        elif spill is not None and log.bad_rows == 0:
            spill.add(rows)
    if spill is not None:
        spill.rows_read = outcome.rows_read
    outcome.rows_rejected = log.bad_rows
    if log.bad_rows and not options.skip_invalid:
        raise ImportRowsInvalid(log)
    outcome.created = importer.planned()
    return outcome


def _load_checked(spill: RowSpill, importer: Importer, options: ImportOptions, label: str, progress) -> int:
    """Write the rows kept by the check pass; returns how many."""
    written = 0
    with tqdm(
        total=spill.chunks,
        unit="chunk",
        desc="importing",
        file=sys.stderr,
        disable=not options.show_progress,
        leave=False,
    ) as bar:
        for rows in spill:
            importer.write(rows)
            written += len(rows)
            bar.update(1)
            progress(100.0 * bar.n / max(spill.chunks, 1), f"importing {label}")
    return written


def _load(
    source: CsvSource,
    importer: Importer,
    options: ImportOptions,
    header: list[str],
    progress,
    spill: RowSpill | None = None,
) -> ImportOutcome:
    """Write the file chunk by chunk in one transaction; bad rows go to the rejects file or abort everything."""
    outcome = ImportOutcome(path=source.label)
    log = ErrorLog(source.label)
    rejects = RejectsWriter(options.rejects, header) if options.skip_invalid else None
    before = importer.counts()
    with transaction.atomic():
        importer.begin()
        if spill is not None:
            outcome.rows_imported = _load_checked(spill, importer, options, source.label, progress)
            outcome.rows_read = spill.rows_read
        else:
            for chunk, rows, errors in _chunks(source, importer, options, "importing", progress):
                log.add(errors)
                if rejects is None and not errors.empty:
                    raise ImportRowsInvalid(log)  # the file changed after it was checked
                if rejects is not None:
                    rejects.write(chunk, errors)
                importer.write(rows)
                outcome.rows_read += len(chunk)
                outcome.rows_imported += len(rows)
        importer.finish()
    after = importer.counts()
    outcome.created = {table: after[table] - before.get(table, 0) for table in after}
    outcome.stats = importer.stats()
    outcome.rows_rejected = log.bad_rows
    outcome.rejects_path = str(rejects.path) if rejects is not None else None
    return outcome


def import_file(importer: Importer, options: ImportOptions) -> ImportOutcome:
    """Check and import one file with `importer`; raises ImportFileError / ImportRowsInvalid with nothing written."""
    source = CsvSource(options.path, chunk_size=options.chunk_size)
    header = source.check_columns(importer.fmt)
    spill = RowSpill() if importer.spill and not options.dry_run and not options.skip_invalid else None
    try:
        return _import(source, header, importer, options, spill)
    finally:
        if spill is not None:
            spill.close()


def _import(
    source: CsvSource, header: list[str], importer: Importer, options: ImportOptions, spill: RowSpill | None
) -> ImportOutcome:
    """Check pass (unless bad rows are skipped), then the write pass under a JobRun."""
    if options.dry_run or not options.skip_invalid:
        checked = _scan(source, importer, options, spill)
        if options.dry_run:
            return checked
        importer.expected_rows = checked.rows_imported
    run = job_run_create(
        kind=importer.kind,
        parameters={
            "file": str(Path(options.path)),
            "chunk_size": options.chunk_size,
            "skip_invalid": options.skip_invalid,
            **importer.parameters(),
        },
        user=options.user,
    )
    result: dict[str, ImportOutcome] = {}

    def work(progress) -> dict:
        result["outcome"] = _load(source, importer, options, header, progress, spill)
        return result["outcome"].metrics()

    run_tracked(run.pk, work)
    outcome = result["outcome"]
    outcome.job_run_id = run.pk
    return outcome
