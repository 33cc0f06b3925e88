"""The aeon baselines: 1NN-DTW (ResNet2D paper) and HC2, MR-Hydra, TEASER (ForeClassNet paper)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from aeon.datasets import load_unit_test
from aeon.distances import dtw_distance

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.baselines import (
    BASELINES,
    as_aeon_collection,
    fit_predict_baseline,
    hivecote2,
    multirocket_hydra,
    one_nn_dtw,
    teaser,
)

nan = np.nan

# Ridge regressions on 40 cases and thousands of features (MR-Hydra, HC2's Arsenal) are
# ill-conditioned; sklearn says so at every fit.
pytestmark = [
    pytest.mark.filterwarnings("ignore:An ill-conditioned matrix:scipy.linalg.LinAlgWarning"),
    pytest.mark.filterwarnings("ignore:Singular matrix in solving dual problem:UserWarning"),
]


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


# -- the ForeClassNet paper's aeon baselines (Sec. 4): HC2, MR-Hydra, TEASER ---------------------
def _ar_pair(n_per_class, seed, length=30, labels=(-1, 1)):
    """AR(1) series with coefficient 0.9 (smooth) or -0.9 (alternating): an easy two-class task."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.asarray(labels), n_per_class)
    X = np.zeros((len(y), 1, length))
    for i in range(len(y)):
        phi = 0.9 if i < n_per_class else -0.9
        noise = rng.normal(size=length + 20)
        x = np.zeros(length + 20)
        for t in range(1, length + 20):
            x[t] = phi * x[t - 1] + noise[t]
        X[i, 0] = x[20:]  # burn-in dropped
    return TimeSeriesData(X=X, y=y, lengths=np.full(len(y), length), name=f"ar_{seed}")


@pytest.fixture(scope="module")
def ar_task():
    return _ar_pair(20, seed=0), _ar_pair(10, seed=1)


BASELINE_PARAMS = {
    "1nn_dtw": {},
    "hc2": {"time_limit_in_minutes": 0.1, "n_jobs": 1},  # ~5-9 s on 2 cores with 20+20 cases
    "mr_hydra": {},
    "teaser": {},
}


def _float32(data: TimeSeriesData) -> TimeSeriesData:
    return TimeSeriesData(X=data.X.astype(np.float32), y=data.y, lengths=data.lengths, name=data.name)


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_baseline_separates_an_easy_task_in_the_training_label_space(name, dtype, ar_task):
    # float32 is what the networks and FGSM hand over; aeon's catch22 (inside HC2) types float64 only
    train, test = ar_task if dtype == "float64" else map(_float32, ar_task)
    predicted = fit_predict_baseline(name, train, test, **BASELINE_PARAMS[name])
    assert predicted.shape == (test.n_cases,)
    assert set(np.unique(predicted)) <= {-1, 1} and predicted.dtype.kind == "i"
    assert np.mean(predicted == test.y) >= 0.9


def test_string_labels_come_back_as_given():
    train, test = (
        _ar_pair(20, 0, labels=("smooth", "alternating")),
        _ar_pair(5, 1, labels=("smooth", "alternating")),
    )
    predicted = multirocket_hydra(train, test)
    assert set(predicted) <= {"smooth", "alternating"} and np.mean(predicted == test.y) >= 0.9


def test_hc2_with_a_time_contract_and_without_gaps(ar_task):
    train, test = ar_task
    predicted = hivecote2(train, test, time_limit_in_minutes=0.1, n_jobs=1, random_state=1)
    assert np.mean(predicted == test.y) >= 0.9
    with pytest.raises(ValueError, match="positive or None"):
        hivecote2(train, test, time_limit_in_minutes=-1.0)
    gappy = _ar_pair(3, seed=2)
    gappy.X[0, 0, 4] = nan
    with pytest.raises(ValueError, match="NaN inside the series; fill gaps before HC2"):
        hivecote2(train, gappy, time_limit_in_minutes=0.1)


def test_mr_hydra_leaves_torch_random_state_and_threads_alone(ar_task):
    train, test = ar_task
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    multirocket_hydra(train, test, n_jobs=1, random_state=7)
    torch.testing.assert_close(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_teaser_returns_final_predictions_and_the_earliness_of_each_decision():
    """aeon's unit-test data (shipped with aeon): length 24, TEASER decides some cases early."""
    X_train, y_train = load_unit_test(split="train")
    X_test, y_test = load_unit_test(split="test")
    train = TimeSeriesData(
        X=X_train, y=y_train, lengths=np.full(len(y_train), 24), name="unit_train"
    )
    test = TimeSeriesData(X=X_test, y=y_test, lengths=np.full(len(y_test), 24), name="unit_test")
    predicted, earliness = teaser(train, test, random_state=0)
    assert predicted.shape == earliness.shape == (test.n_cases,)
    assert set(predicted) <= set(y_train)  # every case decided: no -1 "undecided"
    assert np.mean(predicted == y_test) >= 0.7
    # aeon's classification points for T = 24: round(24 / i) >= 8, plus 24 -> [8, 12, 24]
    assert set(np.round(earliness * 24).astype(int)) <= {8, 12, 24}
    assert earliness.min() < 1.0 and earliness.max() <= 1.0


def test_teaser_refuses_unequal_lengths_and_shorter_test_series(ar_task):
    train, test = ar_task
    unequal = _ar_pair(3, seed=2)
    unequal.X[0, :, 25:] = nan
    unequal.lengths[0] = 25
    with pytest.raises(ValueError, match="TEASER needs equal-length series, got lengths 25..30"):
        teaser(train, unequal)
    with pytest.raises(ValueError, match="TEASER needs equal-length series"):
        fit_predict_baseline("teaser", unequal, test)
    shorter = _ar_pair(3, seed=2, length=20)
    with pytest.raises(ValueError, match="training length 30, got test series of length 20"):
        teaser(train, shorter)


def test_unknown_baseline_and_wrong_parameters_raise(ar_task):
    train, test = ar_task
    with pytest.raises(
        ValueError,
        match=r"unknown baseline 'rocket'; registered: \['1nn_dtw', 'hc2', 'mr_hydra', 'teaser'\]",
    ):
        fit_predict_baseline("rocket", train, test)
    with pytest.raises(
        ValueError, match="baseline 'hc2': wrong parameters .*time_limit_in_minutes"
    ):
        fit_predict_baseline("hc2", train, test)  # the contract must be chosen
    with pytest.raises(ValueError, match="baseline 'mr_hydra': wrong parameters"):
        fit_predict_baseline("mr_hydra", train, test, window=0.1)
