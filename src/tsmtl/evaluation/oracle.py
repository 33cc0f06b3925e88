"""The Bayes limit of ForeClassNet's simulations (Sec. 4.1-4.4): the exact-likelihood oracle.

When the generating processes are known, the classifier with the smallest error is the Bayes
(likelihood-ratio) classifier ``argmax_k [log p(x | class k) + log pi_k]``. Every class of the
simulations in :mod:`tsmtl.data.synthetic` is a zero-mean Gaussian process driven by iid
``N(0, 1)`` innovations, so a series ``x`` of length ``n`` has the exact likelihood
``N(0, Sigma_k)`` with ``Sigma_k`` the ``n x n`` covariance of class ``k``. No model is fitted;
the oracle's accuracy is the ceiling any learned classifier (ForeClassNet, Inception, HC2, ...)
can reach on the same data, up to sampling noise.

Covariances (:func:`process_covariance`)
----------------------------------------
The simulator runs statsmodels' ``arma_generate_sample``: ``scipy.signal.lfilter(ma, ar, e)``
over ``burnin + n`` innovations from zero initial values, then drops the first ``burnin``
values. With the impulse response (psi weights) ``psi_0 = 1, psi_1, ...`` of
``A(B) x_t = M(B) e_t`` the recursion is the linear map ``x = H e``, ``H[i, j] = psi_{i-j}``
(``i >= j``, i.e. ``H = A^{-1} M`` as lower-triangular Toeplitz matrices), so the kept values
``x[burnin:] = H[burnin:, :] e`` have covariance

    ``Sigma = L L^T``,  ``L = H[burnin:burnin + n, :]``  (``n x (burnin + n)``).

This is exact for every ``burnin``; with ``burnin=0`` ``L`` is unit lower triangular
(``log det Sigma = 0``: the likelihood is that of the innovations). ``burnin=None`` means a
series started in stationarity: ``Sigma`` is the Toeplitz matrix of the autocovariances
``gamma(0..n-1)`` from ``ArmaProcess.acovf`` (statsmodels' ``arma_acovf`` with its default
``sigma2=1``, i.e. for unit innovation variance, as in the simulation).

How close is the default ``burnin=100`` to stationarity? With ``x_t = sum_j psi_j e_{t-j}``,
``Sigma_stationary[s, t] - Sigma_burnin[s, t] = sum_{j > burnin + min(s, t)} psi_j
psi_{j + |s - t|}``, of order ``rho^(2 * burnin)`` where ``rho`` is the largest modulus of the
inverse AR roots (``|psi_j| <= C rho^j``): 0.629 for eq. (11)/(13) (AR roots of modulus 1.773,
1.773, 1.590), 0.632 for eq. (14) (roots of modulus 1.581, 1.581); the MA(2) eq. (12) is
exactly stationary after 2 steps. ``0.633^200 ~ 1e-40``: the burnin-100 covariance
equals the stationary one to machine precision (``tests/evaluation/test_oracle.py`` checks
``< 1e-12``), so ``burnin=100`` and ``burnin=None`` give the same oracle.

Classes (:func:`class_covariances`)
-----------------------------------
Class ``k`` of a kind is the ``k``-th entry of ``FORECLASSNET_KINDS[kind]["classes"]``, the
class index of ``foreclassnet_simulation``'s ``y``. The Sec. 4.4 mixture ``0.6 x (13) +
0.4 x (14)`` of independent realisations (the simulator's reading) has covariance
``0.6^2 Sigma_13 + 0.4^2 Sigma_14``. Sec. 4.3 (``ar_vs_ar_mislabelled``) has the classes of 4.2:
the oracle knows the true processes, and the paper scores on clean test labels, so its oracle
is the 4.2 oracle.

Observed points only
--------------------
The paper observes the first 40 of 50 points. The Bayes classifier that sees only those uses
the marginal law of the first ``m`` points, ``N(0, Sigma[:m, :m])`` (the leading block), which
is :func:`oracle_accuracy`'s ``n_observed``. Scoring on all 50 points is the "Bayes(x, x*)"
classifier of the paper's Sec. 2 (the future known), a ceiling for classifiers trained on the
full series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.linalg import cholesky, solve_triangular, toeplitz
from statsmodels.tsa.arima_process import ArmaProcess

from tsmtl.data.synthetic import (
    DEFAULT_BURNIN,
    FORECLASSNET_KINDS,
    FORECLASSNET_PROCESSES,
    MIXTURE_WEIGHTS,
    ArmaSpec,
)

_LOG_2PI = float(np.log(2.0 * np.pi))


def _arma_process(spec: ArmaSpec) -> ArmaProcess:
    return ArmaProcess.from_coeffs(
        arcoefs=np.asarray(spec.ar, dtype=np.float64), macoefs=np.asarray(spec.ma, dtype=np.float64)
    )


def process_covariance(spec: ArmaSpec, length: int, burnin: int | None = DEFAULT_BURNIN) -> np.ndarray:
    """Covariance of ``length`` consecutive values of an ARMA process with unit innovations.

    Parameters
    ----------
    spec : ArmaSpec
        The process, coefficients as in ForeClassNet's eqs. (11)-(14) (right-hand side).
    length : int
        ``n``, the number of values.
    burnin : int or None
        ``None``: started in stationarity, the Toeplitz matrix of ``ArmaProcess.acovf(n)``.
        ``b >= 0``: the values ``b .. b + n - 1`` of the recursion started from zero initial
        values, as :func:`tsmtl.data.synthetic.simulate_arma` with ``burnin=b`` returns them:
        ``L L^T`` with ``L = H[b:b + n, :]`` and ``H`` the lower-triangular Toeplitz matrix of
        the psi weights (see the module docstring). Exact for every ``b``.

    Returns
    -------
    np.ndarray
        float64, shape ``(n, n)``, symmetric positive definite.

    Raises
    ------
    ValueError
        ``length < 1``, ``burnin < 0``, or (``burnin=None``) a non-stationary AR part.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    process = _arma_process(spec)
    if burnin is None:
        if not process.isstationary:
            raise ValueError(f"{spec} is not stationary: no stationary covariance")
        return toeplitz(np.asarray(process.acovf(length), dtype=np.float64))
    if burnin < 0:
        raise ValueError(f"burnin must be >= 0 or None, got {burnin}")
    total = burnin + length
    psi = np.asarray(process.arma2ma(lags=total), dtype=np.float64)
    # Rows burnin..total-1 of H, H[i, j] = psi[i - j] for i >= j, else 0.
    lag = np.arange(burnin, total)[:, None] - np.arange(total)[None, :]
    rows = np.where(lag >= 0, psi[np.clip(lag, 0, None)], 0.0)
    covariance = rows @ rows.T
    return 0.5 * (covariance + covariance.T)


def class_covariances(kind: str, length: int, burnin: int | None = DEFAULT_BURNIN) -> dict[int, np.ndarray]:
    """The ``n x n`` covariance of every class of a ForeClassNet simulation (Sec. 4.1-4.4).

    Parameters
    ----------
    kind : {"ar_vs_ma", "ar_vs_ar", "ar_vs_ar_mislabelled", "ar_mixture"}
        As in :func:`tsmtl.data.synthetic.foreclassnet_simulation`.
    length : int
        ``n`` (the paper: 40 observed, 50 in all).
    burnin : int or None
        The simulation's ``burnin`` (default 100), or ``None`` for stationary starts; see
        :func:`process_covariance`.

    Returns
    -------
    dict[int, np.ndarray]
        Class index (as in the simulation's ``y``) -> float64 ``(n, n)`` covariance. For the
        Sec. 4.4 mixture class ``0.6^2 Sigma_(13) + 0.4^2 Sigma_(14)`` (independent
        realisations, :data:`~tsmtl.data.synthetic.MIXTURE_WEIGHTS`).
    """
    if kind not in FORECLASSNET_KINDS:
        raise ValueError(f"unknown ForeClassNet simulation {kind!r}; choose from {list(FORECLASSNET_KINDS)}")
    covariances: dict[int, np.ndarray] = {}
    for index, name in enumerate(FORECLASSNET_KINDS[kind]["classes"]):
        if name == "mixture":
            first = process_covariance(FORECLASSNET_PROCESSES["eq13"], length, burnin)
            second = process_covariance(FORECLASSNET_PROCESSES["eq14"], length, burnin)
            covariances[index] = MIXTURE_WEIGHTS[0] ** 2 * first + MIXTURE_WEIGHTS[1] ** 2 * second
        else:
            covariances[index] = process_covariance(FORECLASSNET_PROCESSES[name], length, burnin)
    return covariances


def _as_matrix(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        if X.shape[1] != 1:
            raise ValueError(f"the oracle takes univariate series, got {X.shape[1]} channels")
        X = X[:, 0, :]
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_cases, length) or (n_cases, 1, length), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X has non-finite values (the oracle needs complete, equal-length series)")
    return X


def gaussian_log_likelihoods(X: np.ndarray, covariances: Mapping[int, np.ndarray]) -> np.ndarray:
    """``log N(x_i; 0, Sigma_k)`` for every case ``i`` and class ``k``, vectorised over cases.

    With ``Sigma = L L^T`` (Cholesky) and ``z = L^{-1} x``:
    ``log N(x; 0, Sigma) = -z.z / 2 - sum_j log L_jj - n log(2 pi) / 2``.

    Parameters
    ----------
    X : np.ndarray, shape (n_cases, n) or (n_cases, 1, n)
    covariances : mapping class -> (n, n) array

    Returns
    -------
    np.ndarray
        float64, shape ``(n_cases, K)``, columns in sorted class order.
    """
    X = _as_matrix(X)
    classes = sorted(covariances)
    out = np.empty((X.shape[0], len(classes)), dtype=np.float64)
    for column, k in enumerate(classes):
        sigma = np.asarray(covariances[k], dtype=np.float64)
        if sigma.shape != (X.shape[1], X.shape[1]):
            raise ValueError(f"class {k}: covariance {sigma.shape} does not fit series of length {X.shape[1]}")
        lower = cholesky(sigma, lower=True)
        z = solve_triangular(lower, X.T, lower=True)  # (n, n_cases)
        log_det_half = np.log(np.diag(lower)).sum()
        out[:, column] = -0.5 * np.einsum("ij,ij->j", z, z) - log_det_half - 0.5 * X.shape[1] * _LOG_2PI
    return out


def oracle_predict(
    X: np.ndarray,
    covariances: Mapping[int, np.ndarray],
    priors: Sequence[float] | Mapping[int, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The Bayes classifier ``argmax_k [log N(x; 0, Sigma_k) + log pi_k]``.

    Parameters
    ----------
    X : np.ndarray, shape (n_cases, n) or (n_cases, 1, n)
    covariances : mapping class -> (n, n) array
        E.g. :func:`class_covariances` (for the first ``m`` points: every ``[:m, :m]`` block).
    priors : sequence (in sorted class order) or mapping class -> prior, optional
        Class probabilities ``pi_k > 0`` (normalised here); default equal, the paper's design
        (each class drawn with equal probability).

    Returns
    -------
    predictions : np.ndarray
        shape ``(n_cases,)``, the predicted class keys (int64 for integer keys).
    log_likelihoods : np.ndarray
        float64, shape ``(n_cases, K)``: ``log N(x_i; 0, Sigma_k)`` in sorted class order,
        without the priors.
    """
    classes = np.array(sorted(covariances))
    log_likelihoods = gaussian_log_likelihoods(X, covariances)
    scores = log_likelihoods
    if priors is not None:
        if isinstance(priors, Mapping):
            if set(priors) != set(covariances):
                raise ValueError(f"priors for {sorted(priors)} but classes {classes.tolist()}")
            prior = np.array([priors[k] for k in classes], dtype=np.float64)
        else:
            prior = np.asarray(priors, dtype=np.float64)
        if prior.shape != classes.shape or not (prior > 0).all():
            raise ValueError(f"need {len(classes)} positive priors, got {prior}")
        scores = log_likelihoods + np.log(prior / prior.sum())
    return classes[np.argmax(scores, axis=1)], log_likelihoods


def oracle_accuracy(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    burnin: int | None = DEFAULT_BURNIN,
    n_observed: int | None = None,
) -> float:
    """Accuracy of the exact-likelihood Bayes classifier on a ForeClassNet simulation.

    Parameters
    ----------
    kind : str
        The simulation (:data:`~tsmtl.data.synthetic.FORECLASSNET_KINDS`).
    X : np.ndarray, shape (n_cases, length) or (n_cases, 1, length)
        E.g. ``foreclassnet_simulation(kind, ...).X``.
    y : np.ndarray, shape (n_cases,)
        True class indices (for Sec. 4.3 the clean ``y``, not ``meta["y_mislabelled"]``).
    burnin : int or None
        The burnin the data were simulated with (``meta["burnin"]``; ``None``: stationary).
    n_observed : int, optional
        Score on the first ``n_observed`` points only (the paper's 40 observed points), with
        the marginal covariance of those points (the leading block); default all points.

    Returns
    -------
    float
        The fraction of cases classified correctly with equal priors. Its binomial standard
        error is ``sqrt(acc (1 - acc) / n_cases)``.
    """
    X = _as_matrix(X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}, expected ({X.shape[0]},)")
    m = X.shape[1] if n_observed is None else int(n_observed)
    if not 1 <= m <= X.shape[1]:
        raise ValueError(f"n_observed must lie in [1, {X.shape[1]}], got {n_observed}")
    full = class_covariances(kind, X.shape[1], burnin)
    predictions, _ = oracle_predict(X[:, :m], {k: s[:m, :m] for k, s in full.items()})
    return float(np.mean(predictions == y))
