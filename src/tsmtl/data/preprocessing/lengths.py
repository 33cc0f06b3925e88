"""Equal lengths for unequal-length series: resample or pad.

Models that need equal lengths on the unequal-length UCR tasks (AllGestureWiimote*,
GestureMidAir*; ResNet2D MTL) get them by linear resampling (:func:`resample_to_length`,
how the archive made its equal-length versions) or by padding (:func:`pad_to_length`).
X (n_cases, n_channels, n_timepoints) -> (n_cases, n_channels, length); split out of
``tsmtl/data/preprocessing.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tsmtl.data.preprocessing.conventions import dataset_label, with_step, within_length
from tsmtl.data.types import TimeSeriesData

__all__ = ["pad_to_length", "resample_to_length"]


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

    label = dataset_label(data)
    if length < 1:
        raise ValueError(f"{label}: length must be >= 1, got {length}")
    if data.n_cases and data.lengths.min() < 1:
        raise ValueError(f"{label}: case {int(np.argmin(data.lengths))} is empty; cannot resample it")
    if (~np.isfinite(data.X) & within_length(data)).any():
        raise ValueError(f"{label}: NaN inside a case's length; fill gaps before resample_to_length")
    cases = [data.X[i, :, :n] for i, n in enumerate(data.lengths)]
    if cases:
        X = np.asarray(Resizer(resized_length=int(length)).fit_transform(cases), dtype=np.float64)
    else:
        X = np.empty((0, data.n_channels, length))
    meta = with_step(
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
    label = dataset_label(data)
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
    meta = with_step(
        {**data.meta, "original_lengths": data.lengths.copy()},
        {"step": "pad_to_length", "length": int(length), "value": value},
    )
    return replace(data, X=X, lengths=lengths, meta=meta)
