"""Datasets that ship inside aeon's wheel (``aeon/datasets/data/``): the default data, no download.

Network safety (read in aeon 1.6's source):

* ``aeon.datasets.load_classification`` downloads from Zenodo whenever the name is
  not found in its bundled folder or cache, so this module never calls it with a
  name it has not first checked against :data:`EMBEDDED_CLASSIFICATION`; it
  instead reads the bundled ``<name>_TRAIN.ts`` / ``_TEST.ts`` files directly
  through :func:`tsmtl.data.uea.read_uea_file` (aeon's ``load_from_ts_file``),
  which only opens local files.
* ``aeon.datasets.load_anomaly_detection`` first calls ``tsad_datasets()``, which
  downloads the TimeEval index CSV when it is not cached, even for datasets that
  ship with aeon. So the anomaly series is read with aeon's
  ``load_from_timeeval_csv_file`` on the bundled CSV (what aeon's own
  ``load_kdd_tsad_135`` does), which never touches the network.
"""

from __future__ import annotations

from pathlib import Path

import aeon
import numpy as np
import pandas as pd
from aeon.datasets import load_from_timeeval_csv_file

from tsmtl.data.errors import DataFormatError, DataNotFoundError
from tsmtl.data.types import TimeSeriesData
from tsmtl.data.uea import read_uea_file

__all__ = [
    "AEON_DATA_DIR",
    "EMBEDDED_CLASSIFICATION",
    "EMBEDDED_ANOMALY",
    "load_embedded_classification",
    "load_embedded_anomaly",
]

AEON_DATA_DIR = Path(aeon.__file__).parent / "datasets" / "data"

#: Classification problems with both a TRAIN and a TEST ``.ts`` file in aeon 1.6's
#: wheel. ``_eq`` names are aeon's equal-length (truncated) versions of the unequal
#: length JapaneseVowels and PickupGestureWiimoteZ. Left out: CardanoSentiment and
#: Covid3Month (regression targets), UnitTestTimeStamps (TRAIN only).
EMBEDDED_CLASSIFICATION: tuple[str, ...] = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "Covid3Month_disc",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "JapaneseVowels_eq",
    "OSULeaf",
    "PickupGestureWiimoteZ",
    "PickupGestureWiimoteZ_eq",
    "UnitTest",
)

#: Anomaly-detection series shipped with aeon, as (folder, file stem). Daphnet_S06R02E0
#: is left out: aeon 1.6 deprecates it because its excerpt has no labelled anomaly.
EMBEDDED_ANOMALY: dict[str, tuple[str, str]] = {
    "KDD-TSAD_135": ("KDD-TSAD_135", "135_UCR_Anomaly_InternalBleeding16"),
}


def _embedded_file(name: str, split: str) -> Path:
    folder = name[: -len("_eq")] if name.endswith("_eq") else name
    return AEON_DATA_DIR / folder / f"{name}_{split}.ts"


def load_embedded_classification(name: str) -> dict[str, TimeSeriesData]:
    """Train and test split of a classification dataset shipped with aeon.

    Parameters
    ----------
    name : str
        One of :data:`EMBEDDED_CLASSIFICATION`, e.g. ``"GunPoint"``.

    Returns
    -------
    dict
        ``{"train": TimeSeriesData, "test": TimeSeriesData}``; ``X`` of shape
        (n_cases, n_channels, n_timepoints), NaN-padded for the unequal-length
        sets. String labels come back lower-case (aeon's ``.ts`` loader).

    Raises
    ------
    DataNotFoundError
        ``name`` is not shipped with aeon (nothing is downloaded), or the
        installed aeon lacks the file.
    """
    if name not in EMBEDDED_CLASSIFICATION:
        raise DataNotFoundError(
            f"{name!r} is not a classification dataset shipped with aeon (embedded: "
            f"{', '.join(EMBEDDED_CLASSIFICATION)}). Other UCR/UEA sets are read from "
            "TSMTL_DATA_DIR with tsmtl.data.ucr / tsmtl.data.uea."
        )
    splits: dict[str, TimeSeriesData] = {}
    for split in ("TRAIN", "TEST"):
        path = _embedded_file(name, split)
        if not path.is_file():
            raise DataNotFoundError(f"{path}: missing from the installed aeon ({aeon.__version__})")
        data = read_uea_file(path)
        data.name = name
        data.meta["source"] = f"aeon {aeon.__version__} embedded: {path.name}"
        splits[split.lower()] = data
    return splits


def load_embedded_anomaly(name: str = "KDD-TSAD_135") -> pd.DataFrame:
    """The labelled test series of an anomaly-detection dataset shipped with aeon.

    ``KDD-TSAD_135`` is UCR anomaly archive series 135 (InternalBleeding16, a
    patient's heart rate; Keogh et al., SIGKDD 2021 competition): 7,501 points
    with one annotated anomalous region. aeon also ships a 1,200-point TRAIN file,
    which is the anomaly-free prefix of the same series (semi-supervised setting);
    it is **not** returned here: this function returns the TEST file, the whole
    series with its labels, and ``attrs["train_length"]`` says how many leading
    points form the anomaly-free training part.

    Parameters
    ----------
    name : str
        A key of :data:`EMBEDDED_ANOMALY`.

    Returns
    -------
    pd.DataFrame
        Columns ``timestamp`` (int64 position 0..n-1), ``value`` (float64) and
        ``is_anomaly`` (int64, 0/1), one row per time point; ``attrs`` holds
        ``name``, ``source`` and ``train_length``.

    Raises
    ------
    DataNotFoundError
        Unknown name or file missing from the installed aeon.
    DataFormatError
        The file is not a univariate TimeEval CSV with 0/1 labels.
    """
    if name not in EMBEDDED_ANOMALY:
        raise DataNotFoundError(f"{name!r} is not an anomaly dataset shipped with aeon (embedded: {', '.join(EMBEDDED_ANOMALY)})")
    folder, stem = EMBEDDED_ANOMALY[name]
    test_path = AEON_DATA_DIR / folder / f"{stem}_TEST.csv"
    train_path = AEON_DATA_DIR / folder / f"{stem}_TRAIN.csv"
    if not test_path.is_file():
        raise DataNotFoundError(f"{test_path}: missing from the installed aeon ({aeon.__version__})")
    values, labels = load_from_timeeval_csv_file(test_path)
    if values.ndim != 1:
        raise DataFormatError(test_path, f"expected one value column, found {values.shape[1]}")
    outside = np.flatnonzero(~np.isin(labels, (0, 1)))
    if outside.size:  # one header line, then one row per point
        row = int(outside[0])
        raise DataFormatError(test_path, f"is_anomaly {labels[row].item()!r} is not 0 or 1", line=row + 2)
    frame = pd.DataFrame(
        {
            "timestamp": np.arange(len(values), dtype=np.int64),
            "value": values.astype(np.float64),
            "is_anomaly": labels.astype(np.int64),
        }
    )
    train_length = len(load_from_timeeval_csv_file(train_path)[0]) if train_path.is_file() else 0
    frame.attrs.update({"name": name, "source": f"aeon {aeon.__version__} embedded: {test_path.name}", "train_length": train_length})
    return frame
