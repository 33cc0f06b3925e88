"""Reader for the UEA multivariate archive (``<Name>_TRAIN.ts`` / ``_TEST.ts``).

The ``.ts`` format (Bagnall et al., "The UEA multivariate time series
classification archive, 2018", arXiv:1811.00075) is a ``@``-tag header followed by
``@data``; every data line is one case: channels separated by ``:``, values by
``,``, the class label last. Parsing is aeon's ``load_from_ts_file``; this module
only turns its output into :class:`~tsmtl.data.types.TimeSeriesData` (NaN padding
for unequal lengths) and turns its errors into one :class:`DataFormatError` that
names the file and, where it can be found, the 1-based line. The header is read and
checked tag by tag first (:mod:`tsmtl.data.ts_header`; aeon skips what it cannot read)
and the cases are then checked against what it declares.

Note: aeon lower-cases every data line before parsing, so string class labels
come back lower-case (``"Standing"`` -> ``"standing"``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from aeon.datasets import load_from_ts_file

from tsmtl.config import data_dir
from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.ts_header import TsHeader, check_cases_against_header, read_ts_header
from tsmtl.data.types import TimeSeriesData, normalise_labels, true_lengths

__all__ = ["read_uea_file", "load_uea_dataset", "available_uea_datasets", "dataset_name_from_path"]

_SPLIT_SUFFIX = re.compile(r"_(TRAIN|TEST)$", re.IGNORECASE)


def dataset_name_from_path(path: str | Path) -> str:
    """``.../GunPoint_TRAIN.tsv.gz`` -> ``"GunPoint"`` (extensions and split suffix removed)."""
    name = Path(path).name
    for extension in (".gz", ".tsv", ".ts", ".txt", ".csv"):
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
    return _SPLIT_SUFFIX.sub("", name)


def _locate_ts_problem(path: Path, header: TsHeader) -> tuple[int | None, str | None]:
    """Re-scan a ``.ts`` file that aeon rejected; return (1-based line, reason) of the first bad case.

    Only run on failure. Mirrors aeon's rules for files without timestamps, with the
    header's (or aeon's default) tags: every case has the same number of channels (one when
    univariate), every channel of a case the same number of values (the same in every case
    when ``@equalLength`` is true), every value a float (``?`` and ``NaN`` mean missing), and
    a numeric last field when ``@targetLabel`` is true.
    """
    if header.effective("timestamps"):
        return None, None  # (timestamp, value) tuples: aeon's own message is the best we have
    has_label = header.has_label
    n_channels: int | None = None
    n_values: int | None = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= header.data_line:
                continue
            case = number - header.data_line
            line = raw.strip()
            if not line:
                return number, "blank line inside @data"
            fields = line.split(":")
            channels = fields[:-1] if has_label else fields
            if n_channels is None:
                n_channels = len(channels)
            elif len(channels) != n_channels:
                return number, f"case {case} has {len(channels)} channels (':'-separated fields), case 1 has {n_channels}"
            if header.effective("univariate") and len(channels) > 1:
                return number, f"case {case} has {len(channels)} channels but the header has {header.cite('univariate')}"
            for channel in channels:
                for token in channel.split(","):
                    if not _is_ts_number(token):
                        hint = " (@classLabel false: the last field is read as a channel)" if not has_label else ""
                        return number, f"case {case}: non-numeric value {token.strip()!r}{hint}"
            counts = [len(channel.split(",")) for channel in channels]
            if len(set(counts)) > 1:
                return number, f"case {case}: its channels have {counts} values; the channels of a case must have equal lengths"
            if n_values is None:
                n_values = counts[0]
            elif header.effective("equallength") and counts and counts[0] != n_values:
                return number, (
                    f"case {case} has {counts[0]} values per channel, case 1 has {n_values}, "
                    f"but the header has {header.cite('equallength')}"
                )
            if header.effective("targetlabel") and not _is_ts_number(fields[-1]):
                return number, f"case {case}: @targetLabel true but the target {fields[-1].strip()!r} is not a number"
    return None, None


def _is_ts_number(token: str) -> bool:
    token = token.strip()
    if token == "?" or token.lower() == "nan":
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_uea_file(path: str | Path) -> TimeSeriesData:
    """Read one ``.ts`` file (uni- or multivariate, equal or unequal length).

    Parameters
    ----------
    path : str or Path
        A ``<Name>_TRAIN.ts`` or ``<Name>_TEST.ts`` file.

    Returns
    -------
    TimeSeriesData
        ``X`` float64 of shape (n_cases, n_channels, max_length), NaN after each
        case's true length when lengths differ (aeon returns a list of
        (n_channels, length_i) arrays then); ``lengths`` from
        :func:`~tsmtl.data.types.true_lengths`; ``y`` the class labels through
        :func:`~tsmtl.data.types.normalise_labels` (None when the file has no
        class label; float targets for ``@targetLabel`` files); ``name`` from the
        file name; ``meta`` holds the file, aeon's header metadata.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        Naming the file and, where it applies, the line and the tag: empty file, a
        header tag outside its spec (see :mod:`tsmtl.data.ts_header`: a boolean other
        than true/false, a non-positive ``@dimensions``/``@seriesLength``, an unknown
        tag...), no cases, malformed data, cases that contradict the header (channels
        vs ``@univariate``/``@dimensions``, lengths vs ``@equalLength``/``@seriesLength``,
        gaps vs ``@missing false``, labels outside ``@classLabel``), an infinite value,
        a case with no observed value.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such .ts file")
    if path.stat().st_size == 0:
        raise DataFormatError(path, "empty file")
    header = read_ts_header(path)
    try:
        X, y, meta = load_from_ts_file(str(path), return_meta_data=True)
    except (OSError, ValueError, IndexError) as error:
        line, reason = _locate_ts_problem(path, header)
        raise DataFormatError(path, reason or f"aeon could not parse it ({error})", line=line) from error
    if len(X) == 0:
        raise DataFormatError(path, "no cases after @data")
    check_cases_against_header(header, X, y, path)

    if isinstance(X, list):  # unequal length: list of (n_channels, length_i) arrays
        n_channels = X[0].shape[0] if X else 0
        width = max((case.shape[1] for case in X), default=0)
        padded = np.full((len(X), n_channels, width), np.nan)
        for i, case in enumerate(X):
            padded[i, :, : case.shape[1]] = case
        X = padded
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[0] == 0:
        raise DataFormatError(path, "no cases after @data")
    if np.isinf(X).any():
        case = int(np.argwhere(np.isinf(X))[0, 0])
        raise DataFormatError(
            path, f"case {case + 1} has an infinite value (only ? or NaN may mark missing values)", line=header.case_line(case)
        )

    labels: np.ndarray | None
    if meta.get("classlabel"):  # labels outside the @classLabel list were refused above
        labels = normalise_labels(y)
    elif meta.get("targetlabel"):
        labels = np.asarray(y, dtype=np.float64)
    else:
        labels = None

    lengths = true_lengths(X)
    if (lengths == 0).any():
        case = int(np.flatnonzero(lengths == 0)[0])
        raise DataFormatError(path, f"case {case + 1} has no observed value", line=header.case_line(case))
    return TimeSeriesData(
        X=X,
        y=labels,
        lengths=lengths,
        name=dataset_name_from_path(path),
        meta={"source": str(path), "format": "ts", "ts_header": dict(meta)},
    )


def _default_root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else data_dir() / "uea"


def load_uea_dataset(name: str, root: str | Path | None = None) -> dict[str, TimeSeriesData]:
    """Both splits of a UEA dataset: ``{"train": ..., "test": ...}``.

    Looks for ``<root>/<name>/<name>_{TRAIN,TEST}.ts`` and then the flat
    ``<root>/<name>_{TRAIN,TEST}.ts``; ``root`` defaults to ``data_dir()/"uea"``.
    ``"test"`` is left out when only the TRAIN file exists.

    Raises
    ------
    DataNotFoundError
        No TRAIN file; the message lists the paths tried.
    """
    base = _default_root(root)
    splits: dict[str, TimeSeriesData] = {}
    tried: list[Path] = []
    for split in ("TRAIN", "TEST"):
        candidates = [base / name / f"{name}_{split}.ts", base / f"{name}_{split}.ts"]
        tried += candidates
        found = next((c for c in candidates if c.is_file()), None)
        if found is not None:
            splits[split.lower()] = read_uea_file(found)
    if "train" not in splits:
        raise DataNotFoundError(
            f"UEA dataset {name!r}: no TRAIN file; looked for {', '.join(str(p) for p in tried)}. "
            "Copy the archive's <Name>/<Name>_TRAIN.ts and _TEST.ts there (or set TSMTL_DATA_DIR)."
        )
    return splits


def available_uea_datasets(root: str | Path | None = None) -> list[str]:
    """Sorted names with a ``_TRAIN.ts`` file under ``root`` (nested or flat); [] if ``root`` is missing."""
    base = _default_root(root)
    if not base.is_dir():
        return []
    names = {dataset_name_from_path(p) for p in base.glob("*/*_TRAIN.ts")}
    names |= {dataset_name_from_path(p) for p in base.glob("*_TRAIN.ts")}
    return sorted(names)
