"""Daily US stock prices and quarterly earnings releases (ForeClassNet, Sec. 5.2).

ForeClassNet's financial application asks, from the 40 previous daily adjusted closes, whether
a stock's adjusted close rises by 5 % or more the day after an earnings release. The paper uses
the Kaggle dataset "US historical stock prices with earnings data" (tsaustin). What the project
holds (``shared/data/stocks/``, see ``SOURCES.md`` section 6) and which reader reads it:

* ``tsaustin_subset/stock_prices_latest.csv`` -> :func:`read_tsaustin_prices`. Genuine tsaustin
  columns, but re-saved through a spreadsheet: UTF-8 BOM and ``DD/MM/YYYY`` dates (the original
  Kaggle file has ISO ``YYYY-MM-DD`` dates; both are read).
* ``tsaustin_subset/earnings_latest.csv`` and ``earnings_latest.csv`` -> :func:`read_earnings`.
  The first: BOM, ``DD/MM/YYYY``, ``NULL`` for missing, ``qtr`` like ``Jun-09``; the second
  (a derivative): ``M/D/YY`` dates, ``qtr`` like ``17-Jun``, an extra surprise column ``surp``.
* ``individual_stocks_5yr.tar.gz`` (Kaggle "S&P 500 stock data", Cam Nugent) ->
  :func:`read_individual_stock` for one ``<TICKER>_data.csv``, :func:`load_stocks_5yr` for all
  505, read straight from the archive.

Dates: one format is detected per file column (:func:`detect_date_format`), never guessed row
by row. Slash dates whose day and month are both <= 12 on every row are ambiguous; the rule is
then: 4-digit years are day-first (``DD/MM/YYYY``: the spreadsheet re-save of the tsaustin
files), 2-digit years month-first (``M/D/YY``: the US-style derivative); pass ``dayfirst`` to
override. Two-digit years follow :func:`time.strptime`: 00-68 -> 20xx, 69-99 -> 19xx.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from tsmtl.data.errors import DataFormatError, DataNotFoundError

PRICE_COLUMNS: tuple[str, ...] = (
    "symbol", "date", "open", "high", "low", "close", "close_adjusted", "volume", "split_coefficient",
)  # fmt: skip
"""Columns of every price frame returned here (tsaustin's ``stock_prices_latest.csv`` layout)."""

EARNINGS_COLUMNS: tuple[str, ...] = ("symbol", "date", "qtr", "eps_est", "eps", "release_time")
"""Required columns of an earnings file; ``surp`` (EPS surprise) is kept when present."""

INDIVIDUAL_STOCK_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume", "Name")
"""Columns of ``individual_stocks_5yr/<TICKER>_data.csv``."""

RELEASE_TIMES = ("pre", "post")
"""``pre``: released before the market opens on ``date``; ``post``: after it closes."""

_NULL_TOKENS = frozenset({"", "NULL", "null", "NA", "N/A", "NaN", "nan"})
_SYMBOL_COLUMNS = frozenset({"symbol", "Name"})
_INDIVIDUAL_NUMERIC = ("open", "high", "low", "close", "volume")
_PRICE_NUMERIC = ("open", "high", "low", "close", "close_adjusted", "volume", "split_coefficient")
_POSITIVE = frozenset({"open", "high", "low", "close", "close_adjusted", "split_coefficient"})
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
#: ``qtr`` as the two earnings files write it: ``17-Jun`` (YY-Mon), ``Jun-09`` (Mon-YY) or ``Q2``.
_QUARTER = re.compile(rf"^(\d{{2}}-({_MONTHS})|({_MONTHS})-\d{{2}}|Q[1-4])$")
_DATE_PATTERNS = {
    "iso": re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"),
    "slash4": re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"),
    "slash2": re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2})$"),
}
_TOKENIZER_LINE = re.compile(r"line (\d+)")


# --------------------------------------------------------------------------- CSV helpers
def _read_raw(path_or_fileobj: str | os.PathLike | BinaryIO, name: str | None, what: str) -> tuple[bytes, str]:
    if hasattr(path_or_fileobj, "read"):
        raw = path_or_fileobj.read()
        return (raw.encode("utf-8") if isinstance(raw, str) else raw), name or str(
            getattr(path_or_fileobj, "name", "<stream>")
        )
    path = Path(path_or_fileobj)
    if not path.is_file():
        raise DataNotFoundError(f"{what} file not found: {path} (see shared/data/SOURCES.md, section 6)")
    return path.read_bytes(), name or str(path)


def _header_fields(raw: bytes, where: str) -> list[str]:
    first = raw.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        return [field.strip().strip('"') for field in first.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        raise DataFormatError(where, "header is not UTF-8 text", line=1) from None


def _check_field_counts(raw: bytes, n_fields: int, where: str) -> None:
    """Every non-blank line has ``n_fields`` fields (pandas would silently pad a short row).

    Counted with ``bytes.count`` (C speed); skipped for files with quotes, where a comma may
    sit inside a field (pandas still rejects rows with too many fields there).
    """
    if b'"' in raw:
        return
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    n_nonblank = sum(1 for line in lines if line.strip())
    if raw.count(b",") == (n_fields - 1) * n_nonblank:
        return
    for number, line in enumerate(lines, start=1):
        if line.strip() and line.count(b",") + 1 != n_fields:
            found = line.count(b",") + 1
            raise DataFormatError(where, f"expected {n_fields} comma-separated fields, found {found}", line=number)


def _read_csv(
    raw: bytes, where: str, required: tuple[str, ...], optional: tuple[str, ...], numeric: tuple[str, ...]
) -> pd.DataFrame:
    """Parse a comma-separated file with a header: ``numeric`` columns float64, the rest ``str``.

    The null tokens (``""``, ``NULL``, ``NA``, ``NaN``...) become NaN in every column. Text
    cells are stripped. The index of the result is the 0-based data row, so row ``i`` is file
    line ``i + 2``; blank lines are dropped (line numbers stay right). Errors: an empty file,
    a header without data, wrong columns (named), a row with the wrong number of fields, a
    non-numeric value in a numeric column (with its line).
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise DataFormatError(where, "empty file (expected a header line)")
    _check_columns(_header_fields(raw, where), required, optional, where)
    columns = _header_fields(raw, where)
    _check_field_counts(raw, len(columns), where)
    numeric = tuple(c for c in numeric if c in columns)
    # Tickers such as "NA" are real symbols: in symbol columns only an empty cell is missing.
    null_tokens = {c: ([""] if c in _SYMBOL_COLUMNS else sorted(_NULL_TOKENS)) for c in columns}
    options = dict(
        keep_default_na=False,
        na_values=null_tokens,
        skip_blank_lines=False,
        skipinitialspace=True,
        encoding="utf-8",
        float_precision="round_trip",  # correctly rounded, like float()
    )
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype={c: (np.float64 if c in numeric else str) for c in columns}, **options)
    except ValueError as exc:  # ParserError is a ValueError too
        if isinstance(exc, pd.errors.ParserError):
            match = _TOKENIZER_LINE.search(str(exc))
            raise DataFormatError(where, f"malformed CSV ({exc})", line=int(match.group(1)) if match else None) from None
        if isinstance(exc, UnicodeDecodeError):
            raise DataFormatError(where, f"not UTF-8 text ({exc})") from None
        # Slow path, only on bad input: read as text to find the offending cell and line.
        text = pd.read_csv(io.BytesIO(raw), dtype=str, **options)
        text.columns = [str(c).strip() for c in text.columns]
        for column in numeric:
            cells = text[column].str.strip()
            as_number = pd.to_numeric(cells, errors="coerce")
            bad = np.flatnonzero((as_number.isna() & cells.notna()).to_numpy())
            if bad.size:
                position = int(bad[0])
                raise DataFormatError(
                    where, f"non-numeric value {cells.iloc[position]!r} in column {column!r}", line=position + 2
                ) from None
        raise DataFormatError(where, f"cannot parse values ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        if column not in numeric:
            stripped = frame[column].str.strip()
            tokens = {""} if column in _SYMBOL_COLUMNS else _NULL_TOKENS
            frame[column] = stripped.where(~stripped.isin(tokens), None)
    frame = frame[frame.notna().any(axis=1)]
    if frame.empty:
        raise DataFormatError(where, "header but no data rows")
    return frame


def _check_columns(found: list[str], required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    missing = [c for c in required if c not in found]
    unexpected = [c for c in found if c not in required and c not in optional]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = [f"missing columns {missing}"] if missing else []
        parts += [f"unexpected columns {unexpected}"] if unexpected else []
        parts += [f"duplicated columns {duplicated}"] if duplicated else []
        raise DataFormatError(where, f"{'; '.join(parts)} (expected {list(required) + list(optional)})", line=1)


def _line_of(frame: pd.DataFrame, position: int) -> int:
    return int(frame.index[position]) + 2


def detect_date_format(values: pd.Series | list[str], dayfirst: bool | None = None, where: str = "<dates>") -> str:
    """The one ``strptime`` format that reads every date of a column.

    Parameters
    ----------
    values : sequence of str
        Non-empty date strings (a frame column; its index gives line numbers ``index + 2``).
    dayfirst : bool, optional
        Force day-first (``True``) or month-first (``False``) for slash dates; an error is
        raised if the data contradict it (a "month" above 12).
    where : str
        File name for error messages.

    Returns
    -------
    str
        ``"%Y-%m-%d"``, ``"%d/%m/%Y"``, ``"%m/%d/%Y"``, ``"%d/%m/%y"`` or ``"%m/%d/%y"``.

    Notes
    -----
    Slash dates: a first field above 12 on any row makes the column day-first; a second field
    above 12 makes it month-first; both is an error. When neither occurs the column is
    ambiguous and the module rule applies: 4-digit years day-first, 2-digit years month-first.
    """
    series = pd.Series(values, dtype=str)
    if series.empty:
        raise DataFormatError(where, "no dates to read")
    index = series.index if isinstance(values, pd.Series) else pd.RangeIndex(len(series))
    kind = next((k for k, p in _DATE_PATTERNS.items() if p.match(series.iloc[0])), None)
    if kind is None:
        raise DataFormatError(where, f"unrecognised date {series.iloc[0]!r} (expected YYYY-MM-DD, DD/MM/YYYY or M/D/YY)", line=int(index[0]) + 2)
    matches = series.str.match(_DATE_PATTERNS[kind]).to_numpy()
    if not matches.all():
        position = int(np.flatnonzero(~matches)[0])
        raise DataFormatError(
            where,
            f"date {series.iloc[position]!r} does not match the column's format (first date {series.iloc[0]!r})",
            line=int(index[position]) + 2,
        )
    if kind == "iso":
        return "%Y-%m-%d"
    parts = series.str.extract(_DATE_PATTERNS[kind]).astype(np.int64)
    first_big = np.flatnonzero(parts[0].to_numpy() > 12)
    second_big = np.flatnonzero(parts[1].to_numpy() > 12)
    if first_big.size and second_big.size:
        raise DataFormatError(
            where,
            f"dates mix day-first ({series.iloc[first_big[0]]!r}, line {int(index[first_big[0]]) + 2}) and "
            f"month-first ({series.iloc[second_big[0]]!r}, line {int(index[second_big[0]]) + 2})",
        )
    evidence = True if first_big.size else (False if second_big.size else None)
    if dayfirst is not None and evidence is not None and dayfirst != evidence:
        position = int((first_big if first_big.size else second_big)[0])
        raise DataFormatError(
            where,
            f"dayfirst={dayfirst} contradicts date {series.iloc[position]!r}",
            line=int(index[position]) + 2,
        )
    if evidence is None:
        evidence = dayfirst if dayfirst is not None else (kind == "slash4")
    year = "%Y" if kind == "slash4" else "%y"
    return f"%d/%m/{year}" if evidence else f"%m/%d/{year}"


def _to_dates(frame: pd.DataFrame, column: str, where: str, dayfirst: bool | None) -> np.ndarray:
    """Column as datetime64[ns] using one detected format; empty or impossible dates are errors."""
    text = frame[column]
    empty = np.flatnonzero(text.isna().to_numpy())
    if empty.size:
        raise DataFormatError(where, f"missing date in column {column!r}", line=_line_of(frame, int(empty[0])))
    fmt = detect_date_format(text, dayfirst=dayfirst, where=where)
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        position = int(bad[0])
        raise DataFormatError(
            where, f"impossible date {text.iloc[position]!r} for format {fmt!r}", line=_line_of(frame, position)
        )
    return dates.to_numpy(dtype="datetime64[ns]")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by symbol then date (stable); skips the sort when already in that order."""
    symbol = frame["symbol"].to_numpy()
    date = frame["date"].to_numpy()
    if len(frame) < 2 or (
        (symbol[1:] > symbol[:-1]) | ((symbol[1:] == symbol[:-1]) & (date[1:] >= date[:-1]))
    ).all():
        return frame.reset_index(drop=True)
    return frame.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


def _check_values(frame: pd.DataFrame, numbers: dict[str, np.ndarray], where: str) -> None:
    """Numbers against their meaning, the first bad cell named by column and line.

    Prices (``open``, ``high``, ``low``, ``close``, ``close_adjusted``) and
    ``split_coefficient`` (the day's split ratio, 1 when none) are positive; ``volume`` is a
    whole, non-negative number of shares; EPS and surprise (``eps_est``, ``eps``, ``surp``)
    may be negative; no value is infinite. NaN (a missing value) passes everywhere.
    """
    for column, values in numbers.items():
        observed = ~np.isnan(values)
        if column in _POSITIVE:
            bad, why = observed & ~(values > 0), "is not a positive " + ("ratio" if column == "split_coefficient" else "price")
        elif column == "volume":
            bad, why = observed & ~((values >= 0) & (values == np.round(values))), "is not a whole, non-negative number of shares"
        else:
            bad, why = np.zeros(len(values), dtype=bool), ""
        bad |= np.isinf(values)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            value = values[position]
            raise DataFormatError(
                where, f"column {column!r}: {value:g} {'is infinite' if np.isinf(value) else why}", line=_line_of(frame, position)
            )


def _check_one_row_per_day(frame: pd.DataFrame, symbols: np.ndarray, dates: np.ndarray, where: str, what: str) -> None:
    """At most one row per (symbol, date): two closes (or two releases) on one day for one symbol are a data error."""
    keys = pd.DataFrame({"symbol": symbols, "date": dates})
    repeated = np.flatnonzero(keys.duplicated(keep="first").to_numpy())
    if repeated.size:
        position = int(repeated[0])
        symbol, day = keys.iloc[position]
        first = int(np.flatnonzero(((keys["symbol"] == symbol) & (keys["date"] == day)).to_numpy())[0])
        raise DataFormatError(
            where,
            f"{symbol} has a second {what} row for {pd.Timestamp(day):%Y-%m-%d} (the first is on line {_line_of(frame, first)})",
            line=_line_of(frame, position),
        )


def _with_source(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """``frame`` with ``attrs["source"] = where``: errors raised after reading name the file."""
    frame.attrs["source"] = where
    return frame


def _price_frame(symbol: np.ndarray, dates: np.ndarray, numbers: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {"symbol": pd.Series(symbol, dtype=str), "date": dates, **{c: numbers[c] for c in _PRICE_NUMERIC}}
    )


# --------------------------------------------------------------------------- public readers
def read_tsaustin_prices(path: str | os.PathLike | BinaryIO, dayfirst: bool | None = None) -> pd.DataFrame:
    """Read tsaustin's ``stock_prices_latest.csv`` (original ISO dates or the BOM/DD/MM/YYYY re-save).

    Parameters
    ----------
    path : path or binary file object
        The CSV, with header ``symbol,date,open,high,low,close,close_adjusted,volume,
        split_coefficient`` (any column order).
    dayfirst : bool, optional
        Override the date-order rule (see the module docstring); default: detect.

    Returns
    -------
    pd.DataFrame
        Columns :data:`PRICE_COLUMNS`: ``symbol`` str, ``date`` datetime64[ns], the rest
        float64 (``volume`` too, so that a missing value is NaN; ``split_coefficient`` is the
        day's split ratio, 1 when none). Sorted by symbol then date.

    Raises
    ------
    DataFormatError
        Wrong columns (named), a non-numeric value or impossible/mixed-format date (with its
        line), a row with the wrong number of fields, an empty symbol, an empty file, a
        price or split ratio that is not positive, a volume that is not a whole
        non-negative number, an infinite value, or two rows for one symbol and day.
    """
    raw, where = _read_raw(path, None, "tsaustin price")
    frame = _read_csv(raw, where, PRICE_COLUMNS, (), _PRICE_NUMERIC)
    _require_symbols(frame, "symbol", where)
    numbers = {c: frame[c].to_numpy(dtype=np.float64) for c in _PRICE_NUMERIC}
    _check_values(frame, numbers, where)
    dates = _to_dates(frame, "date", where, dayfirst)
    _check_one_row_per_day(frame, frame["symbol"].to_numpy(), dates, where, "price")
    return _with_source(_sorted(_price_frame(frame["symbol"].to_numpy(), dates, numbers)), where)


def _require_symbols(frame: pd.DataFrame, column: str, where: str) -> None:
    empty = np.flatnonzero(frame[column].isna().to_numpy())
    if empty.size:
        raise DataFormatError(where, f"empty {column!r}", line=_line_of(frame, int(empty[0])))


def read_earnings(path: str | os.PathLike | BinaryIO, dayfirst: bool | None = None) -> pd.DataFrame:
    """Read an earnings-release file (tsaustin's ``earnings_latest.csv`` or its ``surp`` derivative).

    Parameters
    ----------
    path : path or binary file object
        CSV with columns ``symbol,date,qtr,eps_est,eps,release_time`` and optionally ``surp``.
    dayfirst : bool, optional
        Override the date-order rule (see the module docstring); default: detect.

    Returns
    -------
    pd.DataFrame
        ``symbol`` (str), ``date`` (datetime64[ns], the release day), ``qtr`` (str as written
        -- ``17-Jun`` (YY-Mon), ``Jun-09`` (Mon-YY) or ``Q2`` -- NaN for NULL/empty),
        ``eps_est``, ``eps`` (float64, NaN for NULL/empty), ``release_time`` (str ``pre`` /
        ``post``, NaN when missing), plus ``surp`` (float64) when the file has it. Sorted by
        symbol then date.

    Raises
    ------
    DataFormatError
        Wrong columns, non-numeric or infinite EPS, a ``release_time`` other than
        pre/post/empty/NULL, a ``qtr`` not written ``17-Jun``, ``Jun-09``, ``Q1``..``Q4`` or
        empty/NULL, bad or mixed-format dates, two releases for one symbol and day (each
        with its line), or an empty file.
    """
    raw, where = _read_raw(path, None, "earnings")
    frame = _read_csv(raw, where, EARNINGS_COLUMNS, ("surp",), ("eps_est", "eps", "surp"))
    _require_symbols(frame, "symbol", where)
    numeric = ["eps_est", "eps"] + (["surp"] if "surp" in frame.columns else [])
    numbers = {c: frame[c].to_numpy(dtype=np.float64) for c in numeric}
    _check_values(frame, numbers, where)
    quarter = frame["qtr"]
    bad = np.flatnonzero((quarter.notna() & ~quarter.str.match(_QUARTER).fillna(False).astype(bool)).to_numpy())
    if bad.size:
        position = int(bad[0])
        raise DataFormatError(
            where,
            f"qtr {quarter.iloc[position]!r} is not YY-Mon (17-Jun), Mon-YY (Jun-09), Q1..Q4 or empty/NULL",
            line=_line_of(frame, position),
        )

    release = frame["release_time"].str.lower()
    release_missing = frame["release_time"].isna()
    bad = np.flatnonzero((~release.isin(RELEASE_TIMES) & ~release_missing).to_numpy())
    if bad.size:
        position = int(bad[0])
        raise DataFormatError(
            where,
            f"release_time {frame['release_time'].iloc[position]!r} is not one of {list(RELEASE_TIMES)} or empty/NULL",
            line=_line_of(frame, position),
        )
    dates = _to_dates(frame, "date", where, dayfirst)
    _check_one_row_per_day(frame, frame["symbol"].to_numpy(), dates, where, "earnings")
    out = pd.DataFrame(
        {
            "symbol": pd.Series(frame["symbol"].to_numpy(), dtype=str),
            "date": dates,
            "qtr": pd.Series(frame["qtr"].to_numpy(), dtype=str),
            "eps_est": numbers["eps_est"],
            "eps": numbers["eps"],
            "release_time": pd.Series(release.where(~release_missing, None).to_numpy(), dtype=str),
        }
    )
    if "surp" in numbers:
        out["surp"] = numbers["surp"]
    return _with_source(_sorted(out), where)


def _ticker_from_filename(where: str) -> str | None:
    match = re.search(r"(?:^|[/\\:])([^/\\:]+)_data\.csv$", where)
    return match.group(1) if match else None


def read_individual_stock(path_or_fileobj: str | os.PathLike | BinaryIO, name: str | None = None) -> pd.DataFrame:
    """Read one ``individual_stocks_5yr/<TICKER>_data.csv``, normalised to :data:`PRICE_COLUMNS`.

    That dataset (Kaggle "S&P 500 stock data", 2013-02-08 .. 2018-02-07) has columns
    ``date,open,high,low,close,volume,Name`` with ISO dates and prices that are already
    split-adjusted. So ``close_adjusted = close`` and ``split_coefficient = 1.0`` (no split
    events remain in an adjusted series). Unlike tsaustin's ``close_adjusted`` these closes
    are *not* dividend-adjusted.

    Parameters
    ----------
    path_or_fileobj : path or binary file object
    name : str, optional
        Name for error messages and for the ticker check (default: the path / stream name).

    Returns
    -------
    pd.DataFrame
        Columns :data:`PRICE_COLUMNS`; ``symbol`` from ``Name``; sorted by date. Missing
        prices (a few rows have no open/high/low) are NaN.

    Raises
    ------
    DataFormatError
        Wrong columns, bad values (non-numeric, a price that is not positive, a volume that
        is not a whole non-negative number) or dates (with line), two rows for one day, an
        empty ``Name``, a ``Name`` that differs from the ticker in the file name or between
        rows, or an empty file.
    """
    raw, where = _read_raw(path_or_fileobj, name, "individual stock")
    frame = _read_csv(raw, where, INDIVIDUAL_STOCK_COLUMNS, (), _INDIVIDUAL_NUMERIC)
    _require_symbols(frame, "Name", where)
    names = frame["Name"].to_numpy()
    expected = _ticker_from_filename(where) or names[0]
    wrong = np.flatnonzero(names != expected)
    if wrong.size:
        position = int(wrong[0])
        raise DataFormatError(
            where, f"Name {names[position]!r} differs from the ticker {expected!r}", line=_line_of(frame, position)
        )
    numbers = {c: frame[c].to_numpy(dtype=np.float64) for c in _INDIVIDUAL_NUMERIC}
    _check_values(frame, numbers, where)
    numbers["close_adjusted"] = numbers["close"].copy()
    numbers["split_coefficient"] = np.ones(len(frame))
    dates = _to_dates(frame, "date", where, None)
    _check_one_row_per_day(frame, names, dates, where, "price")
    return _with_source(_sorted(_price_frame(names, dates, numbers)), where)


def _iter_stock_files(source: Path) -> Iterator[tuple[str, bytes]]:
    if source.is_dir():
        for path in sorted(source.glob("*_data.csv")):
            yield str(path), path.read_bytes()
        return
    try:
        # Streamed ("r|*"): members come straight from the compressed stream, no extraction.
        with tarfile.open(source, mode="r|*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith("_data.csv"):
                    handle = archive.extractfile(member)
                    yield f"{source}::{member.name}", handle.read() if handle else b""
    except tarfile.TarError as exc:
        raise DataFormatError(source, f"not a readable tar archive ({exc})") from None


def load_stocks_5yr(source: str | os.PathLike) -> pd.DataFrame:
    """All ``<TICKER>_data.csv`` of ``individual_stocks_5yr`` (folder or ``.tar.gz``) as one frame.

    Parameters
    ----------
    source : path
        The ``individual_stocks_5yr/`` folder or ``individual_stocks_5yr.tar.gz``.

    Returns
    -------
    pd.DataFrame
        Columns :data:`PRICE_COLUMNS` (see :func:`read_individual_stock`), sorted by symbol
        then date. The shared copy: 505 tickers, 619,040 rows, 2013-02-08 .. 2018-02-07.

    Raises
    ------
    DataNotFoundError
        ``source`` does not exist.
    DataFormatError
        A malformed member (named ``archive::member``), no ``*_data.csv`` at all, or a ticker
        present twice.
    """
    source = Path(source)
    if not source.exists():
        raise DataNotFoundError(
            f"S&P 500 5-year prices not found at {source}. Expected the individual_stocks_5yr/ folder "
            "or individual_stocks_5yr.tar.gz (shared/data/stocks/, see SOURCES.md section 6; set TSMTL_DATA_DIR)."
        )
    members = list(_iter_stock_files(source))
    if not members:
        raise DataFormatError(source, "no <TICKER>_data.csv files found")
    tickers = [_ticker_from_filename(where) for where, _ in members]
    duplicated = sorted({t for t in tickers if tickers.count(t) > 1})
    if duplicated:
        raise DataFormatError(source, f"tickers present twice: {duplicated}")
    combined = _read_members_at_once(members, tickers, str(source))
    if combined is not None:
        return _with_source(combined, str(source))
    # Slow path (some member differs from the common layout, or is malformed): member by
    # member, so that an error names its member and line.
    frames = [read_individual_stock(io.BytesIO(raw), name=where) for where, raw in members]
    return _with_source(_sorted(pd.concat(frames, ignore_index=True)), str(source))


def _read_members_at_once(members: list[tuple[str, bytes]], tickers: list[str | None], where: str) -> pd.DataFrame | None:
    """Fast path of :func:`load_stocks_5yr`: all members' rows in one pandas call.

    Taken only when every member has exactly the expected header, no blank line, no quote,
    and all rows parse with one date format and the right ``Name``; returns None otherwise
    (the caller then reads member by member, which names the bad file and line).
    """
    header = ",".join(INDIVIDUAL_STOCK_COLUMNS).encode()
    bodies: list[bytes] = []
    for _, raw in members:
        raw = raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
        head, _, body = raw.partition(b"\n")
        body = body.rstrip(b"\n")
        if head.strip() != header or not body or b"\n\n" in body or b'"' in body:
            return None
        bodies.append(body + b"\n")
    counts = np.array([body.count(b"\n") for body in bodies])
    try:
        frame = _read_csv(header + b"\n" + b"".join(bodies), where, INDIVIDUAL_STOCK_COLUMNS, (), _INDIVIDUAL_NUMERIC)
        expected = np.repeat(np.array(tickers, dtype=object), counts)
        if len(frame) != counts.sum() or not (frame["Name"].to_numpy() == expected).all():
            return None
        dates = _to_dates(frame, "date", where, None)
        numbers = {c: frame[c].to_numpy(dtype=np.float64) for c in _INDIVIDUAL_NUMERIC}
        _check_values(frame, numbers, where)
        _check_one_row_per_day(frame, frame["Name"].to_numpy(), dates, where, "price")
    except DataFormatError:  # the slow path names the member
        return None
    numbers["close_adjusted"] = numbers["close"].copy()
    numbers["split_coefficient"] = np.ones(len(frame))
    return _sorted(_price_frame(frame["Name"].to_numpy(), dates, numbers))
