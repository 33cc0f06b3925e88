"""Yahoo Webscope S5 labelled anomaly benchmark (T-Rep's point anomaly-detection data).

Dataset "ydata-labeled-time-series-anomalies-v1_0" (Laptev, Amizadeh & Billawala, Yahoo Labs,
2015): 367 univariate series in four benchmarks. It is licence-bound: Yahoo Webscope gives it
for non-commercial research to those who sign its data sharing agreement, and it "is not to be
redistributed", so the project ships no copy (``shared/data/SOURCES.md``, section 5).

Layout of the unpacked folder (file names and headers as in the release)::

    A1Benchmark/real_1.csv .. real_67.csv              timestamp,value,is_anomaly
    A2Benchmark/synthetic_1.csv .. synthetic_100.csv   timestamp,value,is_anomaly
    A3Benchmark/A3Benchmark-TS1.csv .. -TS100.csv      timestamps,value,anomaly,changepoint,trend,noise,
    A4Benchmark/A4Benchmark-TS1.csv .. -TS100.csv          seasonality1,seasonality2,seasonality3

(A3/A4 also hold a summary ``A3Benchmark_all.csv`` / ``A4Benchmark_all.csv``, which is not a
series and is skipped.) A1 timestamps are 1, 2, ...; A2-A4 are Unix seconds. Both layouts are
read into the same three columns ``timestamp``, ``value``, ``is_anomaly``; in A3/A4
``is_anomaly`` is the ``anomaly`` column (outliers), and change points count as anomalies only
with ``changepoints_as_anomalies=True``.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from tsmtl.data.errors import DataFormatError, DataNotFoundError

YAHOO_DATASET = "ydata-labeled-time-series-anomalies-v1_0"
"""The Webscope dataset name, also the name of its unpacked top folder."""

YAHOO_BENCHMARKS: dict[str, tuple[str, str]] = {
    "A1": ("A1Benchmark", "real_"),
    "A2": ("A2Benchmark", "synthetic_"),
    "A3": ("A3Benchmark", "A3Benchmark-TS"),
    "A4": ("A4Benchmark", "A4Benchmark-TS"),
}
"""Benchmark -> (folder, file-name prefix); a series file is ``<prefix><N>.csv``."""

YAHOO_SERIES_COUNTS = {"A1": 67, "A2": 100, "A3": 100, "A4": 100}
"""Series per benchmark in the release (367 in all, the number T-Rep reports)."""

A1A2_COLUMNS: tuple[str, ...] = ("timestamp", "value", "is_anomaly")
A3A4_COLUMNS: tuple[str, ...] = (
    "timestamps", "value", "anomaly", "changepoint", "trend", "noise",
    "seasonality1", "seasonality2", "seasonality3",
)  # fmt: skip

_LICENCE = (
    f"The Yahoo Webscope S5 dataset '{YAHOO_DATASET}' is not shipped with this project: Yahoo "
    "licenses it only for non-commercial research under a signed Webscope data sharing agreement, "
    "and it cannot be redistributed. Request it at Yahoo Webscope "
    "(https://webscope.sandbox.yahoo.com/catalog.php?datatype=s&did=70, 'S5 - A Labeled Anomaly "
    "Detection Dataset, version 1.0'), then point the project at your local copy: "
    "tsmtl.data.download.register_yahoo_s5('/path/to/your/copy', '$TSMTL_DATA_DIR/yahoo_s5') installs "
    f"it as $TSMTL_DATA_DIR/yahoo_s5/{YAHOO_DATASET}/; or pass as `root` the unpacked folder "
    f"(the one holding A1Benchmark/ .. A4Benchmark/) or its parent."
)


def read_yahoo_csv(path: str | os.PathLike, changepoints_as_anomalies: bool = False) -> pd.DataFrame:
    """Read one Yahoo S5 series file, either layout.

    Parameters
    ----------
    path : path
        ``real_N.csv`` / ``synthetic_N.csv`` (``timestamp,value,is_anomaly``) or
        ``A3Benchmark-TSN.csv`` / ``A4Benchmark-TSN.csv`` (``timestamps,value,anomaly,
        changepoint,...``). Column order does not matter.
    changepoints_as_anomalies : bool
        A3/A4 only: label a point 1 when it is an anomaly *or* a change point (default: the
        ``anomaly`` column alone). Ignored for A1/A2, which have no change-point column.

    Returns
    -------
    pd.DataFrame
        ``timestamp`` int64, ``value`` float64, ``is_anomaly`` int8 in {0, 1}; rows in file
        order.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Columns of neither layout (the message names what is missing / unexpected), a
        non-numeric or missing value, a non-integer timestamp, timestamps not strictly
        increasing, a label outside {0, 1} (``is_anomaly``; A3/A4 ``anomaly`` and
        ``changepoint``, even when change points are not used), each with its 1-based line,
        or an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"Yahoo S5 file not found: {path}")
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if not raw.strip():
        raise DataFormatError(path, "empty file (expected a header line)")
    header = [c.strip().strip('"') for c in raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(",")]
    if set(header) == set(A1A2_COLUMNS) and len(header) == len(A1A2_COLUMNS):
        columns = {"timestamp": "timestamp", "value": "value", "is_anomaly": "is_anomaly"}
    elif set(header) == set(A3A4_COLUMNS) and len(header) == len(A3A4_COLUMNS):
        columns = {"timestamp": "timestamps", "value": "value", "is_anomaly": "anomaly"}
    else:
        closest = A3A4_COLUMNS if "timestamps" in header or "anomaly" in header else A1A2_COLUMNS
        missing = [c for c in closest if c not in header]
        unexpected = [c for c in header if c not in closest]
        raise DataFormatError(
            path,
            f"not a Yahoo S5 header: missing columns {missing}, unexpected columns {unexpected} "
            f"(expected {','.join(A1A2_COLUMNS)} or {','.join(A3A4_COLUMNS)})",
            line=1,
        )
    label_columns = [columns["is_anomaly"]]
    if changepoints_as_anomalies and "changepoint" in header:
        label_columns.append("changepoint")
    # Every 0/1 label column of the file is checked, used or not (A3/A4: anomaly and changepoint).
    checked_labels = [columns["is_anomaly"], *(["changepoint"] if "changepoint" in header else [])]
    wanted = [columns["timestamp"], columns["value"], *checked_labels]

    # Everything as text first, then checked column by column: each bad cell is reported
    # with its line (files are small, at most a few thousand rows).
    try:
        text = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise DataFormatError(path, f"malformed CSV ({exc})", line=int(match.group(1)) if match else None) from None
    text.columns = [str(c).strip() for c in text.columns]
    text = text[(text != "").any(axis=1)]
    if text.empty:
        raise DataFormatError(path, "header but no data rows")
    numbers = {c: _numeric_column(text, c, path) for c in wanted}

    timestamps = numbers[columns["timestamp"]]
    stamp_column = columns["timestamp"]
    bad = np.flatnonzero(timestamps != np.round(timestamps))
    if bad.size:
        raise DataFormatError(
            path, f"timestamp {text[stamp_column].iloc[bad[0]]!r} is not an integer", line=int(text.index[bad[0]]) + 2
        )
    bad = np.flatnonzero(np.diff(timestamps) <= 0)
    if bad.size:
        row = int(bad[0]) + 1
        raise DataFormatError(
            path,
            f"{stamp_column} {text[stamp_column].iloc[row]!r} does not come after {text[stamp_column].iloc[row - 1]!r} "
            "(one row per time step, in time order)",
            line=int(text.index[row]) + 2,
        )
    for column in checked_labels:
        values = numbers[column]
        bad = np.flatnonzero((values != 0) & (values != 1))
        if bad.size:
            raise DataFormatError(
                path, f"{column} {text[column].iloc[bad[0]]!r} is not 0 or 1", line=int(text.index[bad[0]]) + 2
            )
    label = np.zeros(len(text), dtype=np.int8)
    for column in label_columns:
        label |= numbers[column].astype(np.int8)
    frame = pd.DataFrame(
        {"timestamp": timestamps.astype(np.int64), "value": numbers[columns["value"]], "is_anomaly": label}
    )
    frame.attrs["source"] = str(path)
    return frame


def _numeric_column(text: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    cells = text[column].str.strip()
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        cell = cells.iloc[bad[0]]
        what = "missing value" if cell == "" else f"non-numeric value {cell!r}"
        raise DataFormatError(path, f"{what} in column {column!r}", line=int(text.index[bad[0]]) + 2)
    # pd.to_numeric's fast parser may be off by one ulp; Python's float() is correctly rounded.
    return np.array([float(cell) for cell in cells], dtype=np.float64)


def _benchmark_root(root: Path) -> Path:
    """``root`` itself, or ``root/ydata-labeled-time-series-anomalies-v1_0`` when that exists."""
    nested = root / YAHOO_DATASET
    return nested if nested.is_dir() and not (root / "A1Benchmark").is_dir() else root


def load_yahoo_benchmark(
    root: str | os.PathLike,
    benchmarks: tuple[str, ...] | list[str] = ("A1", "A2", "A3", "A4"),
    changepoints_as_anomalies: bool = False,
) -> pd.DataFrame:
    """Read Yahoo S5 benchmarks into one long frame.

    Parameters
    ----------
    root : path
        The unpacked ``ydata-labeled-time-series-anomalies-v1_0`` folder (holding
        ``A1Benchmark/`` ...), or a folder that contains it.
    benchmarks : sequence of {"A1", "A2", "A3", "A4"}
        Which benchmarks, in this order.
    changepoints_as_anomalies : bool
        See :func:`read_yahoo_csv`.

    Returns
    -------
    pd.DataFrame
        Columns ``benchmark`` (str, e.g. ``"A1"``), ``series_id`` (str, the file stem, e.g.
        ``"real_1"``), ``timestamp`` int64, ``value`` float64, ``is_anomaly`` int8. Series in
        numeric order (``real_2`` before ``real_10``), rows in file order. The release has
        :data:`YAHOO_SERIES_COUNTS` series per benchmark.

    Raises
    ------
    DataNotFoundError
        ``root`` or a requested benchmark folder is missing; the message explains the Webscope
        licence and how to point the project at a local copy.
    DataFormatError
        A malformed series file (named, with its line), or a benchmark folder without series.
    ValueError
        An unknown benchmark name.
    """
    unknown = [b for b in benchmarks if b not in YAHOO_BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown Yahoo benchmarks {unknown}; choose from {list(YAHOO_BENCHMARKS)}")
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"Yahoo S5 data not found at {root}. {_LICENCE}")
    root = _benchmark_root(root)
    frames = []
    for benchmark in benchmarks:
        folder_name, prefix = YAHOO_BENCHMARKS[benchmark]
        folder = root / folder_name
        if not folder.is_dir():
            raise DataNotFoundError(f"Yahoo S5 benchmark folder {folder} not found. {_LICENCE}")
        pattern = re.compile(rf"^{re.escape(prefix)}(\d+)\.csv$")
        files = sorted(
            ((int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.match(p.name))), key=lambda item: item[0]
        )
        if not files:
            raise DataFormatError(folder, f"no {prefix}N.csv series files")
        for _, path in files:
            series = read_yahoo_csv(path, changepoints_as_anomalies=changepoints_as_anomalies)
            series.insert(0, "series_id", path.stem)
            series.insert(0, "benchmark", benchmark)
            frames.append(series)
    frame = pd.concat(frames, ignore_index=True)
    frame["benchmark"] = frame["benchmark"].astype(str)
    frame["series_id"] = frame["series_id"].astype(str)
    frame.attrs["source"] = str(root)
    return frame
