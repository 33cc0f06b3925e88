"""Reader for the UCR 2018 univariate archive (``<Name>/<Name>_TRAIN.tsv``, ``_TEST.tsv``).

Format (Dau et al., "The UCR Time Series Archive", arXiv:1810.07758, Sec. 3):
tab-separated, no header, one case per line, column 1 the class label (an integer,
e.g. ECG200's -1/1), then the values. Variable-length datasets (AllGestureWiimote*, GestureMidAir*, ...) are
right-padded with ``NaN`` to a common width, so every file is rectangular;
``NaN`` inside a series (DodgerLoop*) is a missing value and stays ``NaN``.
``.tsv.gz`` (plain gzip of the same file) and univariate ``.ts`` files (read by
aeon, see :mod:`tsmtl.data.uea`) are accepted too.

The TSV parser is pandas' C reader; the structural checks that pandas does not do
(rectangular rows, no label-only rows, one 1-based line per error) are a cheap
pass over the raw lines that counts tabs, so the 16 MB NonInvasiveFetalECGThorax
files still read in about a second.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tsmtl.config import data_dir
from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.types import TimeSeriesData, normalise_labels, true_lengths
from tsmtl.data.uea import dataset_name_from_path, read_uea_file

__all__ = ["read_ucr_file", "load_ucr_dataset", "available_ucr_datasets", "UCR_DOWNLOAD_HINT"]

UCR_DOWNLOAD_HINT = (
    "Get the UCR 2018 archive files with `kedro run --pipelines download_ucr` "
    "(or copy UCRArchive_2018/<Name>/ there, or set TSMTL_DATA_DIR)."
)
_EXTENSIONS = (".tsv", ".tsv.gz", ".ts")
_MISSING_TOKENS = ["NaN", "nan"]


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(path, f"cannot read file ({error})") from error


def _first_bad_token(lines: list[bytes]) -> tuple[int, str] | None:
    """1-based line and token of the first value that is not a float (slow path, run on failure only)."""
    for number, line in enumerate(lines, start=1):
        for token in line.split(b"\t"):
            text = token.decode("utf-8", errors="replace").strip()
            if text in _MISSING_TOKENS:
                continue
            try:
                float(text)
            except ValueError:
                return number, text
    return None


def _read_tsv(path: Path) -> TimeSeriesData:
    raw = _read_bytes(path)
    if not raw.strip():
        raise DataFormatError(path, "empty file")
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    while lines and not lines[-1].strip():  # trailing newline(s) at the end of the file
        lines.pop()

    # Structure first (pandas would silently NaN-fill a short row), one line number per problem.
    n_fields = lines[0].count(b"\t") + 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataFormatError(path, "blank line", line=number)
        fields = line.count(b"\t") + 1
        if fields == 1:
            raise DataFormatError(path, "row has only a label and no values", line=number)
        if fields != n_fields:
            raise DataFormatError(
                path,
                f"row has {fields} tab-separated fields but line 1 has {n_fields}; "
                "UCR .tsv files are rectangular (shorter series are padded with NaN)",
                line=number,
            )

    try:
        table = pd.read_csv(
            io.BytesIO(raw),
            sep="\t",
            header=None,
            dtype=np.float64,
            na_values=_MISSING_TOKENS,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
        ).to_numpy()
    except (ValueError, pd.errors.ParserError) as error:
        bad = _first_bad_token(lines)
        if bad is not None:
            raise DataFormatError(path, f"non-numeric value {bad[1]!r}", line=bad[0]) from error
        raise DataFormatError(path, f"cannot parse as tab-separated numbers ({error})") from error
    if table.shape != (len(lines), n_fields):  # defensive: pandas and the line scan must agree
        raise DataFormatError(path, f"parsed shape {table.shape} does not match {len(lines)} lines x {n_fields} fields")

    labels, values = table[:, 0], table[:, 1:]
    bad_labels = np.flatnonzero(~np.isfinite(labels))
    if bad_labels.size:
        raise DataFormatError(path, f"class label is {labels[bad_labels[0]]} (must be a finite number)", line=int(bad_labels[0]) + 1)
    fractional = np.flatnonzero(labels != np.round(labels))
    if fractional.size:
        raise DataFormatError(
            path,
            f"class label {float(labels[fractional[0]])!r} in column 1 is not an integer (UCR 2018 class labels are integers)",
            line=int(fractional[0]) + 1,
        )
    infinite = np.argwhere(np.isinf(values))
    if infinite.size:
        raise DataFormatError(path, "infinite value (only NaN may mark padding or gaps)", line=int(infinite[0, 0]) + 1)

    X = values[:, np.newaxis, :]
    lengths = true_lengths(X)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise DataFormatError(path, "series has no observed value (all NaN)", line=int(empty[0]) + 1)
    return TimeSeriesData(
        X=np.ascontiguousarray(X),
        y=normalise_labels(labels),
        lengths=lengths,
        name=dataset_name_from_path(path),
        meta={"source": str(path), "format": "tsv"},
    )


def read_ucr_file(path: str | Path) -> TimeSeriesData:
    """Read one UCR split file: ``.tsv``, ``.tsv.gz`` or univariate ``.ts``.

    Parameters
    ----------
    path : str or Path
        E.g. ``ucr/ECG200/ECG200_TRAIN.tsv``.

    Returns
    -------
    TimeSeriesData
        ``X`` float64 of shape (n_cases, 1, width) where width is the number of
        value columns (NaN padding kept); ``lengths`` the true lengths (one past
        the last non-NaN value); ``y`` the labels as classes (ECG200's -1/1 stay
        -1/1); ``name`` from the file name without ``_TRAIN``/``_TEST`` and
        extensions.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Naming the file and the 1-based line: empty file, blank line, non-numeric
        value, ragged row (field count differs from line 1), label-only row,
        non-finite or non-integer label, infinite value, all-NaN series; for
        ``.ts`` every check of :func:`~tsmtl.data.uea.read_uea_file` and a
        multivariate file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such UCR file. {UCR_DOWNLOAD_HINT}")
    if path.name.lower().endswith(".ts"):
        data = read_uea_file(path)
        if data.n_channels != 1:
            raise DataFormatError(path, f"expected a univariate UCR series, found {data.n_channels} channels")
        return data
    return _read_tsv(path)


def _default_root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else data_dir() / "ucr"


def _candidates(base: Path, name: str, split: str) -> list[Path]:
    stem = f"{name}_{split}"
    return [base / name / f"{stem}{ext}" for ext in _EXTENSIONS] + [base / f"{stem}{ext}" for ext in _EXTENSIONS]


def load_ucr_dataset(name: str, root: str | Path | None = None) -> dict[str, TimeSeriesData]:
    """Both splits of one UCR dataset: ``{"train": ..., "test": ...}``.

    Looks, in this order, for ``<root>/<name>/<name>_<SPLIT>{.tsv,.tsv.gz,.ts}`` and
    then the flat ``<root>/<name>_<SPLIT>...``; the first that exists is read.
    ``root`` defaults to ``data_dir()/"ucr"``. ``"test"`` is absent when only the
    TRAIN file exists (UWaveGestureLibraryX/Y/Z in the shared data).

    Raises
    ------
    DataNotFoundError
        No TRAIN file; the message lists every path tried and how to download.
    """
    base = _default_root(root)
    splits: dict[str, TimeSeriesData] = {}
    tried: list[Path] = []
    for split in ("TRAIN", "TEST"):
        candidates = _candidates(base, name, split)
        tried += candidates
        found = next((c for c in candidates if c.is_file()), None)
        if found is not None:
            splits[split.lower()] = read_ucr_file(found)
    if "train" not in splits:
        raise DataNotFoundError(
            f"UCR dataset {name!r}: no TRAIN file under {base}; looked for "
            f"{', '.join(str(p) for p in tried[: len(_EXTENSIONS) * 2])}. {UCR_DOWNLOAD_HINT}"
        )
    return splits


def available_ucr_datasets(root: str | Path | None = None) -> list[str]:
    """Sorted names that have a TRAIN file under ``root`` (nested or flat); [] if ``root`` is missing."""
    base = _default_root(root)
    if not base.is_dir():
        return []
    names: set[str] = set()
    for ext in _EXTENSIONS:
        names |= {dataset_name_from_path(p) for p in base.glob(f"*/*_TRAIN{ext}") if p.parent.name == dataset_name_from_path(p)}
        names |= {dataset_name_from_path(p) for p in base.glob(f"*_TRAIN{ext}")}
    return sorted(names)
