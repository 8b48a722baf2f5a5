"""The base of the import management commands: common options, error reporting, the printed summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from .framework import ImportFileError, ImportRowsInvalid
from .runner import ImportOptions
from .services import ImportSummary


class ImportCommand(BaseCommand):
    """Parses FILE, --dry-run, --skip-invalid, --rejects and --chunk-size; subclasses call their service."""

    def add_arguments(self, parser: CommandParser) -> None:
        """The options every import shares."""
        parser.add_argument("file", help="CSV file to import (.csv or .csv.gz).")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and write the bad ones, with a reason column, to the rejects file.",
        )
        parser.add_argument("--rejects", default=None, help="Rejects file (default: FILE.rejects.csv).")
        parser.add_argument("--chunk-size", type=int, default=50_000, help="Rows per chunk (default 50000).")

    def run(self, options: ImportOptions, **kwargs) -> ImportSummary:
        """Call the import service."""
        raise NotImplementedError

    def handle(self, *args, **kwargs) -> None:
        """Run the import; bad files become a CommandError naming file, line and column."""
        if kwargs["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        options = ImportOptions(
            path=kwargs["file"],
            chunk_size=kwargs["chunk_size"],
            dry_run=kwargs["dry_run"],
            skip_invalid=kwargs["skip_invalid"],
            rejects_path=kwargs["rejects"],
            show_progress=kwargs["verbosity"] >= 1,
        )
        try:
            summary = self.run(options, **kwargs)
        except ImportFileError as exc:
            raise CommandError(f"{exc}\nNothing was imported.") from None
        except ImportRowsInvalid as exc:
            raise CommandError(
                f"{exc}\nNothing was imported. Fix the rows, or use --skip-invalid to import the others."
            ) from None
        self.stdout.write(summary.describe())
