"""Import stock levels per SKU and location from a CSV file; see docs/imports.md."""

from inventory.importing import stock_import
from retailai.commerce.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Set on-hand stock (through the stock ledger), on order and reserved per SKU and location."

    def run(self, options, **kwargs):
        return stock_import(options=options)
