"""Parsers for every euro reference-rate file the ECB publishes. Pure: bytes in, rates out.

- XML (`eurofxref-daily.xml`, `eurofxref-hist-90d.xml`, `eurofxref-hist.xml`): gesmes envelope with
  `<Cube time="YYYY-MM-DD"><Cube currency="USD" rate="1.0832"/>…</Cube>`.
- CSV `eurofxref.csv` (daily): header `Date, USD, JPY, …,` then `27 November 2026, 1.0832, …,`.
- CSV `eurofxref-hist.csv`: header `Date,USD,JPY,…,` then `2026-11-27,1.0832,…,` with `N/A` gaps.
- ZIP (`eurofxref.zip`, `eurofxref-hist.zip`): one of those CSV files inside.
"""

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"

Rate = tuple[dt.date, str, Decimal]


class EcbFormatError(ValueError):
    pass


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise EcbFormatError(f"unrecognised date {text!r}")


def _parse_rate(text: str) -> Decimal | None:
    text = text.strip()
    if not text or text.upper() == "N/A":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise EcbFormatError(f"unrecognised rate {text!r}") from exc
    return value if value > 0 else None


def parse_xml(data: bytes) -> Iterator[Rate]:
    try:
        # Python ≥ 3.11 ships expat ≥ 2.4, which refuses entity-expansion bombs.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise EcbFormatError(f"not XML: {exc}") from exc
    for day in root.iter():
        if day.tag.endswith("Cube") and "time" in day.attrib:
            date = _parse_date(day.attrib["time"])
            for cube in day:
                rate = _parse_rate(cube.attrib.get("rate", ""))
                if rate is not None:
                    yield date, cube.attrib["currency"].strip().upper(), rate


def parse_csv(data: bytes) -> Iterator[Rate]:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = [cell.strip() for cell in next(rows, [])]
    if not header or header[0] != "Date":
        raise EcbFormatError("CSV does not start with a Date column")
    for row in rows:
        if not row or not row[0].strip():
            continue
        date = _parse_date(row[0])
        for currency, cell in zip(header[1:], row[1:], strict=False):
            rate = _parse_rate(cell)
            if currency and rate is not None:
                yield date, currency.upper(), rate


def parse_zip(data: bytes) -> Iterator[Rate]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
        if not names:
            raise EcbFormatError("ZIP holds no CSV file")
        for name in names:
            yield from parse_csv(archive.read(name))


def parse_any(data: bytes) -> Iterator[Rate]:
    """Detect the format from the content (file names vary when downloaded)."""
    if data[:4] == b"PK\x03\x04":
        return parse_zip(data)
    if data.lstrip()[:1] == b"<":
        return parse_xml(data)
    return parse_csv(data)
