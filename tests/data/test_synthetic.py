"""Synthetic generators: shapes, determinism, and statistics that a wrong process would fail."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.data.synthetic import (
    FORECLASSNET_KINDS,
    flip_labels,
    foreclassnet_simulation,
    random_walk_pairs,
    simulate_arma,
)


def pooled_acf(x: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` of zero-mean series pooled over rows: sum x_t x_{t+k} / sum x_t^2."""
    return float((x[:, :-lag] * x[:, lag:]).sum() / (x[:, :-lag] ** 2).sum())


# ----------------------------------------------------------------------------- random walks
def test_random_walk_pairs_shape_and_znormalisation():
    walks = random_walk_pairs(50, 64, seed=1)
    assert walks.shape == (50, 2, 64) and walks.dtype == np.float64
    np.testing.assert_allclose(walks.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(walks.std(axis=-1), 1.0, atol=1e-12)


def test_random_walk_steps_are_standard_normal():
    raw = random_walk_pairs(2000, 100, seed=2, znormalise=False)
    steps = np.diff(raw, axis=-1, prepend=0.0)  # the first value is the first step
    assert abs(steps.mean()) < 0.01 and abs(steps.var() - 1.0) < 0.02
    # a walk's variance grows linearly: Var(x_t) = t (1-based)
    assert abs(raw[:, :, 99].var() / 100.0 - 1.0) < 0.1
    # the two series of a pair are independent
    a, b = np.diff(raw[:, 0], axis=-1).ravel(), np.diff(raw[:, 1], axis=-1).ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


def test_random_walk_determinism_and_znormalise_consistency():
    a, b = random_walk_pairs(5, 20, seed=3), random_walk_pairs(5, 20, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, random_walk_pairs(5, 20, seed=4))
    raw = random_walk_pairs(5, 20, seed=3, znormalise=False)
    np.testing.assert_allclose(a, (raw - raw.mean(-1, keepdims=True)) / raw.std(-1, keepdims=True))
    with pytest.raises(ValueError):
        random_walk_pairs(3, 1)


# ----------------------------------------------------------------------------- ARMA
def test_ar1_lag1_autocorrelation_and_variance():
    x = simulate_arma(ar=[0.7], n_samples=400, length=500, sigma=2.0, seed=5)
    assert x.shape == (400, 500)
    assert abs(pooled_acf(x, 1) - 0.7) < 0.01
    assert abs(pooled_acf(x, 2) - 0.49) < 0.015
    # stationary variance sigma^2 / (1 - phi^2) = 4 / 0.51
    assert abs(x.var() / (4 / 0.51) - 1.0) < 0.03


def test_ma1_autocorrelation_cuts_off():
    x = simulate_arma(ma=[0.5], n_samples=400, length=500, seed=6)
    assert abs(pooled_acf(x, 1) - 0.5 / 1.25) < 0.01  # theta / (1 + theta^2)
    assert abs(pooled_acf(x, 2)) < 0.01
    assert abs(pooled_acf(x, 3)) < 0.01


def test_paper_ma2_eq12_autocorrelations():
    # Y_t = 0.5 eta_{t-1} + 0.4 eta_{t-2} + eta_t: gamma0 = 1.41, gamma1 = 0.5 + 0.5*0.4, gamma2 = 0.4
    x = simulate_arma(ma=[0.5, 0.4], n_samples=4000, length=50, seed=7)
    assert abs(pooled_acf(x, 1) - 0.70 / 1.41) < 0.015
    assert abs(pooled_acf(x, 2) - 0.40 / 1.41) < 0.015
    assert abs(pooled_acf(x, 3)) < 0.015


def test_paper_ar2_eq14_autocorrelations():
    # Yule-Walker: rho1 = phi1 / (1 - phi2) = 0.5; rho2 = phi1 rho1 + phi2 = -0.05
    x = simulate_arma(ar=[0.7, -0.4], n_samples=4000, length=50, seed=8)
    assert abs(pooled_acf(x, 1) - 0.5) < 0.015
    assert abs(pooled_acf(x, 2) - (-0.05)) < 0.015


def test_paper_ar3_eq11_autocorrelations():
    # Yule-Walker for X_t = 0.6 X_{t-1} - 0.3 X_{t-2} + 0.2 X_{t-3} + eps_t:
    #   rho1 = p1 + p2 rho1 + p3 rho2 ;  rho2 = p1 rho1 + p2 + p3 rho1
    p1, p2, p3 = 0.6, -0.3, 0.2
    rho1, rho2 = np.linalg.solve([[1 - p2, -p3], [-(p1 + p3), 1.0]], [p1, p2])
    rho3 = p1 * rho2 + p2 * rho1 + p3
    x = simulate_arma(ar=[p1, p2, p3], n_samples=4000, length=50, seed=9)
    for lag, rho in ((1, rho1), (2, rho2), (3, rho3)):
        assert abs(pooled_acf(x, lag) - rho) < 0.015, (lag, rho)


def test_arma_determinism_and_errors():
    np.testing.assert_array_equal(simulate_arma([0.5], [], 3, 10, seed=1), simulate_arma([0.5], [], 3, 10, seed=1))
    assert not np.allclose(simulate_arma([0.5], [], 3, 10, seed=1), simulate_arma([0.5], [], 3, 10, seed=2))
    with pytest.raises(ValueError, match="not stationary"):
        simulate_arma(ar=[1.0], n_samples=2, length=10)
    # burnin=0 starts from zero initial values: X_0 = eps_0 exactly
    rng_sample = np.random.default_rng(11).standard_normal((2, 10))
    np.testing.assert_allclose(simulate_arma([0.5], [], 2, 10, seed=11, burnin=0)[:, 0], rng_sample[:, 0])


# ----------------------------------------------------------------------------- ForeClassNet experiments
@pytest.mark.parametrize("kind, n_classes", [("ar_vs_ma", 2), ("ar_vs_ar", 2), ("ar_vs_ar_mislabelled", 2), ("ar_mixture", 3)])
def test_simulation_shapes_and_balance(kind, n_classes):
    data = foreclassnet_simulation(kind, n_per_class=30, length=50, seed=0)
    assert data.X.shape == (30 * n_classes, 1, 50) and data.X.dtype == np.float64
    assert data.equal_length and np.isfinite(data.X).all()
    np.testing.assert_array_equal(np.bincount(data.y), [30] * n_classes)
    assert data.meta["forecast_horizon"] == 10 and data.meta["section"] == FORECLASSNET_KINDS[kind]["section"]
    assert not (np.diff(data.y) == 0).all()  # shuffled, not in class blocks


def test_simulation_determinism_per_seed():
    a = foreclassnet_simulation("ar_mixture", 20, seed=42)
    b = foreclassnet_simulation("ar_mixture", 20, seed=42)
    c = foreclassnet_simulation("ar_mixture", 20, seed=43)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)


def test_simulation_classes_follow_their_equations():
    data = foreclassnet_simulation("ar_vs_ma", n_per_class=3000, seed=1)
    x = data.X[:, 0, :]
    ar3, ma2 = x[data.y == 0], x[data.y == 1]
    # class 1 is the MA(2) of eq. (12): no autocorrelation beyond lag 2; class 0 (AR(3)) has some
    assert abs(pooled_acf(ma2, 3)) < 0.02
    assert abs(pooled_acf(ar3, 3) - pooled_acf(simulate_arma([0.6, -0.3, 0.2], [], 3000, 50, seed=2), 3)) < 0.03
    assert abs(pooled_acf(ar3, 3)) > 0.1


def test_mixture_class_is_the_weighted_sum_of_independent_processes():
    data = foreclassnet_simulation("ar_mixture", n_per_class=3000, seed=3)
    x = data.X[:, 0, :]
    var13, var14, var_mix = x[data.y == 0].var(), x[data.y == 1].var(), x[data.y == 2].var()
    # independent realisations: Var = 0.36 Var(13) + 0.16 Var(14); Var(14) = 1.4 / (0.6 * 1.47)
    assert abs(var14 - 1.4 / (0.6 * 1.47)) < 0.05
    assert abs(var_mix / (0.36 * var13 + 0.16 * var14) - 1.0) < 0.05


def test_mislabelled_variant():
    data = foreclassnet_simulation("ar_vs_ar_mislabelled", n_per_class=50, seed=4)
    noisy = data.meta["y_mislabelled"]
    assert int((noisy != data.y).sum()) == 20  # 20 % of 100
    assert set(np.unique(noisy)) == {0, 1}
    clean = foreclassnet_simulation("ar_vs_ar", n_per_class=50, seed=4)
    np.testing.assert_array_equal(clean.X, data.X)  # same series as Sec. 4.2


def test_flip_labels_multiclass_changes_exactly_the_fraction():
    y = np.repeat([0, 1, 2], 10)
    flipped = flip_labels(y, 0.3, seed=0)
    assert int((flipped != y).sum()) == 9
    with pytest.raises(ValueError):
        flip_labels(y, 1.5)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown ForeClassNet simulation"):
        foreclassnet_simulation("ar_vs_garch", 10)
