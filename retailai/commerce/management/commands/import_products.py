"""Import product master data from a CSV file; see docs/imports.md."""

from retailai.commerce.importing.command import ImportCommand
from retailai.commerce.importing.services import products_import


class Command(ImportCommand):
    help = "Create or update products by SKU (extra columns become attributes)."

    def run(self, options, **kwargs):
        return products_import(options=options)
