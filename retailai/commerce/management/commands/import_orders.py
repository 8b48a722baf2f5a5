"""Import orders from a CSV file (generic or UCI Online Retail layout); see docs/imports.md."""

from retailai.commerce.importing.command import ImportCommand
from retailai.commerce.importing.readers import ORDER_FORMATS
from retailai.commerce.importing.services import orders_import


class Command(ImportCommand):
    help = "Import orders, lines, products and customers from a CSV file; re-importing changes nothing."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--format", choices=sorted(ORDER_FORMATS), default="generic", help="File layout.")
        parser.add_argument("--channel", default="web", help="Code of the sales channel (created if missing).")

    def run(self, options, **kwargs):
        return orders_import(options=options, format_name=kwargs["format"], channel_code=kwargs["channel"])
