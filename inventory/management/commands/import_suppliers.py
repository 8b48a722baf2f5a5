"""Import suppliers and their terms per SKU from a CSV file; see docs/imports.md."""

from inventory.importing import suppliers_import
from retailai.commerce.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Create or update suppliers and their lead times, MOQ, pack size and cost per SKU."

    def run(self, options, **kwargs):
        return suppliers_import(options=options)
