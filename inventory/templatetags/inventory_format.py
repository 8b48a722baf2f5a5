"""Template filters for the buyer's pages: money in the shop's currency and quantities with thousands separators."""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format

register = template.Library()

#: Symbols written before the amount; other currencies show their ISO code after it.
CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "CNY": "¥"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _grouped(value, decimals) -> str | None:
    """The value rounded to `decimals` places with the locale's separators; None when it is not a number."""
    amount = _decimal(value)
    if amount is None:
        return None
    places = int(decimals)
    return number_format(round(amount, places), decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def money(value, decimals=2):
    """`164319.59` → `£164,319.59` (the currency of settings.RETAILAI_CURRENCY, the locale's separators)."""
    text = _grouped(value, decimals)
    if text is None:
        return "—"
    code = settings.RETAILAI_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is None:
        return f"{text}\u00a0{code}"
    if text.startswith("-"):
        return f"-{symbol}{text[1:]}"
    return f"{symbol}{text}"


@register.filter
def qty(value, decimals=0):
    """`113071` → `113,071`: a quantity with thousands separators and `decimals` places."""
    text = _grouped(value, decimals)
    return "—" if text is None else text
