"""Pieces of tsmtl.experiments.foreclassnet that the pipeline tests do not pin down."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.data.types import TimeSeriesData
from tsmtl.experiments.foreclassnet import (
    _baseline_seeds,
    chronological_split,
    normalise_by_last_observed,
)


def test_baseline_seeds_default_to_every_seed_and_must_be_among_them():
    assert _baseline_seeds({}, [0, 1, 2]) == {0, 1, 2}
    assert _baseline_seeds({"baseline_seeds": [1]}, [0, 1, 2]) == {1}
    with pytest.raises(ValueError, match=r"baseline_seeds \[5\] are not among seeds \[0, 1\]"):
        _baseline_seeds({"baseline_seeds": [0, 5]}, [0, 1])


def test_windows_are_divided_by_their_last_observed_value():
    X = np.array([[[1.0, 2.0, 4.0, 8.0]], [[3.0, 6.0, 3.0, 0.0]]])
    data = TimeSeriesData(X=X, y=np.array([0, 1]), lengths=np.array([4, 4]))
    scaled = normalise_by_last_observed(data, n_observed=3)
    np.testing.assert_allclose(scaled.X, [[[0.25, 0.5, 1.0, 2.0]], [[1.0, 2.0, 1.0, 0.0]]])


def test_chronological_split_keeps_an_embargo_between_train_and_test():
    n = 200
    dates = np.datetime64("2015-01-01") + np.arange(n) * np.timedelta64(3, "D")
    order = np.random.default_rng(0).permutation(n)  # events need not come sorted
    data = TimeSeriesData(X=np.arange(n, dtype=float)[order].reshape(n, 1, 1), y=np.arange(n)[order] % 2, lengths=np.ones(n, dtype=int))
    splits = chronological_split(data, dates[order], test_fraction=0.2, val_fraction=0.1, embargo_days=30)
    day = {name: dates[part.X[:, 0, 0].astype(int)] for name, part in splits.items()}
    assert day["train"].max() <= day["val"].min()
    assert (day["test"].min() - day["train"].max()) >= np.timedelta64(30, "D")
    assert (day["test"].min() - day["val"].max()) >= np.timedelta64(30, "D")
    assert splits["test"].n_cases == pytest.approx(0.2 * n, abs=1)
