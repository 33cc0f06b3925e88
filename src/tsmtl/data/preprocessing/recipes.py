"""Paper-specific recipes: the preprocessing one paper's experiment prescribes.

* T-Rep (appendix, "Anomaly detection / Sepsis"): per-patient forward fill, the last 45 hours,
  the paper's ten features (:func:`physionet_last_hours`).
* ForeClassNet (Sec. 5.1, ECG5000): SMOTE on the training split (:func:`smote_oversample`).
* T-Rep (Sec. 4.4, "Robustness to missing data"): remove a random fraction of the data
  (:func:`random_missing`).

Pure functions producing :class:`~tsmtl.data.types.TimeSeriesData` (X (n_cases, n_channels,
n_timepoints)); split out of ``tsmtl/data/preprocessing.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.cleaning import forward_fill_frame
from tsmtl.data.preprocessing.conventions import (
    dataset_label,
    frame_label,
    observed_mask,
    plain_value,
    require_labels,
    with_step,
)
from tsmtl.data.types import TimeSeriesData

__all__ = ["physionet_last_hours", "random_missing", "smote_oversample"]


def physionet_last_hours(
    frame: pd.DataFrame,
    hours: int = 45,
    features: Sequence[str] | None = None,
    label: str = "SepsisLabel",
    by: str = "patient_id",
    align: str = "start",
) -> TimeSeriesData:
    """T-Rep's Sepsis preprocessing: per-patient forward-fill, the last ``hours`` hours, ``features``.

    T-Rep, appendix "Anomaly detection / Sepsis": forward-fill all missing values, standardise
    the length to 45 = the last 45 hours of each ICU stay, keep ten features. The frame's rows
    must be in time order within each patient (as in the ``.psv`` files).

    Stays shorter than ``hours`` (set A: 8 h minimum): the paper does not say; T-Rep's released
    ``datasets/preprocess_sepsis.py`` pads them at the *front* (with zeros), keeping the last
    hour last. Here:

    * ``align="start"`` (default; the project convention): the kept hours start at index 0 and are NaN-padded at the end;
      ``lengths`` = rows kept.
    * ``align="end"`` (T-Rep's code): NaN-padded at the front, the last hour at index
      ``hours - 1``; ``lengths = hours`` for every patient (the front NaN are gaps by the
      project convention); ``meta["n_hours_kept"]`` holds the rows kept. T-Rep's zero
      padding is then ``forward_fill(data, fill_leading=0.0)``.

    Values before a feature's first measurement stay NaN (T-Rep's code also back-filled and
    interpolated; the paper says forward-fill only).

    Parameters
    ----------
    frame : pd.DataFrame
        Long frame: ``by`` + the PhysioNet columns (``tsmtl.data.physionet.load_physionet``).
    hours : int
        Hours kept per patient (paper: 45).
    features : sequence of str, optional
        Channels, in order; default ``tsmtl.data.physionet.PAPER_FEATURES`` (the paper's ten).
    label : str
        Hourly label column; a patient is septic (y = 1) when any of its hours is 1.
    by : str
        Patient id column.
    align : {"start", "end"}
        See above.

    Returns
    -------
    TimeSeriesData
        ``X`` (n_patients, n_features, hours) -- the paper's N x 45 x 10 transposed;
        ``y`` int64 (n_patients,); patients sorted by id. ``meta``: ``patient_id``,
        ``features``, ``n_hours_kept`` (int64), ``sepsis_label`` (float64 (n_patients, hours),
        the hourly labels aligned with ``X``, NaN where no row).

    Raises
    ------
    ValueError
        Naming the frame's source (``attrs["source"]``, set by ``load_physionet``): missing
        columns, no rows, an hourly label other than 0, 1 or NaN, bad ``hours``/``align``.
    """
    if features is None:
        from tsmtl.data.physionet import PAPER_FEATURES  # lazy: keeps this module importable alone

        features = PAPER_FEATURES
    features = list(features)
    where = frame_label(frame, "physionet_last_hours")
    if hours < 1:
        raise ValueError(f"{where}: hours must be >= 1, got {hours}")
    if align not in ("start", "end"):
        raise ValueError(f"{where}: align must be 'start' or 'end', got {align!r}")
    missing = [c for c in (by, *features, label) if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: frame lacks columns {missing}")
    if frame.empty:
        raise ValueError(f"{where}: the frame has no rows")
    hourly_labels = frame[label].to_numpy(dtype=np.float64)
    outside = ~np.isnan(hourly_labels) & ~np.isin(hourly_labels, (0.0, 1.0))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"{where}: {label!r} must be 0 or 1 (NaN: no label), found {hourly_labels[row]:g} "
            f"for {by} {frame[by].iloc[row]!r} (row {row})"
        )

    filled = forward_fill_frame(frame[[by, *features]], by=by)
    patient = frame[by].to_numpy()
    ids = np.array(sorted(pd.unique(patient)), dtype=object)
    case = pd.Categorical(patient, categories=ids).codes.astype(np.int64)
    from_end = frame.groupby(by, sort=False).cumcount(ascending=False).to_numpy()
    n_rows = np.bincount(case, minlength=len(ids)).astype(np.int64)
    n_kept = np.minimum(n_rows, hours)
    keep = from_end < hours
    if align == "end":
        column = hours - 1 - from_end[keep]
    else:
        column = n_kept[case[keep]] - 1 - from_end[keep]

    X = np.full((len(ids), len(features), hours), np.nan)
    X[case[keep], :, column] = filled[features].to_numpy(dtype=np.float64)[keep]
    hourly = np.full((len(ids), hours), np.nan)
    hourly[case[keep], column] = hourly_labels[keep]
    septic = np.zeros(len(ids), dtype=bool)
    np.logical_or.at(septic, case, hourly_labels == 1)

    lengths = n_kept if align == "start" else np.full(len(ids), hours, dtype=np.int64)
    meta = with_step(
        {
            "patient_id": ids,
            "features": features,
            "n_hours_kept": n_kept,
            "sepsis_label": hourly,
        },
        {"step": "physionet_last_hours", "hours": hours, "align": align, "fill": "forward per patient"},
    )
    return TimeSeriesData(
        X=X, y=septic.astype(np.int64), lengths=lengths, name="PhysioNet2019Sepsis", meta=meta
    )


def smote_oversample(train: TimeSeriesData, seed: int = 0, k_neighbors: int = 5) -> TimeSeriesData:
    """Balance the classes of a *training* split with SMOTE (ForeClassNet, Sec. 5.1, ECG5000).

    imbalanced-learn's :class:`~imblearn.over_sampling.SMOTE` (``sampling_strategy="auto"``:
    every class is raised to the majority count) on the series flattened to
    ``(n_cases, n_channels * n_timepoints)``, reshaped back.

    The paper applied SMOTE before splitting (its data set has 2919 = the whole data's
    majority count per class), which lets synthetic neighbours of test cases into training;
    this function refuses any split but train.

    ``k_neighbors`` is lowered to ``(smallest minority class size) - 1`` when that is smaller
    (SMOTE needs ``k`` neighbours of the same class); a minority class of one case is refused.

    Returns
    -------
    TimeSeriesData
        The original cases first, in order, then the synthetic ones; ``meta["synthetic"]`` bool
        (n_cases,) marks the synthetic cases; ``meta["smote"]`` records ``k_neighbors`` used,
        ``seed`` and the class counts before.

    Raises
    ------
    ValueError
        Unequal lengths or NaN (resample/pad/fill first), a non-train split in
        ``meta["split"]``, one class only, or a minority class of one case.
    """
    from imblearn.over_sampling import SMOTE

    label = dataset_label(train)
    split = train.meta.get("split")
    if split is not None and str(split).lower() != "train":
        raise ValueError(f"{label}: SMOTE is for the training split only, got split={split!r}")
    y = require_labels(train, "smote_oversample")
    if not train.equal_length:
        raise ValueError(
            f"{label}: SMOTE needs equal-length series (lengths {train.lengths.min()}..{train.lengths.max()}); "
            "use resample_to_length or pad_to_length first"
        )
    if not np.isfinite(train.X).all():
        raise ValueError(f"{label}: SMOTE needs finite values; fill the NaN first (e.g. forward_fill)")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        only = [plain_value(c) for c in classes]
        raise ValueError(f"{label}: SMOTE needs at least two classes, got only {only}")
    before = {plain_value(c): int(n) for c, n in zip(classes, counts)}
    minority = counts < counts.max()
    if not minority.any():  # already balanced: nothing to add
        record = {"k_neighbors": 0, "seed": seed, "class_counts_before": before}
        meta = {**train.meta, "synthetic": np.zeros(train.n_cases, dtype=bool), "smote": record}
        return replace(train, meta=with_step(meta, {"step": "smote", "added": 0}))
    smallest = int(counts[minority].min())
    k = min(k_neighbors, smallest - 1)
    if k < 1:
        tiny = classes[minority][counts[minority] == smallest][0]
        raise ValueError(f"{label}: class {plain_value(tiny)!r} has one case; SMOTE needs at least two per class")

    n, c, t = train.X.shape
    flat = train.X.reshape(n, c * t)
    X_res, y_res = SMOTE(k_neighbors=k, random_state=seed).fit_resample(flat, y)
    if not np.array_equal(X_res[:n], flat):  # imblearn keeps the originals first (vstack)
        raise RuntimeError("imblearn SMOTE did not keep the original cases first")
    synthetic = np.arange(len(y_res)) >= n
    record = {"k_neighbors": k, "seed": seed, "class_counts_before": before}
    meta = with_step(
        {**train.meta, "synthetic": synthetic, "smote": record},
        {"step": "smote", "added": int(synthetic.sum())},
    )
    return TimeSeriesData(
        X=X_res.reshape(-1, c, t),
        y=np.asarray(y_res),
        lengths=np.full(len(y_res), t, dtype=np.int64),
        name=train.name,
        meta=meta,
    )


def random_missing(
    data: TimeSeriesData, rate: float, seed: int = 0, unit: str = "timestep"
) -> TimeSeriesData:
    """Remove a random ``rate`` fraction of the observed data (T-Rep's missing-data experiment).

    T-Rep, "Robustness to missing data" (ArticularyWordRecognition, 0-90 % missing), uses
    ``utils.data_dropout``: exactly ``int(N * rate)`` of the ``N`` time steps, drawn without
    replacement, set to NaN in every channel.

    Parameters
    ----------
    rate : float in [0, 1)
    seed : int
        ``numpy.random.default_rng`` seed.
    unit : {"timestep", "value"}
        ``"timestep"`` (T-Rep): candidates are the time steps within each case's length that
        have an observed value; ``int(N * rate)`` of them become NaN in all channels.
        ``"value"``: candidates are the single observed values; ``int(N * rate)`` become NaN.

    Returns
    -------
    TimeSeriesData
        Padding is never touched; ``lengths`` are unchanged (removed values are gaps, the
        series is not shorter). ``meta["missing"]`` records rate, unit, seed and count.
    """
    label = dataset_label(data)
    if not 0 <= rate < 1:
        raise ValueError(f"{label}: rate must lie in [0, 1), got {rate}")
    if unit not in ("timestep", "value"):
        raise ValueError(f"{label}: unit must be 'timestep' or 'value', got {unit!r}")
    rng = np.random.default_rng(seed)
    observed = observed_mask(data)
    X = data.X.copy()
    if unit == "value":
        candidates = np.flatnonzero(observed)
        chosen = rng.choice(candidates, size=int(len(candidates) * rate), replace=False)
        X.reshape(-1)[chosen] = np.nan
    else:
        steps = observed.any(axis=1)  # (n_cases, n_timepoints)
        candidates = np.flatnonzero(steps)
        chosen = rng.choice(candidates, size=int(len(candidates) * rate), replace=False)
        case, time = np.unravel_index(chosen, steps.shape)
        X[case, :, time] = np.nan
    record = {
        "rate": float(rate),
        "unit": unit,
        "seed": seed,
        "removed": int(len(chosen)),
        "candidates": int(len(candidates)),
    }
    meta = with_step({**data.meta, "missing": record}, {"step": "random_missing", **record})
    return replace(data, X=X, meta=meta)
