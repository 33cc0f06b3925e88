import numpy as np
import pytest
from aeon.distances import dtw_distance

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.baselines import as_aeon_collection, one_nn_dtw

nan = np.nan


def test_one_nn_dtw_matches_a_brute_force_nearest_neighbour():
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(12, 1, 20)).cumsum(axis=-1)
    X_test = rng.normal(size=(5, 1, 20)).cumsum(axis=-1)
    y_train = np.arange(12) % 3
    train = TimeSeriesData(X=X_train, y=y_train, lengths=np.full(12, 20))
    test = TimeSeriesData(X=X_test, y=np.zeros(5, dtype=int), lengths=np.full(5, 20))
    predicted = one_nn_dtw(train, test)
    expected = [y_train[np.argmin([dtw_distance(t, s) for s in X_train])] for t in X_test]
    np.testing.assert_array_equal(predicted, expected)


def test_unequal_lengths_become_a_list_cut_at_true_length():
    X = np.array([[[1.0, 2.0, 3.0]], [[1.0, 2.0, nan]]])
    data = TimeSeriesData(X=X, y=np.array([0, 1]), lengths=np.array([3, 2]))
    collection = as_aeon_collection(data)
    assert [c.shape for c in collection] == [(1, 3), (1, 2)]
    predicted = one_nn_dtw(data, data)
    np.testing.assert_array_equal(predicted, [0, 1])


def test_gaps_are_refused():
    X = np.array([[[1.0, nan, 3.0]], [[1.0, 2.0, 3.0]]])
    data = TimeSeriesData(X=X, y=np.array([0, 1]), lengths=np.array([3, 3]), name="gappy")
    with pytest.raises(ValueError, match="gappy: NaN"):
        one_nn_dtw(data, data)
