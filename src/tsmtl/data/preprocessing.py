"""Preprocessing: pure functions from :class:`~tsmtl.data.types.TimeSeriesData` to new objects.

Nothing here mutates its input, reads files or imports Kedro. Shapes follow the project
convention (aeon's): ``X`` is ``(n_cases, n_channels, n_timepoints)``, NaN-padded after each
case's true length ``lengths[i]``; NaN *inside* ``[0, lengths[i])`` is a missing value (a gap).
Every function that changes values appends a short record to ``meta["preprocessing"]``.

Which paper uses what
---------------------
* ResNet2D MTL (Sec. IV-B): merge each UCR task's TRAIN and TEST (:func:`merge_splits`), then a
  stratified 60 % / 20 % / 20 % train/validation/test split (:func:`stratified_split`).
* ForeClassNet (Sec. 4 and 5): 80 % / 20 % train/test with 10 % of train held out for
  validation (:func:`holdout_validation_split`); SMOTE for ECG5000 (Sec. 5.1,
  :func:`smote_oversample`); the observed series and the future points to forecast
  (:func:`observed_future_split`; ECG5000: the last 5 points).
  The ForeClassNet paper does **not** use ADF differencing; that is T-Rep's (below).
* T-Rep (appendix, anomaly detection): Yahoo series differenced ``d`` times, ``d`` from ADF
  tests, one ``d`` per series (:func:`adf_difference`); Sepsis: forward-fill per patient,
  last 45 hours, ten features (:func:`physionet_last_hours`); the missing-data experiment
  (Sec. 4.4) removes a random fraction of the data (:func:`random_missing`).
* ETT forecasting: :func:`forecasting_windows`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tsmtl.data.types import TimeSeriesData

__all__ = [
    "merge_splits",
    "stratified_split",
    "holdout_validation_split",
    "z_normalise",
    "forward_fill",
    "forward_fill_frame",
    "physionet_last_hours",
    "adf_difference",
    "adf_difference_frame",
    "adf_difference_dataset",
    "smote_oversample",
    "observed_future_split",
    "random_missing",
    "sliding_windows",
    "forecasting_windows",
    "resample_to_length",
    "pad_to_length",
]


# --------------------------------------------------------------------------- helpers
def _within_length(data: TimeSeriesData) -> np.ndarray:
    """Boolean (n_cases, 1, n_timepoints): True at time indices ``t < lengths[i]``."""
    return (np.arange(data.n_timepoints)[None, :] < data.lengths[:, None])[:, None, :]


def _observed(data: TimeSeriesData) -> np.ndarray:
    """Boolean like ``X``: finite and within the case's true length."""
    return np.isfinite(data.X) & _within_length(data)


def _with_step(meta: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``meta`` with ``step`` appended to ``meta["preprocessing"]`` (a list)."""
    previous = meta.get("preprocessing")
    if previous is None:
        steps: list[Any] = []
    elif isinstance(previous, list):
        steps = list(previous)
    else:  # a reader may have recorded one step as a plain string
        steps = [previous]
    return {**meta, "preprocessing": [*steps, step]}


def _label(data: TimeSeriesData) -> str:
    return data.name or "<unnamed dataset>"


def _require_labels(data: TimeSeriesData, what: str) -> np.ndarray:
    if data.y is None:
        raise ValueError(f"{_label(data)}: {what} needs class labels, but y is None")
    return data.y


def _plain(value: Any) -> Any:
    """NumPy scalars as Python values, so that messages read ``'rare'``, not ``np.str_('rare')``."""
    return value.item() if isinstance(value, np.generic) else value


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


# --------------------------------------------------------------------------- merging and splitting
def merge_splits(*parts: TimeSeriesData, name: str | None = None) -> TimeSeriesData:
    """Concatenate the cases of several splits (e.g. an archive's TRAIN and TEST).

    ResNet2D MTL, Sec. IV-B, merges each task's TRAIN and TEST before re-splitting 60/20/20.

    Parameters
    ----------
    *parts : TimeSeriesData
        At least one; all with the same ``n_channels``; all labelled or all unlabelled.
    name : str, optional
        Name of the result (default: the first part's name).

    Returns
    -------
    TimeSeriesData
        ``X`` (sum of n_cases, n_channels, widest n_timepoints), each part NaN-padded on the
        time axis to the widest; ``y`` and ``lengths`` concatenated in part order.
        ``meta["merged_from"]`` lists each part's ``meta["split"]`` (or its name),
        ``meta["part_sizes"]`` the case counts; plain meta values (str/number/bool) that are
        equal in every part are kept.
    """
    if not parts:
        raise ValueError("merge_splits needs at least one TimeSeriesData")
    first = parts[0]
    label = name or _label(first)
    channels = sorted({p.n_channels for p in parts})
    if len(channels) > 1:
        raise ValueError(f"{label}: cannot merge parts with different channel counts {channels}")
    labelled = [p.y is not None for p in parts]
    if any(labelled) and not all(labelled):
        raise ValueError(f"{label}: cannot merge labelled and unlabelled parts")
    width = max(p.n_timepoints for p in parts)
    X = np.full((sum(p.n_cases for p in parts), channels[0], width), np.nan)
    start = 0
    for p in parts:
        X[start : start + p.n_cases, :, : p.n_timepoints] = p.X
        start += p.n_cases
    y = np.concatenate([p.y for p in parts]) if all(labelled) else None

    scalar = (str, int, float, bool, type(None))
    common = {
        k: v
        for k, v in first.meta.items()
        if isinstance(v, scalar)
        and all(isinstance(p.meta.get(k, ...), type(v)) and p.meta.get(k) == v for p in parts[1:])
    }
    common.pop("split", None)
    meta = {
        **common,
        "merged_from": [p.meta.get("split", p.name) for p in parts],
        "part_sizes": [p.n_cases for p in parts],
    }
    return TimeSeriesData(
        X=X,
        y=y,
        lengths=np.concatenate([p.lengths for p in parts]),
        name=label,
        meta=meta,
    )


def _check_stratifiable(y: np.ndarray, label: str, minimum: int, why: str) -> None:
    """Raise a clear ValueError when a class has fewer than ``minimum`` cases in ``y``."""
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        only = _plain(classes[0]) if len(classes) else "<none>"
        raise ValueError(
            f"{label}: cannot make a stratified split with one class ({only!r}); a split with "
            "one class has nothing to stratify or classify"
        )
    small = counts < minimum
    if small.any():
        bad = ", ".join(
            f"{_plain(c)!r} ({n} case{'s' if n != 1 else ''})" for c, n in zip(classes[small], counts[small])
        )
        raise ValueError(f"{label}: class {bad} has too few members to stratify: {why}")


def _stratified_cut(
    index: np.ndarray, y: np.ndarray, n_cut: int, seed: int, stratify: bool, label: str, part: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``index`` into (rest, cut) with ``len(cut) == n_cut`` via sklearn's train_test_split."""
    from sklearn.model_selection import train_test_split

    n_classes = len(np.unique(y)) if stratify else 1
    n_rest = len(index) - n_cut
    if n_cut < n_classes or n_rest < n_classes:
        raise ValueError(
            f"{label}: splitting {len(index)} cases leaves {n_cut} for {part!r} and {n_rest} for the "
            f"rest; a stratified split needs at least one case per class ({n_classes}) in each"
        )
    if stratify:
        _check_stratifiable(y, label, 2, f"each class needs at least 2 cases before the {part!r} cut")
    rest, cut = train_test_split(
        index, test_size=n_cut, random_state=seed, shuffle=True, stratify=y if stratify else None
    )
    return np.sort(rest), np.sort(cut)


def stratified_split(
    data: TimeSeriesData,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    names: Sequence[str] = ("train", "val", "test"),
) -> dict[str, TimeSeriesData]:
    """Stratified split into parts of the given fractions (ResNet2D MTL, Sec. IV-B: 60/20/20).

    Arithmetic (exact, with ``n = data.n_cases`` and ``k = len(fractions)``): part ``j >= 1``
    gets ``n_j = floor(fractions[j] * n + 0.5)`` cases (fractions of the *whole*, rounded
    half up); part 0 gets the rest. The parts are cut off from the last to the second with
    :func:`sklearn.model_selection.train_test_split` (``test_size=n_j`` as an int,
    ``stratify`` = labels of what is left, ``random_state=seed``), i.e. twice for three parts:
    first the test part, then the validation part from the remainder. For 0.6/0.2/0.2:
    n=100 -> 60/20/20; n=884 -> 530/177/177; n=5000 -> 3000/1000/1000.

    Parameters
    ----------
    data : TimeSeriesData
        Labelled, with at least two classes.
    fractions : sequence of float
        ``k >= 2`` positive fractions summing to 1.
    seed : int
        ``random_state`` of both sklearn calls.
    names : sequence of str
        ``k`` part names.

    Returns
    -------
    dict of str to TimeSeriesData
        ``{names[j]: part}``; each part keeps the cases in their original order
        (``meta["source_index"]``: int64 indices into ``data``) and records ``meta["split"]``,
        ``meta["split_seed"]`` and ``meta["split_fractions"]``. The parts are disjoint and
        cover every case.

    Raises
    ------
    ValueError
        One class only ("a split with one class"); a class with fewer than ``k`` cases (it
        could not appear in every part; the message names the dataset and the class); a part
        that would be smaller than the number of classes; bad fractions or names.
    """
    fractions = tuple(float(f) for f in fractions)
    names = tuple(names)
    label = _label(data)
    if len(fractions) < 2 or len(fractions) != len(names):
        raise ValueError(f"{label}: need >= 2 fractions and as many names, got {fractions} and {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"{label}: part names must be distinct, got {names}")
    if min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"{label}: fractions must be positive and sum to 1, got {fractions}")
    y = _require_labels(data, "stratified_split")
    k = len(fractions)
    _check_stratifiable(y, label, k, f"each class needs at least {k} cases to appear in all of {names}")

    n = data.n_cases
    sizes = [_round_half_up(f * n) for f in fractions[1:]]
    if n - sum(sizes) < 1:
        raise ValueError(f"{label}: {n} cases are too few for fractions {fractions}")
    rest = np.arange(n)
    index: dict[str, np.ndarray] = {}
    for part, size in zip(reversed(names[1:]), reversed(sizes)):
        rest, index[part] = _stratified_cut(rest, y[rest], size, seed, True, label, part)
    index[names[0]] = rest
    return {
        part: data.subset(
            index[part], split=part, split_seed=seed, split_fractions=fractions, source_index=index[part]
        )
        for part in names
    }


def holdout_validation_split(
    data: TimeSeriesData,
    test_size: float = 0.2,
    val_size: float = 0.1,
    seed: int = 0,
    stratify: bool = True,
) -> dict[str, TimeSeriesData]:
    """ForeClassNet's protocol (Sec. 4, Sec. 5.1): 80 % / 20 % train/test, then 10 % of train as validation.

    Arithmetic: ``n_test = floor(test_size * n + 0.5)``; ``n_val = floor(val_size * (n - n_test)
    + 0.5)`` (a fraction of the *training* part, as in the paper); train is the rest. Both cuts
    use :func:`sklearn.model_selection.train_test_split` with integer sizes,
    ``random_state=seed`` and, when ``stratify``, the labels. ECG5000 (5000 cases):
    3600/400/1000. (The paper's Keras code may have taken the last 10 % of train unshuffled;
    here validation is a random stratified draw.)

    Returns
    -------
    dict
        ``{"train", "val", "test"}``, disjoint, covering every case, original order kept;
        meta as in :func:`stratified_split` (``split_fractions`` is ``(test_size, val_size)``).
    """
    label = _label(data)
    if not (0 < test_size < 1 and 0 < val_size < 1):
        raise ValueError(f"{label}: test_size and val_size must lie in (0, 1), got {test_size}, {val_size}")
    y = _require_labels(data, "holdout_validation_split") if stratify else None
    if stratify:
        _check_stratifiable(y, label, 3, "each class needs at least 3 cases to appear in train, val and test")
    n = data.n_cases
    n_test = _round_half_up(test_size * n)
    n_val = _round_half_up(val_size * (n - n_test))
    every = np.arange(n)
    labels = y if stratify else np.zeros(n)
    rest, test = _stratified_cut(every, labels, n_test, seed, stratify, label, "test")
    train, val = _stratified_cut(rest, labels[rest], n_val, seed, stratify, label, "val")
    fractions = (float(test_size), float(val_size))
    return {
        part: data.subset(idx, split=part, split_seed=seed, split_fractions=fractions, source_index=idx)
        for part, idx in (("train", train), ("val", val), ("test", test))
    }


# --------------------------------------------------------------------------- normalisation and filling
def z_normalise(
    data: TimeSeriesData,
    per_case: bool = True,
    eps: float = 1e-8,
    statistics: tuple[np.ndarray, np.ndarray] | None = None,
) -> TimeSeriesData:
    """Z-normalise over observed values: ``(x - mean) / std`` with the population std (ddof=0).

    Parameters
    ----------
    data : TimeSeriesData
        X (n_cases, n_channels, n_timepoints).
    per_case : bool
        True: one mean/std per case and channel over its observed values (finite, within
        length) -- the UCR convention. False: one mean/std per channel over all cases'
        observed values (the dataset-level scaling TS2Vec/T-Rep apply); the statistics used
        are stored in ``meta["z_normalise"]`` as ``(mean, std)``, each (n_channels,).
    eps : float
        A std below ``eps`` (a constant series) is treated as constant: its observed values
        become 0, never NaN or inf.
    statistics : (mean, std), optional
        Only with ``per_case=False``: per-channel statistics to apply (e.g. the training
        split's, for validation/test) instead of computing them from ``data``.

    Returns
    -------
    TimeSeriesData
        Same shape; NaN (gaps and padding) stays NaN. [1, 2, 3] -> [-1.2247, 0, 1.2247].
    """
    observed = _observed(data)
    values = np.where(observed, data.X, 0.0)
    axes = (2,) if per_case else (0, 2)
    if statistics is not None:
        if per_case:
            raise ValueError(f"{_label(data)}: statistics apply only with per_case=False")
        mean = np.asarray(statistics[0], dtype=np.float64).reshape(1, -1, 1)
        std = np.asarray(statistics[1], dtype=np.float64).reshape(1, -1, 1)
        if mean.shape[1] != data.n_channels or std.shape[1] != data.n_channels:
            raise ValueError(f"{_label(data)}: statistics must have {data.n_channels} values per channel")
    else:
        count = np.maximum(observed.sum(axis=axes, keepdims=True), 1)
        mean = values.sum(axis=axes, keepdims=True) / count
        std = np.sqrt((np.where(observed, data.X - mean, 0.0) ** 2).sum(axis=axes, keepdims=True) / count)
    constant = std < eps
    scaled = np.where(constant, 0.0, (values - mean) / np.where(constant, 1.0, std))
    X = np.where(observed, scaled, data.X)
    step: dict[str, Any] = {"step": "z_normalise", "per_case": per_case}
    meta = _with_step(data.meta, step)
    if not per_case:
        meta["z_normalise"] = (mean.reshape(-1).copy(), std.reshape(-1).copy())
    return replace(data, X=X, meta=meta)


def _ffill_last_axis(values: np.ndarray, fill_leading: float | None) -> np.ndarray:
    """Forward-fill NaN along the last axis (pandas ``ffill`` on a 2-D view)."""
    shape = values.shape
    flat = values.reshape(-1, shape[-1]) if values.size else values.reshape(0, shape[-1])
    # pandas fills down columns: transpose so that time runs down the rows.
    filled = pd.DataFrame(flat.T).ffill().to_numpy(dtype=np.float64).T
    if fill_leading is not None:
        filled = np.where(np.isnan(filled), fill_leading, filled)
    return np.ascontiguousarray(filled).reshape(shape)


def forward_fill(
    data_or_array: TimeSeriesData | np.ndarray,
    axis: int = -1,
    fill_leading: float | None = None,
) -> TimeSeriesData | np.ndarray:
    """Carry the last observed value forward along time over NaN.

    Parameters
    ----------
    data_or_array : TimeSeriesData or array_like
        A TimeSeriesData (time is axis 2; ``axis`` is ignored) or any float array.
    axis : int
        Time axis of an array.
    fill_leading : float, optional
        Value for the NaN before a series' first observed value (they stay NaN by default).

    Returns
    -------
    Same type as the input. For TimeSeriesData the padding after each case's ``lengths[i]``
    is never filled: ``[nan, 1, nan, 3, nan]`` with length 4 -> ``[nan, 1, 1, 3, nan]``.
    For per-patient filling of a long DataFrame use :func:`forward_fill_frame`.
    """
    if isinstance(data_or_array, pd.DataFrame):
        raise TypeError("forward_fill takes arrays or TimeSeriesData; use forward_fill_frame for DataFrames")
    if isinstance(data_or_array, TimeSeriesData):
        data = data_or_array
        X = _ffill_last_axis(data.X, fill_leading)
        X = np.where(_within_length(data), X, np.nan)
        step = {"step": "forward_fill", "fill_leading": fill_leading}
        return replace(data, X=X, meta=_with_step(data.meta, step))
    values = np.asarray(data_or_array, dtype=np.float64)
    if values.ndim == 0:
        raise ValueError("forward_fill needs an array with a time axis, got a scalar")
    moved = np.moveaxis(values, axis, -1)
    return np.moveaxis(_ffill_last_axis(moved, fill_leading), -1, axis)


def forward_fill_frame(
    frame: pd.DataFrame,
    by: str = "patient_id",
    columns: Sequence[str] | None = None,
    fill_leading: float | None = None,
) -> pd.DataFrame:
    """Forward-fill a long DataFrame within each group of ``by`` (never across groups).

    Rows must be in time order within each group (as read from the files). ``columns``
    defaults to every column except ``by``. Returns a new frame with the same index and
    column order; ``fill_leading`` fills what is still missing before a group's first value.
    """
    if by not in frame.columns:
        raise ValueError(f"forward_fill_frame: no column {by!r} to group by (columns: {list(frame.columns)})")
    columns = [c for c in frame.columns if c != by] if columns is None else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"forward_fill_frame: columns {missing} not in the frame")
    out = frame.copy()
    filled = frame.groupby(by, sort=False)[columns].ffill()  # same row order as ``frame``
    if fill_leading is not None:
        filled = filled.fillna(fill_leading)
    for column in columns:  # positional: also right when the index has duplicate labels
        out[column] = filled[column].to_numpy()
    return out


# --------------------------------------------------------------------------- PhysioNet 2019 (T-Rep)
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
    """
    if features is None:
        from tsmtl.data.physionet import PAPER_FEATURES  # lazy: keeps this module importable alone

        features = PAPER_FEATURES
    features = list(features)
    if hours < 1:
        raise ValueError(f"hours must be >= 1, got {hours}")
    if align not in ("start", "end"):
        raise ValueError(f"align must be 'start' or 'end', got {align!r}")
    missing = [c for c in (by, *features, label) if c not in frame.columns]
    if missing:
        raise ValueError(f"physionet_last_hours: frame lacks columns {missing}")
    if frame.empty:
        raise ValueError("physionet_last_hours: the frame has no rows")

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
    labels = frame[label].to_numpy(dtype=np.float64)
    hourly[case[keep], column] = labels[keep]
    septic = np.zeros(len(ids), dtype=bool)
    np.logical_or.at(septic, case, labels == 1)

    lengths = n_kept if align == "start" else np.full(len(ids), hours, dtype=np.int64)
    meta = _with_step(
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


# --------------------------------------------------------------------------- ADF differencing (T-Rep, Yahoo)
def _is_stationary(
    x: np.ndarray,
    alpha: float,
    regression: str,
    autolag: str | None,
    maxlags: Sequence[int | None],
    where: str,
) -> bool:
    """True when every ADF test (one per ``maxlags`` entry) rejects a unit root at ``alpha``."""
    from statsmodels.tsa.stattools import adfuller

    if np.ptp(x) == 0:  # a constant series has no unit root; adfuller refuses it
        return True
    for maxlag in maxlags:
        try:
            result = adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag, result_object=True)
        except ValueError as exc:
            raise ValueError(f"{where}: ADF test failed on {len(x)} values ({exc})") from None
        if not result.pvalue < alpha:
            return False
    return True


def adf_difference(
    series: np.ndarray,
    alpha: float = 0.05,
    max_d: int = 2,
    regression: str = "c",
    autolag: str | None = "AIC",
    maxlag: int | None | Sequence[int | None] = None,
    fit_fraction: float = 1.0,
    name: str = "series",
) -> tuple[np.ndarray, int]:
    """Difference a series until the ADF test rejects a unit root (T-Rep appendix, Yahoo).

    T-Rep (following TS2Vec and Ren et al. 2019): "the input data is differenced d times,
    following the number of roots d found by an ADF test". ``d`` is the smallest number of
    differences after which :func:`statsmodels.tsa.stattools.adfuller` gives p-value < ``alpha``
    (``d = 0`` when the series is already stationary); differencing stops at ``max_d``
    (then ``d = max_d`` whether or not the last test passed). A constant series counts as
    stationary.

    Parameters
    ----------
    series : array_like, 1-D, finite
    alpha, regression, autolag : passed to ``adfuller`` (p-value threshold, trend terms, lag choice).
    max_d : int
        Most differences taken.
    maxlag : int, None or sequence of them
        ``adfuller``'s ``maxlag``. A sequence runs one test per entry and requires all to
        reject: TS2Vec/T-Rep's ``preprocess_yahoo.py`` uses ``(1, None)``.
    fit_fraction : float in (0, 1]
        Test only the first ``fit_fraction`` of the (current) series; TS2Vec/T-Rep test the
        training half (0.5) so that the test half does not choose ``d``.
    name : str
        Used in error messages.

    Returns
    -------
    (differenced, d)
        ``np.diff(series, n=d)`` (length ``len(series) - d``) and ``d``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name}: adf_difference needs a 1-D series, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: adf_difference needs finite values (fill NaN first, e.g. forward_fill)")
    if max_d < 0:
        raise ValueError(f"{name}: max_d must be >= 0, got {max_d}")
    if not 0 < fit_fraction <= 1:
        raise ValueError(f"{name}: fit_fraction must lie in (0, 1], got {fit_fraction}")
    maxlags = list(maxlag) if isinstance(maxlag, (list, tuple)) else [maxlag]
    d = 0
    while True:
        tested = x[: max(int(len(x) * fit_fraction), 1)]
        if d == max_d or _is_stationary(tested, alpha, regression, autolag, maxlags, name):
            return x, d
        x = np.diff(x)
        d += 1


def adf_difference_frame(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, **adf_options: Any
) -> tuple[pd.DataFrame, dict[str, int]]:
    """:func:`adf_difference` on each column of a frame, each column with its own ``d``.

    ``columns`` defaults to every numeric column. The result keeps the frame's index and
    columns: column ``c`` holds its ``d_c``-times differenced values with NaN in its first
    ``d_c`` rows (pandas' ``diff`` convention); other columns are unchanged.
    Returns ``(frame, {column: d})``.
    """
    columns = list(frame.select_dtypes("number").columns) if columns is None else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"adf_difference_frame: columns {missing} not in the frame")
    out = frame.copy()
    orders: dict[str, int] = {}
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64)
        differenced, d = adf_difference(values, name=f"column {column!r}", **adf_options)
        out[column] = np.concatenate([np.full(d, np.nan), differenced])
        orders[column] = d
    return out, orders


def adf_difference_dataset(data: TimeSeriesData, **adf_options: Any) -> tuple[TimeSeriesData, np.ndarray]:
    """:func:`adf_difference` on every (case, channel) series's observed part, each with its own ``d``.

    One ``d`` per series, as T-Rep/TS2Vec do for the 367 Yahoo series. Series ``(i, c)``
    becomes ``np.diff(X[i, c, :lengths[i]], d_ic)``, left-aligned; the case's new length is
    ``lengths[i] - min_c d_ic`` (a channel differenced more is NaN at its end).
    Gaps inside a case are refused (fill them first).

    Returns
    -------
    (TimeSeriesData, d)
        ``d`` int64 (n_cases, n_channels); also in ``meta["adf_d"]``.
    """
    label = _label(data)
    if (~np.isfinite(data.X) & _within_length(data)).any():
        raise ValueError(f"{label}: adf_difference_dataset needs no NaN within lengths (fill gaps first)")
    orders = np.zeros((data.n_cases, data.n_channels), dtype=np.int64)
    X = np.full_like(data.X, np.nan)
    for i, length in enumerate(data.lengths):
        for c in range(data.n_channels):
            where = f"{label} case {i} channel {c}"
            diffed, d = adf_difference(data.X[i, c, :length], name=where, **adf_options)
            X[i, c, : len(diffed)] = diffed
            orders[i, c] = d
    lengths = data.lengths - (orders.min(axis=1) if data.n_channels else 0)
    meta = _with_step({**data.meta, "adf_d": orders}, {"step": "adf_difference", **adf_options})
    return replace(data, X=X, lengths=lengths, meta=meta).subset(np.arange(data.n_cases)), orders


# --------------------------------------------------------------------------- SMOTE (ForeClassNet, ECG5000)
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

    label = _label(train)
    split = train.meta.get("split")
    if split is not None and str(split).lower() != "train":
        raise ValueError(f"{label}: SMOTE is for the training split only, got split={split!r}")
    y = _require_labels(train, "smote_oversample")
    if not train.equal_length:
        raise ValueError(
            f"{label}: SMOTE needs equal-length series (lengths {train.lengths.min()}..{train.lengths.max()}); "
            "use resample_to_length or pad_to_length first"
        )
    if not np.isfinite(train.X).all():
        raise ValueError(f"{label}: SMOTE needs finite values; fill the NaN first (e.g. forward_fill)")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        only = [_plain(c) for c in classes]
        raise ValueError(f"{label}: SMOTE needs at least two classes, got only {only}")
    before = {_plain(c): int(n) for c, n in zip(classes, counts)}
    minority = counts < counts.max()
    if not minority.any():  # already balanced: nothing to add
        record = {"k_neighbors": 0, "seed": seed, "class_counts_before": before}
        meta = {**train.meta, "synthetic": np.zeros(train.n_cases, dtype=bool), "smote": record}
        return replace(train, meta=_with_step(meta, {"step": "smote", "added": 0}))
    smallest = int(counts[minority].min())
    k = min(k_neighbors, smallest - 1)
    if k < 1:
        tiny = classes[minority][counts[minority] == smallest][0]
        raise ValueError(f"{label}: class {_plain(tiny)!r} has one case; SMOTE needs at least two per class")

    n, c, t = train.X.shape
    flat = train.X.reshape(n, c * t)
    X_res, y_res = SMOTE(k_neighbors=k, random_state=seed).fit_resample(flat, y)
    if not np.array_equal(X_res[:n], flat):  # imblearn keeps the originals first (vstack)
        raise RuntimeError("imblearn SMOTE did not keep the original cases first")
    synthetic = np.arange(len(y_res)) >= n
    record = {"k_neighbors": k, "seed": seed, "class_counts_before": before}
    meta = _with_step(
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


# --------------------------------------------------------------------------- observed / future (ForeClassNet)
def observed_future_split(data: TimeSeriesData, horizon: int) -> tuple[TimeSeriesData, np.ndarray]:
    """Split every case into the observed series and the ``horizon`` future points to forecast.

    ForeClassNet, Definition 1: series ``x = (x_1..x_T)`` observed, ``x* = (x_{T+1}..x_{T+h})``
    future; Sec. 4: 50 points -> 40 observed + 10 future; Sec. 5.1 (ECG5000): the last 5
    points removed. The last ``horizon`` points of each case's *true* length are the target.

    Returns
    -------
    (observed, future)
        ``observed``: TimeSeriesData with lengths ``lengths - horizon`` (NaN-padded after);
        ``future``: float64 (n_cases, n_channels, horizon), ``future[i] = X[i, :, L-h:L]``.

    Raises
    ------
    ValueError
        ``horizon < 1``, or a case shorter than ``horizon + 1`` (the message names it).
    """
    label = _label(data)
    if horizon < 1:
        raise ValueError(f"{label}: horizon must be >= 1, got {horizon}")
    short = np.flatnonzero(data.lengths < horizon + 1)
    if short.size:
        i = int(short[0])
        raise ValueError(
            f"{label}: case {i} has length {int(data.lengths[i])}, shorter than horizon + 1 = {horizon + 1} "
            f"({short.size} case(s) too short)"
        )
    n_observed = data.lengths - horizon
    columns = n_observed[:, None, None] + np.arange(horizon)[None, None, :]
    columns = np.broadcast_to(columns, (data.n_cases, data.n_channels, horizon))
    future = np.take_along_axis(data.X, columns, axis=2)
    within = np.arange(data.n_timepoints)[None, None, :] < n_observed[:, None, None]
    X = np.where(within, data.X, np.nan)[:, :, : int(n_observed.max()) if data.n_cases else 0]
    meta = _with_step(
        {**data.meta, "forecast_horizon": horizon}, {"step": "observed_future_split", "horizon": horizon}
    )
    y = None if data.y is None else data.y.copy()
    observed = TimeSeriesData(X=X, y=y, lengths=n_observed, name=data.name, meta=meta)
    return observed, np.ascontiguousarray(future)


# --------------------------------------------------------------------------- missing data (T-Rep Sec. 4.4)
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
    label = _label(data)
    if not 0 <= rate < 1:
        raise ValueError(f"{label}: rate must lie in [0, 1), got {rate}")
    if unit not in ("timestep", "value"):
        raise ValueError(f"{label}: unit must be 'timestep' or 'value', got {unit!r}")
    rng = np.random.default_rng(seed)
    observed = _observed(data)
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
    meta = _with_step({**data.meta, "missing": record}, {"step": "random_missing", **record})
    return replace(data, X=X, meta=meta)


# --------------------------------------------------------------------------- windows
def sliding_windows(array: np.ndarray, window: int, stride: int = 1, axis: int = -1) -> np.ndarray:
    """Windows of ``window`` consecutive points along ``axis``, every ``stride`` points.

    Built on :func:`numpy.lib.stride_tricks.sliding_window_view` (a read-only view, no copy).
    The ``axis`` dimension becomes the window count ``(T - window) // stride + 1`` and a new
    last dimension of size ``window`` is appended: a (T,) array gives (n_windows, window);
    (n_cases, n_channels, T) gives (n_cases, n_channels, n_windows, window).
    """
    values = np.asarray(array)
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be >= 1, got {window} and {stride}")
    if values.ndim == 0:
        raise ValueError("sliding_windows needs an array with a time axis")
    length = values.shape[axis]
    if window > length:
        raise ValueError(f"window {window} is longer than the series ({length} points)")
    view = sliding_window_view(values, window, axis=axis)
    index = [slice(None)] * values.ndim
    index[axis] = slice(None, None, stride)
    return view[tuple(index)]


def forecasting_windows(
    values: np.ndarray, lookback: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Supervised forecasting pairs from one multivariate series (e.g. ETT's 7 columns).

    Window ``k`` starts at ``s = k * stride``: input ``values[s : s + lookback]``, target
    ``values[s + lookback : s + lookback + horizon]``; ``N = (T - lookback - horizon) // stride + 1``.

    Parameters
    ----------
    values : array_like (T, C) or (T,)
        Time along axis 0 (a 1-D series is one channel).

    Returns
    -------
    (inputs, targets)
        float64 copies, (N, lookback, C) and (N, horizon, C).
    """
    series = np.asarray(values, dtype=np.float64)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(f"forecasting_windows needs values of shape (T, C), got {series.shape}")
    if lookback < 1 or horizon < 1:
        raise ValueError(f"lookback and horizon must be >= 1, got {lookback} and {horizon}")
    total = lookback + horizon
    if series.shape[0] < total:
        raise ValueError(f"{series.shape[0]} time points are fewer than lookback + horizon = {total}")
    windows = sliding_windows(series, total, stride=stride, axis=0)  # (N, C, total)
    windows = windows.transpose(0, 2, 1)  # (N, total, C)
    return windows[:, :lookback].copy(), windows[:, lookback:].copy()


# --------------------------------------------------------------------------- equal lengths (unequal-length UCR)
def resample_to_length(data: TimeSeriesData, length: int) -> TimeSeriesData:
    """Linearly interpolate each case's observed part ``X[i, :, :lengths[i]]`` to ``length`` points.

    One choice for models that need equal lengths on unequal-length UCR tasks
    (AllGestureWiimote*, GestureMidAir*): it is how the archive made the equal-length versions
    of these sets. Uses aeon's :class:`~aeon.transformations.collection.unequal_length.Resizer`
    (end points kept: first and last observed values map to indices 0 and ``length - 1``).
    The alternative is :func:`pad_to_length`.

    Returns
    -------
    TimeSeriesData
        X (n_cases, n_channels, length), ``lengths = length``; ``meta["original_lengths"]``.

    Raises
    ------
    ValueError
        ``length < 1``, an empty case, or NaN within a case (aeon's Resizer refuses missing
        values; fill gaps first).
    """
    from aeon.transformations.collection.unequal_length import Resizer

    label = _label(data)
    if length < 1:
        raise ValueError(f"{label}: length must be >= 1, got {length}")
    if data.n_cases and data.lengths.min() < 1:
        raise ValueError(f"{label}: case {int(np.argmin(data.lengths))} is empty; cannot resample it")
    if (~np.isfinite(data.X) & _within_length(data)).any():
        raise ValueError(f"{label}: NaN inside a case's length; fill gaps before resample_to_length")
    cases = [data.X[i, :, :n] for i, n in enumerate(data.lengths)]
    if cases:
        X = np.asarray(Resizer(resized_length=int(length)).fit_transform(cases), dtype=np.float64)
    else:
        X = np.empty((0, data.n_channels, length))
    meta = _with_step(
        {**data.meta, "original_lengths": data.lengths.copy()},
        {"step": "resample_to_length", "length": int(length)},
    )
    return replace(data, X=X, lengths=np.full(data.n_cases, length, dtype=np.int64), meta=meta)


def pad_to_length(data: TimeSeriesData, length: int, value: float = 0.0) -> TimeSeriesData:
    """Pad every case after its true length with ``value`` up to ``length`` points.

    The other choice (besides :func:`resample_to_length`) for equal lengths on unequal-length
    UCR tasks: the series keep their sampling, the tail is a constant. Nothing is truncated:
    a case longer than ``length`` is an error. Gaps inside a case stay NaN (implemented here
    rather than with aeon's ``Padder``, which refuses missing values).

    Returns
    -------
    TimeSeriesData
        X (n_cases, n_channels, length); ``lengths = length`` when ``value`` is a number (the
        pad is now data), unchanged when ``value`` is NaN; ``meta["original_lengths"]``.
    """
    label = _label(data)
    if data.n_cases and data.lengths.max() > length:
        i = int(np.argmax(data.lengths))
        raise ValueError(
            f"{label}: case {i} has length {int(data.lengths[i])} > {length}; pad_to_length never truncates"
        )
    width = min(data.n_timepoints, length)
    X = np.full((data.n_cases, data.n_channels, length), value, dtype=np.float64)
    X[:, :, :width] = data.X[:, :, :width]
    inside = (np.arange(length)[None, :] < data.lengths[:, None])[:, None, :]
    X = np.where(inside, X, value)
    lengths = data.lengths.copy() if np.isnan(value) else np.full(data.n_cases, length, dtype=np.int64)
    meta = _with_step(
        {**data.meta, "original_lengths": data.lengths.copy()},
        {"step": "pad_to_length", "length": int(length), "value": value},
    )
    return replace(data, X=X, lengths=lengths, meta=meta)
