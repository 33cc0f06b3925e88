"""Windows: strided views along time, and supervised forecasting pairs.

:func:`sliding_windows` (T-Rep's anomaly detection streams over windows of each series) and
:func:`forecasting_windows` (ETT forecasting: lookback inputs and horizon targets). Split out
of ``tsmtl/data/preprocessing.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["forecasting_windows", "sliding_windows"]


def _prefix(name: str | None) -> str:
    return f"{name}: " if name else ""


def sliding_windows(
    array: np.ndarray, window: int, stride: int = 1, axis: int = -1, *, name: str | None = None
) -> np.ndarray:
    """Windows of ``window`` consecutive points along ``axis``, every ``stride`` points.

    Built on :func:`numpy.lib.stride_tricks.sliding_window_view` (a read-only view, no copy).
    The ``axis`` dimension becomes the window count ``(T - window) // stride + 1`` and a new
    last dimension of size ``window`` is appended: a (T,) array gives (n_windows, window);
    (n_cases, n_channels, T) gives (n_cases, n_channels, n_windows, window).

    ``name`` (the dataset or series, e.g. ``"A1/real_3"``) starts every error message:
    window or stride below 1, no time axis, a window longer than the series.
    """
    values = np.asarray(array)
    where = _prefix(name)
    if window < 1 or stride < 1:
        raise ValueError(f"{where}window and stride must be >= 1, got {window} and {stride}")
    if values.ndim == 0:
        raise ValueError(f"{where}sliding_windows needs an array with a time axis")
    length = values.shape[axis]
    if window > length:
        raise ValueError(f"{where}window {window} is longer than the series ({length} points)")
    view = sliding_window_view(values, window, axis=axis)
    index = [slice(None)] * values.ndim
    index[axis] = slice(None, None, stride)
    return view[tuple(index)]


def forecasting_windows(
    values: np.ndarray, lookback: int, horizon: int, stride: int = 1, *, name: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Supervised forecasting pairs from one multivariate series (e.g. ETT's 7 columns).

    Window ``k`` starts at ``s = k * stride``: input ``values[s : s + lookback]``, target
    ``values[s + lookback : s + lookback + horizon]``; ``N = (T - lookback - horizon) // stride + 1``.

    Parameters
    ----------
    values : array_like (T, C) or (T,)
        Time along axis 0 (a 1-D series is one channel).
    name : str, optional
        The dataset or split (e.g. ``"ETTh1 test"``); starts every error message.

    Returns
    -------
    (inputs, targets)
        float64 copies, (N, lookback, C) and (N, horizon, C).
    """
    series = np.asarray(values, dtype=np.float64)
    where = _prefix(name)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(f"{where}forecasting_windows needs values of shape (T, C), got {series.shape}")
    if lookback < 1 or horizon < 1:
        raise ValueError(f"{where}lookback and horizon must be >= 1, got {lookback} and {horizon}")
    total = lookback + horizon
    if series.shape[0] < total:
        raise ValueError(f"{where}{series.shape[0]} time points are fewer than lookback + horizon = {total}")
    windows = sliding_windows(series, total, stride=stride, axis=0, name=name)  # (N, C, total)
    windows = windows.transpose(0, 2, 1)  # (N, total, C)
    return windows[:, :lookback].copy(), windows[:, lookback:].copy()
