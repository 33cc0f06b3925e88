"""ETT (Electricity Transformer Temperature) files and their standard forecasting split.

ETT (Zhou et al., Informer, AAAI 2021) has four files: ETTh1/ETTh2 (hourly,
17,420 rows) and ETTm1/ETTm2 (15-minute, 69,680 rows), columns
``date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT``. T-Rep (Appendix, forecasting
procedure) and TS2Vec use Informer's 12/4/4-month train/validation/test split,
reproduced by :func:`ett_borders`, with a ``StandardScaler`` fitted on the
training rows only (:func:`split_ett`). Rows after the 20 months are unused, as
in Informer.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from tsmtl.config import data_dir
from tsmtl.data.errors import DataFormatError, DataNotFoundError

__all__ = [
    "ETT_COLUMNS",
    "ETT_NAMES",
    "ETTBorders",
    "ETTSplits",
    "read_ett_csv",
    "ett_borders",
    "split_ett",
    "load_ett",
]

ETT_COLUMNS: tuple[str, ...] = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
ETT_NAMES: tuple[str, ...] = ("ETTh1", "ETTh2", "ETTm1", "ETTm2")

#: Informer's month = 30 days; hours per split (Dataset_ETT_hour: 12*30*24, 4*30*24, 4*30*24).
_TRAIN_HOURS = 12 * 30 * 24
_VAL_HOURS = 4 * 30 * 24
_TEST_HOURS = 4 * 30 * 24


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_ett_csv(path: str | Path) -> pd.DataFrame:
    """Read one ETT csv (plain or ``.gz``).

    Parameters
    ----------
    path : str or Path
        E.g. ``ett/ETTh1.csv`` or ``ett/ETTm1.csv.gz``.

    Returns
    -------
    pd.DataFrame
        Shape (n_rows, 7): the :data:`ETT_COLUMNS` in that order, float64, on a
        strictly increasing ``DatetimeIndex`` named ``date``.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Naming the file (and 1-based line where it applies): empty file, wrong
        column set (missing / extra listed), row with too many fields,
        unparsable date, missing or non-numeric value, dates not strictly
        increasing, a skipped or uneven time step (ETTh*: 1 h, ETTm*: 15 min,
        other names: the first step).
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such ETT file")
    try:
        with _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DataFormatError(path, f"cannot read file ({error})") from error
    if not header or not any(cell.strip() for cell in header):
        raise DataFormatError(path, "empty file")
    header = [cell.strip() for cell in header]
    expected = ["date", *ETT_COLUMNS]
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        detail = f"missing {missing}" if missing else ""
        detail += ("; " if detail and extra else "") + (f"extra {extra}" if extra else "")
        raise DataFormatError(path, f"columns must be {expected}, got {header}" + (f" ({detail})" if detail else " (wrong order)"), line=1)

    try:
        # All cells as text first so that every bad cell can be traced to its line.
        table = pd.read_csv(path, dtype=str, keep_default_na=False, compression="infer", engine="c")
    except pd.errors.ParserError as error:
        match = re.search(r"line (\d+)", str(error))
        raise DataFormatError(path, f"row does not have 8 fields ({error})", line=int(match.group(1)) if match else None) from error
    if table.empty:
        raise DataFormatError(path, "header only, no rows")

    dates = pd.to_datetime(table["date"].str.strip(), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:  # line = data row + 2 (1-based, after the header)
        raise DataFormatError(path, f"unparsable date {table['date'].iloc[bad[0]]!r} (expected YYYY-MM-DD HH:MM:SS)", line=int(bad[0]) + 2)
    values = {}
    for column in ETT_COLUMNS:
        numbers = pd.to_numeric(table[column].str.strip(), errors="coerce").astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(numbers.to_numpy()))
        if bad.size:
            raise DataFormatError(path, f"{column}: missing or non-numeric value {table[column].iloc[bad[0]]!r}", line=int(bad[0]) + 2)
        values[column] = numbers.to_numpy()
    index = pd.DatetimeIndex(dates, name="date")
    steps = np.diff(index.asi8)
    not_increasing = np.flatnonzero(steps <= 0)
    if not_increasing.size:
        row = int(not_increasing[0]) + 1
        raise DataFormatError(path, f"date {index[row]} does not come after {index[row - 1]} (dates must strictly increase)", line=row + 2)
    _check_spacing(index, path)
    frame = pd.DataFrame(values, index=index, columns=list(ETT_COLUMNS))
    frame.attrs["source"] = str(path)
    return frame


def _check_spacing(index: pd.DatetimeIndex, path: Path) -> None:
    """One row per time step: every date one step after the previous (1 h for ETTh*, 15 min for ETTm*).

    Informer's borders count rows as hours (or quarter hours), so a skipped or doubled step
    would silently shift every split. A file named otherwise must be evenly spaced.
    """
    if len(index) < 2:
        return
    per_hour = _steps_per_hour_from_name(path.name)
    steps = np.diff(index.to_numpy())  # timedelta64, positive (checked above)
    if per_hour is not None:
        step = pd.Timedelta(hours=1) / per_hour
        why = f"{path.name[:4]} files have one row every {step}"
    else:
        step = pd.Timedelta(steps[0])
        why = f"rows must be evenly spaced like the first two ({step} apart)"
    wrong = np.flatnonzero(steps != step.to_timedelta64())
    if wrong.size:
        row = int(wrong[0]) + 1
        raise DataFormatError(
            path, f"date {index[row]} comes {index[row] - index[row - 1]} after {index[row - 1]}; {why}", line=row + 2
        )


@dataclass(frozen=True)
class ETTBorders:
    """Row ranges ``(start, end)``, end exclusive, of the three ETT splits."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def as_dict(self) -> dict[str, tuple[int, int]]:
        return {"train": self.train, "val": self.val, "test": self.test}


def _steps_per_hour_from_name(name: str) -> int | None:
    stem = Path(name).name
    if stem.startswith("ETTh"):
        return 1
    if stem.startswith("ETTm"):
        return 4
    return None


def _steps_per_hour_from_index(index: pd.Index, label: str) -> int:
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise ValueError(f"{label}: cannot infer the ETT frequency: need a DatetimeIndex with at least 2 rows")
    spacing = index.to_series().diff().median()  # a Timedelta, whatever the index's time unit
    per_hour = pd.Timedelta(hours=1) / spacing
    if per_hour not in (1, 4):
        raise ValueError(f"{label}: ETT rows must be 1 h or 15 min apart, found a typical spacing of {spacing}")
    return int(per_hour)


def _frame_label(frame: pd.DataFrame, name: str | None = None) -> str:
    """How errors name an ETT frame: ``name``, else the file it was read from, else ``"ETT frame"``."""
    return name or str(frame.attrs.get("source") or "ETT frame")


def ett_borders(
    name_or_n_rows: str | int | pd.DataFrame,
    lookback: int = 0,
    *,
    steps_per_hour: int | None = None,
    label: str | None = None,
) -> ETTBorders:
    """Informer's 12/4/4-month ETT borders (Informer ``Dataset_ETT_hour`` / ``_minute``; T-Rep appendix).

    ETTh1/2: train ``[0, 8640)``, val ``[8640, 11520)``, test ``[11520, 14400)``
    (12, 4 and 4 months of 30 days, hourly); ETTm1/2: every number times 4
    (``[0, 34560)``, ``[34560, 46080)``, ``[46080, 57600)``).

    Parameters
    ----------
    name_or_n_rows : str, int or DataFrame
        A name (``"ETTh1"``, ``"ETTm2"``, a file name also works) giving the
        frequency; or a frame with a DatetimeIndex, whose spacing gives the
        frequency and whose length is checked to cover the test range; or a row
        count, which then needs ``steps_per_hour``.
    lookback : int, default 0
        Like Informer's ``seq_len``: val and test start ``lookback`` rows early,
        i.e. ``val = (8640 - lookback, 11520)``, so that the first target window
        of val/test can see ``lookback`` rows of context (which lie in the
        previous split). Train always starts at 0. 0 gives disjoint splits.
    steps_per_hour : int, optional
        1 (hourly) or 4 (15 min); overrides the inference.
    label : str, optional
        How error messages name the data; default the name, the frame's source
        file (``attrs["source"]``, set by :func:`read_ett_csv`) or ``"ETT data"``.

    Returns
    -------
    ETTBorders

    Raises
    ------
    ValueError
        Naming the dataset or file: unknown frequency, ``lookback`` outside
        ``[0, train length]``, or a frame/row count shorter than the test end.
    """
    n_rows: int | None = None
    if isinstance(name_or_n_rows, pd.DataFrame):
        n_rows = len(name_or_n_rows)
        label = label or _frame_label(name_or_n_rows)
        if steps_per_hour is None:
            steps_per_hour = _steps_per_hour_from_index(name_or_n_rows.index, label)
    elif isinstance(name_or_n_rows, (int, np.integer)):
        n_rows = int(name_or_n_rows)
        label = label or "ETT data"
    else:
        label = label or str(name_or_n_rows)
        if steps_per_hour is None:
            steps_per_hour = _steps_per_hour_from_name(str(name_or_n_rows))
            if steps_per_hour is None:
                raise ValueError(
                    f"{label}: cannot tell the ETT frequency from {name_or_n_rows!r}: expected a name starting ETTh or ETTm"
                )
    if steps_per_hour not in (1, 4):
        raise ValueError(f"{label}: steps_per_hour must be 1 (ETTh) or 4 (ETTm), got {steps_per_hour}")
    train_end = _TRAIN_HOURS * steps_per_hour
    val_end = train_end + _VAL_HOURS * steps_per_hour
    test_end = val_end + _TEST_HOURS * steps_per_hour
    if not 0 <= lookback <= train_end:
        raise ValueError(f"{label}: lookback must lie in [0, {train_end}], got {lookback}")
    if n_rows is not None and n_rows < test_end:
        raise ValueError(f"{label}: {n_rows} rows do not cover the ETT test range, which ends at row {test_end}")
    return ETTBorders(train=(0, train_end), val=(train_end - lookback, val_end), test=(val_end - lookback, test_end))


@dataclass
class ETTSplits:
    """Time-ordered ETT splits and the scaler fitted on the training rows.

    Attributes
    ----------
    train, val, test : pd.DataFrame
        Consecutive row ranges of the file (see :func:`ett_borders`), 7 columns.
    scaler : StandardScaler
        Fitted on ``train`` only (Informer, ``Dataset_ETT_hour.__read_data__``),
        so no statistic of val/test leaks into training.
    borders : ETTBorders
        The row ranges used.
    """

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    scaler: StandardScaler
    borders: ETTBorders

    def scaled(self, split: str) -> np.ndarray:
        """``split`` ("train", "val" or "test") standardised with the train scaler: float64 (n_rows, 7)."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        frame: pd.DataFrame = getattr(self, split)
        return self.scaler.transform(frame.to_numpy(dtype=np.float64))

    def inverse_scaled(self, values: np.ndarray) -> np.ndarray:
        """Undo :meth:`scaled` for an array whose last axis is the 7 ETT columns."""
        values = np.asarray(values, dtype=np.float64)
        return values * self.scaler.scale_ + self.scaler.mean_


def split_ett(frame: pd.DataFrame, name: str | None = None, lookback: int = 0) -> ETTSplits:
    """Cut an ETT frame into Informer's train/val/test and fit the scaler on train.

    Parameters
    ----------
    frame : pd.DataFrame
        As returned by :func:`read_ett_csv` (n_rows, 7), time-ordered.
    name : str, optional
        ``"ETTh1"`` ... for the frequency; inferred from the index when None.
    lookback : int, default 0
        See :func:`ett_borders`.

    Returns
    -------
    ETTSplits
        Row slices in file order (never shuffled) and a ``StandardScaler``
        fitted on the train rows.

    Raises
    ------
    ValueError
        Naming ``name`` (or the frame's source file): missing columns, unknown
        frequency, too few rows for the test border, bad ``lookback``.
    """
    label = _frame_label(frame, name)
    missing = [c for c in ETT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{label}: frame lacks ETT columns {missing}")
    steps_per_hour = _steps_per_hour_from_name(name) if name is not None else None
    if steps_per_hour is None:
        steps_per_hour = _steps_per_hour_from_index(frame.index, label)
    borders = ett_borders(len(frame), lookback, steps_per_hour=steps_per_hour, label=label)
    data = frame.loc[:, list(ETT_COLUMNS)]
    parts = {split: data.iloc[start:end] for split, (start, end) in borders.as_dict().items()}
    scaler = StandardScaler().fit(parts["train"].to_numpy(dtype=np.float64))
    return ETTSplits(train=parts["train"], val=parts["val"], test=parts["test"], scaler=scaler, borders=borders)


def load_ett(name: str, root: str | Path | None = None) -> pd.DataFrame:
    """Read ``<root>/<name>.csv`` or else ``<root>/<name>.csv.gz``; root defaults to ``data_dir()/"ett"``.

    Raises
    ------
    DataNotFoundError
        Neither file exists; the message lists both paths.
    """
    base = Path(root) if root is not None else data_dir() / "ett"
    candidates = [base / f"{name}.csv", base / f"{name}.csv.gz"]
    for candidate in candidates:
        if candidate.is_file():
            return read_ett_csv(candidate)
    raise DataNotFoundError(
        f"ETT file {name!r} not found; looked for {candidates[0]} and {candidates[1]}. "
        "ETT-small/*.csv is in github.com/zhouhaoyi/ETDataset (set TSMTL_DATA_DIR to its folder)."
    )
