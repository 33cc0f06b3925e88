"""Cleaning values: z-normalisation, forward fill of gaps, ADF differencing to stationarity.

* :func:`z_normalise`: per case (the UCR convention) or per channel over the dataset (TS2Vec/T-Rep).
* :func:`forward_fill` (arrays, TimeSeriesData) and :func:`forward_fill_frame` (a long frame,
  per patient): T-Rep's Sepsis preprocessing fills every gap forward.
* :func:`adf_difference` and its frame and dataset forms: T-Rep (appendix, anomaly detection)
  differences each Yahoo series ``d`` times, ``d`` from ADF tests. The ForeClassNet paper
  does **not** use ADF differencing.

Pure functions; nothing mutates its input. Shapes: X (n_cases, n_channels, n_timepoints),
NaN-padded after each case's length; split out of ``tsmtl/data/preprocessing.py`` by
issue #11 ("Layout").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.conventions import (
    dataset_label,
    frame_label,
    observed_mask,
    with_step,
    within_length,
)
from tsmtl.data.types import TimeSeriesData

__all__ = [
    "adf_difference",
    "adf_difference_dataset",
    "adf_difference_frame",
    "forward_fill",
    "forward_fill_frame",
    "z_normalise",
]


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
    observed = observed_mask(data)
    values = np.where(observed, data.X, 0.0)
    axes = (2,) if per_case else (0, 2)
    if statistics is not None:
        if per_case:
            raise ValueError(f"{dataset_label(data)}: statistics apply only with per_case=False")
        mean = np.asarray(statistics[0], dtype=np.float64).reshape(1, -1, 1)
        std = np.asarray(statistics[1], dtype=np.float64).reshape(1, -1, 1)
        if mean.shape[1] != data.n_channels or std.shape[1] != data.n_channels:
            raise ValueError(f"{dataset_label(data)}: statistics must have {data.n_channels} values per channel")
    else:
        count = np.maximum(observed.sum(axis=axes, keepdims=True), 1)
        mean = values.sum(axis=axes, keepdims=True) / count
        std = np.sqrt((np.where(observed, data.X - mean, 0.0) ** 2).sum(axis=axes, keepdims=True) / count)
    constant = std < eps
    scaled = np.where(constant, 0.0, (values - mean) / np.where(constant, 1.0, std))
    X = np.where(observed, scaled, data.X)
    step: dict[str, Any] = {"step": "z_normalise", "per_case": per_case}
    meta = with_step(data.meta, step)
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
        X = np.where(within_length(data), X, np.nan)
        step = {"step": "forward_fill", "fill_leading": fill_leading}
        return replace(data, X=X, meta=with_step(data.meta, step))
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
    where = frame_label(frame, "forward_fill_frame")
    if by not in frame.columns:
        raise ValueError(f"{where}: no column {by!r} to group by (columns: {list(frame.columns)})")
    columns = [c for c in frame.columns if c != by] if columns is None else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: columns {missing} not in the frame")
    out = frame.copy()
    filled = frame.groupby(by, sort=False)[columns].ffill()  # same row order as ``frame``
    if fill_leading is not None:
        filled = filled.fillna(fill_leading)
    for column in columns:  # positional: also right when the index has duplicate labels
        out[column] = filled[column].to_numpy()
    return out


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
    where = frame_label(frame, "adf_difference_frame")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: columns {missing} not in the frame")
    out = frame.copy()
    orders: dict[str, int] = {}
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64)
        differenced, d = adf_difference(values, name=f"{where} column {column!r}", **adf_options)
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
    label = dataset_label(data)
    if (~np.isfinite(data.X) & within_length(data)).any():
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
    meta = with_step({**data.meta, "adf_d": orders}, {"step": "adf_difference", **adf_options})
    return replace(data, X=X, lengths=lengths, meta=meta).subset(np.arange(data.n_cases)), orders
