"""Import planned and past promotions from a CSV file; see docs/imports.md."""

from retailai.commerce.importing.command import ImportCommand
from retailai.commerce.importing.services import promotions_import


class Command(ImportCommand):
    help = "Create or update promotions by (promotion_id, sku, channel, location); re-importing changes nothing."

    def run(self, options, **kwargs):
        return promotions_import(options=options)
