"""Simplified Chinese date formats, in the order Chinese readers write dates."""

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"

# Django's Simplified Chinese format leaves numbers ungrouped (12345678); buyers read money and quantities grouped
# by three with a comma, as on Chinese invoices and in spreadsheets.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
