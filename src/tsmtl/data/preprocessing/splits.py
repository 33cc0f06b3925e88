"""Splits: the parts an experiment trains, validates and tests on, by case and by time.

* ResNet2D MTL (Sec. IV-B): merge each UCR task's TRAIN and TEST (:func:`merge_splits`), then a
  stratified 60 % / 20 % / 20 % train/validation/test split (:func:`stratified_split`).
* ForeClassNet (Sec. 4 and 5): 80 % / 20 % train/test with 10 % of train held out for
  validation (:func:`holdout_validation_split`); the observed series and the future points to
  forecast (:func:`observed_future_split`; ECG5000: the last 5 points).

Pure functions on :class:`~tsmtl.data.types.TimeSeriesData` (X (n_cases, n_channels,
n_timepoints)); split out of ``tsmtl/data/preprocessing.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tsmtl.data.preprocessing.conventions import (
    dataset_label,
    plain_value,
    require_labels,
    with_step,
)
from tsmtl.data.types import TimeSeriesData

__all__ = ["holdout_validation_split", "merge_splits", "observed_future_split", "stratified_split"]


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


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
    label = name or dataset_label(first)
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
        only = plain_value(classes[0]) if len(classes) else "<none>"
        raise ValueError(
            f"{label}: cannot make a stratified split with one class ({only!r}); a split with "
            "one class has nothing to stratify or classify"
        )
    small = counts < minimum
    if small.any():
        bad = ", ".join(
            f"{plain_value(c)!r} ({n} case{'s' if n != 1 else ''})" for c, n in zip(classes[small], counts[small])
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
    label = dataset_label(data)
    if len(fractions) < 2 or len(fractions) != len(names):
        raise ValueError(f"{label}: need >= 2 fractions and as many names, got {fractions} and {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"{label}: part names must be distinct, got {names}")
    if min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"{label}: fractions must be positive and sum to 1, got {fractions}")
    y = require_labels(data, "stratified_split")
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
    label = dataset_label(data)
    if not (0 < test_size < 1 and 0 < val_size < 1):
        raise ValueError(f"{label}: test_size and val_size must lie in (0, 1), got {test_size}, {val_size}")
    y = require_labels(data, "holdout_validation_split") if stratify else None
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
    label = dataset_label(data)
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
    meta = with_step(
        {**data.meta, "forecast_horizon": horizon}, {"step": "observed_future_split", "horizon": horizon}
    )
    y = None if data.y is None else data.y.copy()
    observed = TimeSeriesData(X=X, y=y, lengths=n_observed, name=data.name, meta=meta)
    return observed, np.ascontiguousarray(future)
