"""The conventions every preprocessing function follows, as small shared helpers.

A :class:`~tsmtl.data.types.TimeSeriesData` holds ``X`` (n_cases, n_channels, n_timepoints),
NaN-padded after each case's true length ``lengths[i]``; NaN *inside* ``[0, lengths[i])``
is a missing value (a gap). :func:`within_length` and :func:`observed_mask` give those
masks; :func:`with_step` appends the record every value-changing function leaves in
``meta["preprocessing"]``; :func:`dataset_label` is how error messages name the dataset, and
:func:`frame_label` how they name a long DataFrame (the file it was read from).
Split out of ``tsmtl/data/preprocessing.py`` by issue #11 ("Layout").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsmtl.data.types import TimeSeriesData

__all__ = ["dataset_label", "frame_label", "observed_mask", "plain_value", "require_labels", "with_step", "within_length"]


def within_length(data: TimeSeriesData) -> np.ndarray:
    """Boolean (n_cases, 1, n_timepoints): True at time indices ``t < lengths[i]``."""
    return (np.arange(data.n_timepoints)[None, :] < data.lengths[:, None])[:, None, :]


def observed_mask(data: TimeSeriesData) -> np.ndarray:
    """Boolean like ``X``: finite and within the case's true length."""
    return np.isfinite(data.X) & within_length(data)


def with_step(meta: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``meta`` with ``step`` appended to ``meta["preprocessing"]`` (a list)."""
    previous = meta.get("preprocessing")
    if previous is None:
        steps: list[Any] = []
    elif isinstance(previous, list):
        steps = list(previous)
    else:  # a reader may have recorded one step as a plain string
        steps = [previous]
    return {**meta, "preprocessing": [*steps, step]}


def dataset_label(data: TimeSeriesData) -> str:
    """The name every error message starts with: ``data.name``, or ``"<unnamed dataset>"``."""
    return data.name or "<unnamed dataset>"


def frame_label(frame: Any, default: str) -> str:
    """How error messages name a long DataFrame: its ``attrs["source"]`` (the file or archive the
    readers record), else ``attrs["name"]``, else ``default`` (e.g. the function's name)."""
    attrs = getattr(frame, "attrs", None) or {}
    return str(attrs.get("source") or attrs.get("name") or default)


def require_labels(data: TimeSeriesData, what: str) -> np.ndarray:
    """``data.y`` (n_cases,); a ValueError naming the dataset and ``what`` needs them when it is None."""
    if data.y is None:
        raise ValueError(f"{dataset_label(data)}: {what} needs class labels, but y is None")
    return data.y


def plain_value(value: Any) -> Any:
    """NumPy scalars as Python values, so that messages read ``'rare'``, not ``np.str_('rare')``."""
    return value.item() if isinstance(value, np.generic) else value
