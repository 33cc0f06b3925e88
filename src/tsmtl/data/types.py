"""The typed structures every reader returns.

Shape convention (the one aeon uses): a collection of series is a float64 array
``X`` of shape ``(n_cases, n_channels, n_timepoints)``. Univariate data has
``n_channels == 1``. When cases have unequal lengths, ``n_timepoints`` is the
longest length and each case is followed by ``NaN`` beyond its true length;
``lengths[i]`` is that true length. ``NaN`` *inside* ``[0, lengths[i])`` is a
missing value (a gap), not padding. Nothing is ever truncated or resampled by a
reader; padding only ever appends ``NaN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TimeSeriesData:
    """A collection of (optionally labelled) time series.

    Attributes
    ----------
    X : np.ndarray, float64, shape (n_cases, n_channels, n_timepoints)
        Values, NaN-padded after each case's true length.
    y : np.ndarray, shape (n_cases,), or None
        Class labels as they appear in the source (e.g. ``-1``/``1`` stay as
        ``-1``/``1``; integral floats become int64; other labels are str).
    lengths : np.ndarray, int64, shape (n_cases,)
        True length of every case: one past the last observed (non-NaN) value
        in any channel.
    name : str
        Dataset name, e.g. ``"GunPoint"`` or ``"CricketX"``.
    meta : dict
        Free-form provenance (source files, split, preprocessing applied).
    """

    X: np.ndarray
    y: np.ndarray | None
    lengths: np.ndarray
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        label = self.name or "<unnamed dataset>"
        if self.X.ndim != 3:
            raise ValueError(f"{label}: X must be 3-D (n_cases, n_channels, n_timepoints), got shape {self.X.shape}")
        n = self.X.shape[0]
        self.lengths = np.asarray(self.lengths, dtype=np.int64)
        if self.lengths.shape != (n,):
            raise ValueError(f"{label}: lengths must have shape ({n},), got {self.lengths.shape}")
        if self.y is not None:
            self.y = np.asarray(self.y)
            if self.y.shape != (n,):
                raise ValueError(f"{label}: y must have shape ({n},), got {self.y.shape}")
        if n and (self.lengths.min() < 0 or self.lengths.max() > self.X.shape[2]):
            raise ValueError(f"{label}: lengths must lie in [0, {self.X.shape[2]}]")

    @property
    def n_cases(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_timepoints(self) -> int:
        return int(self.X.shape[2])

    @property
    def equal_length(self) -> bool:
        return bool(self.n_cases == 0 or (self.lengths == self.n_timepoints).all())

    @property
    def classes(self) -> np.ndarray:
        """Sorted unique labels."""
        if self.y is None:
            raise ValueError(f"{self.name or '<unnamed dataset>'}: unlabelled data has no classes")
        return np.unique(self.y)

    @property
    def mask(self) -> np.ndarray:
        """Boolean array like ``X``: True where a value is observed (finite)."""
        return np.isfinite(self.X)

    def subset(self, index: np.ndarray, name: str | None = None, **meta: Any) -> TimeSeriesData:
        """Cases ``index`` (an int array or boolean mask) as a new object.

        The time axis is cut to the longest selected case so that no all-NaN
        columns are carried along; no observed value is ever dropped.
        """
        index = np.asarray(index)
        lengths = self.lengths[index]
        width = int(lengths.max()) if lengths.size else 0
        return TimeSeriesData(
            X=self.X[index][:, :, :width].copy(),
            y=None if self.y is None else self.y[index].copy(),
            lengths=lengths.copy(),
            name=self.name if name is None else name,
            meta={**self.meta, **meta},
        )

    def __repr__(self) -> str:
        n_cls = "unlabelled" if self.y is None else f"{len(np.unique(self.y))} classes"
        return (
            f"TimeSeriesData(name={self.name!r}, n_cases={self.n_cases}, n_channels={self.n_channels}, "
            f"n_timepoints={self.n_timepoints}, equal_length={self.equal_length}, {n_cls})"
        )


def true_lengths(X: np.ndarray) -> np.ndarray:
    """One past the last finite value of every case of ``X`` (n_cases, n_channels, n_timepoints).

    All-NaN cases get length 0.
    """
    observed = np.isfinite(X).any(axis=1)  # (n_cases, n_timepoints)
    last = observed.shape[1] - np.argmax(observed[:, ::-1], axis=1)
    return np.where(observed.any(axis=1), last, 0).astype(np.int64)


def normalise_labels(labels: np.ndarray) -> np.ndarray:
    """Labels as classes: integral floats become int64, numbers stay numbers, the rest str.

    ``-1.0``/``1.0`` become ``-1``/``1`` (kept as distinct classes, never remapped).
    """
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        return labels.astype(np.int64)
    if labels.dtype.kind == "f":
        if np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            return labels.astype(np.int64)
        return labels
    as_str = labels.astype(str)
    try:
        as_float = as_str.astype(np.float64)
    except ValueError:
        return as_str
    return normalise_labels(as_float)
