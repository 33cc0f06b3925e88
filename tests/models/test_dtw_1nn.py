"""The project's DTW / 1NN-DTW kernel against aeon 1.6: distances to the bit, identical neighbours."""

from __future__ import annotations

import numpy as np
import pytest
from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
from aeon.distances import dtw_distance as aeon_dtw_distance
from aeon.distances import dtw_pairwise_distance

from tsmtl.data.feeding import fill_gaps
from tsmtl.data.ucr import load_ucr_dataset
from tsmtl.models.dtw_1nn import (
    as_padded_collection,
    dtw_distance,
    dtw_distance_matrix,
    envelopes,
    lower_bounds,
    nearest_neighbour_dtw,
    numba_threads,
    one_nn_dtw_predict,
    paired_dtw_distances,
    sakoe_chiba_bounds,
)

WINDOWS = (None, 0.0, 0.05, 0.1, 0.3, 1.0)


def _aeon_predict(X_train, y_train, X_test, window):
    classifier = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", distance_params={"window": window})
    classifier.fit(X_train, y_train)
    return classifier.predict(X_test)


# -- distances ----------------------------------------------------------------------------------
def test_hand_computed_distances():
    # x = [0, 1, 2], y = [1, 2, 3]: rows of the accumulated cost 1 5 14 / 1 2 6 / 2 1 2
    assert dtw_distance(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])) == 2.0
    assert dtw_distance(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), window=0.0) == 3.0
    # unequal: x = [0, 1, 2], y = [0, 2] -> 1 (0-0, 1-0 or 1-2, 2-2)
    assert dtw_distance(np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0])) == 1.0


@pytest.mark.parametrize("n_channels", [1, 3])
def test_distances_equal_aeons_to_the_bit_on_random_pairs(n_channels):
    rng = np.random.default_rng(n_channels)
    for _ in range(300):
        n, m = (int(v) for v in rng.integers(1, 45, size=2))
        if rng.random() < 0.4:
            m = n
        x = rng.normal(size=(n_channels, n)).cumsum(axis=1)
        y = rng.normal(size=(n_channels, m)).cumsum(axis=1)
        window = WINDOWS[int(rng.integers(len(WINDOWS)))] if rng.random() < 0.7 else float(rng.random())
        expected = aeon_dtw_distance(x, y, window=window)
        assert dtw_distance(x, y, window) == expected, (n, m, window)


def test_matrix_and_paired_distances_equal_aeons_pairwise_on_unequal_lengths():
    rng = np.random.default_rng(7)
    X = [rng.normal(size=int(n)).cumsum() for n in rng.integers(5, 40, size=9)]
    Y = [rng.normal(size=int(n)).cumsum() for n in rng.integers(5, 40, size=6)]
    for window in (None, 0.1, 0.5):
        expected = dtw_pairwise_distance(X, Y, window=window)
        np.testing.assert_array_equal(dtw_distance_matrix(X, Y, window, n_jobs=2), expected)
        paired = paired_dtw_distances(X[:6], Y, window)
        np.testing.assert_array_equal(paired, np.diag(expected[:6]))


def test_band_is_the_closed_form_for_equal_lengths_and_contiguous_otherwise():
    start, end = sakoe_chiba_bounds(10, 10, 0.2)  # half-width int(0.2 * 10) = 2
    np.testing.assert_array_equal(start, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(end, [3, 4, 5, 6, 7, 8, 9, 10, 10, 10])
    for n, m in [(7, 30), (30, 7), (12, 13)]:
        start, end = sakoe_chiba_bounds(n, m, 0.1)
        assert start[0] == 0 and end[-1] == m and (np.diff(start) >= 0).all() and (np.diff(end) >= 0).all()
        assert (start < end).all()
    start, end = sakoe_chiba_bounds(5, 8, None)
    assert (start == 0).all() and (end == 8).all()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="window must be between 0 and 1"):
        dtw_distance(np.zeros(3), np.zeros(3), window=1.5)
    with pytest.raises(ValueError, match="NaN or inf inside a series"):
        as_padded_collection(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(ValueError, match="same number of channels"):
        nearest_neighbour_dtw(np.zeros((2, 2, 5)), np.zeros((1, 1, 5)))
    with pytest.raises(ValueError, match="tie_break must be one of"):
        nearest_neighbour_dtw(np.zeros((2, 5)), np.zeros((1, 5)), tie_break="last")
    with pytest.raises(ValueError, match="one label per training series"):
        one_nn_dtw_predict(np.zeros((2, 5)), np.array([0, 1, 2]), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="n_jobs"):
        with numba_threads(0):
            pass


# -- lower bounds ---------------------------------------------------------------------------------
def test_lower_bounds_never_exceed_the_distance():
    rng = np.random.default_rng(3)
    for _ in range(400):
        n = int(rng.integers(1, 40))
        channels = int(rng.choice([1, 2]))
        x = rng.normal(size=(channels, n)).cumsum(axis=1)
        y = rng.normal(size=(channels, n)).cumsum(axis=1) + rng.normal()
        window = WINDOWS[int(rng.integers(len(WINDOWS)))]
        distance = aeon_dtw_distance(x, y, window=window)
        for name, bound in lower_bounds(x, y, window).items():
            assert bound <= distance * (1 + 1e-12) + 1e-12, (name, bound, distance, window)


def test_envelope_is_the_band_max_and_min():
    x = np.array([[0.0, 3.0, 1.0, 5.0, 2.0, 4.0]])
    upper, lower = envelopes(x, window=0.2)  # half-width int(0.2 * 6) = 1
    np.testing.assert_array_equal(upper[0, 0], [3, 3, 5, 5, 5, 4])
    np.testing.assert_array_equal(lower[0, 0], [0, 0, 1, 1, 2, 2])


# -- 1NN search ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n_channels", [1, 2])
@pytest.mark.parametrize("window", [None, 0.0, 0.1, 0.5])
def test_search_finds_the_brute_force_neighbour(n_channels, window):
    rng = np.random.default_rng(11)
    X_train = rng.normal(size=(40, n_channels, 30)).cumsum(axis=2)
    X_query = rng.normal(size=(25, n_channels, 30)).cumsum(axis=2)
    full = dtw_pairwise_distance(X_query, X_train, window=window)
    result = nearest_neighbour_dtw(X_train, X_query, window, n_jobs=2, tie_break="first")
    np.testing.assert_array_equal(result.index, full.argmin(axis=1))
    np.testing.assert_array_equal(result.distance, full.min(axis=1))
    assert (result.n_dtw <= 40).all()


def test_search_on_unequal_lengths_finds_the_brute_force_neighbour():
    rng = np.random.default_rng(5)
    X_train = [rng.normal(size=int(n)).cumsum() for n in rng.integers(10, 40, size=30)]
    X_query = [rng.normal(size=int(n)).cumsum() for n in rng.integers(10, 40, size=12)]
    for window in (None, 0.2):
        full = dtw_pairwise_distance(X_query, X_train, window=window)
        result = nearest_neighbour_dtw(X_train, X_query, window, tie_break="first")
        np.testing.assert_array_equal(result.index, full.argmin(axis=1))
        np.testing.assert_array_equal(result.distance, full.min(axis=1))


def test_exact_ties_are_broken_as_aeon_breaks_them():
    # 300 training series: 3 prototypes, each copied exactly 100 times, every copy its own
    # label, so the prediction tells which copy aeon chose among 100 tied neighbours.
    rng = np.random.default_rng(0)
    prototypes = rng.normal(size=(3, 1, 25)).cumsum(axis=2)
    copies = rng.permutation(np.repeat(np.arange(3), 100))
    X_train = prototypes[copies]
    y_train = np.arange(300)
    X_query = prototypes[rng.integers(0, 3, size=12)] + rng.normal(scale=0.01, size=(12, 1, 25))
    for window in (None, 0.1):
        expected = _aeon_predict(X_train, y_train, X_query, window)
        result = nearest_neighbour_dtw(X_train, X_query, window, n_jobs=2)
        assert (result.n_ties == 100).all()
        np.testing.assert_array_equal(y_train[result.index], expected)
        # (on an AVX-512 CPU, numpy's argpartition returns a later copy for most of these queries)
        first = nearest_neighbour_dtw(X_train, X_query, window, tie_break="first")
        nearest_copies = [np.flatnonzero((X_train == X_train[i]).all(axis=(1, 2))) for i in first.index]
        assert all(i == c.min() for i, c in zip(first.index, nearest_copies))


def _ucr_case(real_data_dir, name, n_test=None):
    splits = load_ucr_dataset(name, real_data_dir / "ucr")
    train, test = fill_gaps(splits["train"]), fill_gaps(splits["test"])
    if n_test is not None:
        test = test.subset(np.arange(n_test))
    return train, test


def _aeon_collection(data):
    if data.equal_length:
        return data.X.astype(np.float64)
    return [data.X[i, :, :n].astype(np.float64) for i, n in enumerate(data.lengths)]


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("name", "n_test", "windows"),
    [
        ("ECG200", None, (None, 0.1)),
        ("TwoLeadECG", 400, (None, 0.05)),
        ("DodgerLoopDay", None, (None, 0.1)),  # NaN gaps interpolated, as ucr_mtl feeds it
        ("AllGestureWiimoteX", 25, (None, 0.1)),  # unequal lengths
    ],
)
def test_predictions_equal_aeons_on_real_ucr_tasks(real_data_dir, name, n_test, windows):
    train, test = _ucr_case(real_data_dir, name, n_test)
    for window in windows:
        expected = _aeon_predict(_aeon_collection(train), train.y, _aeon_collection(test), window)
        predicted = one_nn_dtw_predict(
            train.X, train.y, test.X, window, lengths_train=train.lengths, lengths_query=test.lengths, n_jobs=2
        )
        np.testing.assert_array_equal(predicted, expected)


def test_dtw_approximation_targets_and_the_1nn_baseline_use_this_kernel():
    from tsmtl.data.synthetic import random_walk_pairs
    from tsmtl.data.types import TimeSeriesData
    from tsmtl.experiments.dtw_approximation import dtw_targets
    from tsmtl.models.baselines import one_nn_dtw

    pairs = random_walk_pairs(30, 40, seed=1)
    for window in (None, 0.1):
        expected = [aeon_dtw_distance(a, b, window=window) for a, b in pairs]
        np.testing.assert_array_equal(dtw_targets(pairs, window), expected)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 1, 20)).cumsum(axis=2)
    y = np.arange(30) % 3
    train = TimeSeriesData(X=X[:20], y=y[:20], lengths=np.full(20, 20))
    test = TimeSeriesData(X=X[20:], y=y[20:], lengths=np.full(10, 20))
    np.testing.assert_array_equal(one_nn_dtw(train, test, window=0.1), _aeon_predict(X[:20], y[:20], X[20:], 0.1))


def test_numba_threads_leaves_torch_thread_count_as_it_was():
    """numba's OpenMP layer resets the process-wide OpenMP count; torch's must come back unchanged."""
    import torch

    from tsmtl.models.dtw_1nn import numba_threads

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with numba_threads(-1):
            pass
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
