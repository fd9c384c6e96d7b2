"""Money in integer minor units + ISO 4217 code, and the API's decimal strings (`"49.00"`)."""

from decimal import ROUND_HALF_EVEN, Decimal

from trackrev.common.display import number_display

# ISO 4217 exponents that differ from 2. Everything else has two decimals.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"}
    | {"XPF"}
)
THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
FOUR_DECIMAL = frozenset({"CLF", "UYW"})


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in FOUR_DECIMAL:
        return 4
    return 2


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-currency_exponent(currency))


def decimal_to_minor(amount: Decimal, currency: str) -> int:
    """Round half-to-even to the currency's smallest unit."""
    return int(amount.scaleb(currency_exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def money_format(amount_minor: int | None, currency: str) -> str | None:
    """Integer minor units → the API's decimal string with the currency's exponent (`4410, "USD"` → `"44.10"`).
    In integer arithmetic: an order export formats about ten amounts per order."""
    if amount_minor is None:
        return None
    exponent = currency_exponent(currency)
    if not exponent:
        return str(amount_minor)
    whole, part = divmod(abs(amount_minor), 10**exponent)
    return f"{'-' if amount_minor < 0 else ''}{whole}.{part:0{exponent}d}"


def money_display(amount_minor: int | None, currency: str) -> str | None:
    """For people (pages, admin): the currency's code, then the amount with that currency's exponent and
    thousands separators (`"USD 1,234.00"`, `"JPY 1,500"`), so no amount is read in another currency;
    None when unknown."""
    if amount_minor is None:
        return None
    amount = number_display(minor_to_decimal(amount_minor, currency), currency_exponent(currency))
    return f"{currency.upper()} {amount}"
