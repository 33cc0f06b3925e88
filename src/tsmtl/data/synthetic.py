"""Generated data: random-walk pairs (ResNet2D, Sec. IV-A) and ForeClassNet's ARMA simulations (Sec. 4).

Nothing here needs a download; every generator is deterministic given ``seed``.

ForeClassNet (Coulson et al., "Boltzmann convolutions and Welford mean-variance layers with an
application to time series forecasting and classification"), Section 4, simulates series of
length 50 from these processes (all innovations iid N(0, 1)):

* eq. (11) = eq. (13): ``X_t = 0.6 X_{t-1} - 0.3 X_{t-2} + 0.2 X_{t-3} + eps_t``  (AR(3))
* eq. (12): ``Y_t = 0.5 eta_{t-1} + 0.4 eta_{t-2} + eta_t``  (MA(2))
* eq. (14): ``Y_t = 0.7 Y_{t-1} - 0.4 Y_{t-2} + eta_t``  (AR(2))

and uses them in these experiments (``kind`` of :func:`foreclassnet_simulation`):

* ``"ar_vs_ma"`` (Sec. 4.1): class 0 = eq. (11), class 1 = eq. (12);
* ``"ar_vs_ar"`` (Sec. 4.2): class 0 = eq. (13), class 1 = eq. (14);
* ``"ar_vs_ar_mislabelled"`` (Sec. 4.3): the 4.2 data; ``meta["y_mislabelled"]`` has 20 % of
  the labels switched (the paper corrupts the *training* labels only and tests on clean ones);
* ``"ar_mixture"`` (Sec. 4.4): class 0 = eq. (13), class 1 = eq. (14),
  class 2 = 0.6 x (13) + 0.4 x (14).

Sections 4.5 and 4.6 (fast-gradient-sign adversarial test sets) reuse the 4.2 data; the
perturbation depends on the trained model and is not a data generator. In every experiment the
first 40 points are observed and the last 10 are the future to forecast
(``meta["forecast_horizon"] = 10``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import zscore
from statsmodels.tsa.arima_process import ArmaProcess

from tsmtl.data.types import TimeSeriesData

SeedLike = int | np.random.Generator


@dataclass(frozen=True)
class ArmaSpec:
    """An ARMA process written as in the paper: ``X_t = sum_i ar[i] X_{t-1-i} + e_t + sum_j ma[j] e_{t-1-j}``.

    ``ar`` and ``ma`` are the right-hand-side coefficients (no lag-0 term, no sign flip).
    """

    ar: tuple[float, ...] = ()
    ma: tuple[float, ...] = ()
    equation: str = ""


FORECLASSNET_PROCESSES: dict[str, ArmaSpec] = {
    "eq11": ArmaSpec(ar=(0.6, -0.3, 0.2), equation="(11)"),
    "eq12": ArmaSpec(ma=(0.5, 0.4), equation="(12)"),
    "eq13": ArmaSpec(ar=(0.6, -0.3, 0.2), equation="(13)"),
    "eq14": ArmaSpec(ar=(0.7, -0.4), equation="(14)"),
}
"""The four processes of ForeClassNet Sec. 4, eqs. (11)-(14); (13) is the same AR(3) as (11)."""

MIXTURE_WEIGHTS = (0.6, 0.4)
"""Sec. 4.4: the third class is ``0.6 x process (13) + 0.4 x process (14)``."""

FORECLASSNET_KINDS: dict[str, dict] = {
    "ar_vs_ma": {"section": "4.1", "classes": ("eq11", "eq12")},
    "ar_vs_ar": {"section": "4.2", "classes": ("eq13", "eq14")},
    "ar_vs_ar_mislabelled": {"section": "4.3", "classes": ("eq13", "eq14"), "mislabel_fraction": 0.2},
    "ar_mixture": {"section": "4.4", "classes": ("eq13", "eq14", "mixture")},
}
"""The paper's simulation experiments (see the module docstring)."""

PAPER_LENGTH = 50
PAPER_N_SERIES = 10_000
PAPER_FORECAST_HORIZON = 10
DEFAULT_BURNIN = 100


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def random_walk_pairs(n_pairs: int, length: int, seed: SeedLike = 0, znormalise: bool = True) -> np.ndarray:
    """Pairs of independent Gaussian random walks, the inputs of ResNet2D's DTW approximation.

    ResNet2D (Sec. IV-A) trains models to approximate the DTW distance on "100,000 pairs of
    random walk time series" (1,000 for validation and 1,000 for test); it gives neither the
    length nor a normalisation. Here a walk is ``x_t = sum_{s<=t} e_s`` with ``e_s ~ N(0, 1)``
    iid (it starts at its first step, not at 0).

    ``znormalise=True`` (default, our choice) rescales each series to mean 0 and standard
    deviation 1 (population std, ``scipy.stats.zscore``), the usual practice before DTW
    (the UCR convention): the spread of a raw walk grows like ``sqrt(t)``, so unnormalised DTW
    targets would mostly measure that drift and vary by orders of magnitude across pairs.

    Parameters
    ----------
    n_pairs : int
    length : int
        Points per series (>= 2 when ``znormalise``).
    seed : int or np.random.Generator
    znormalise : bool

    Returns
    -------
    np.ndarray
        float64, shape ``(n_pairs, 2, length)``: ``[:, 0]`` and ``[:, 1]`` are the two
        series of each pair.
    """
    if n_pairs < 0 or length < 1:
        raise ValueError(f"need n_pairs >= 0 and length >= 1, got {n_pairs}, {length}")
    if znormalise and length < 2:
        raise ValueError("z-normalising needs length >= 2 (a single point has no spread)")
    walks = np.cumsum(_rng(seed).standard_normal((n_pairs, 2, length)), axis=-1)
    if znormalise:
        walks = zscore(walks, axis=-1, ddof=0)
    return walks.astype(np.float64, copy=False)


def simulate_arma(
    ar: tuple[float, ...] | list[float] = (),
    ma: tuple[float, ...] | list[float] = (),
    n_samples: int = 1,
    length: int = PAPER_LENGTH,
    sigma: float = 1.0,
    seed: SeedLike = 0,
    burnin: int = DEFAULT_BURNIN,
) -> np.ndarray:
    """Independent realisations of ``X_t = sum_i ar_i X_{t-i} + e_t + sum_j ma_j e_{t-j}``, ``e_t ~ N(0, sigma^2)``.

    Coefficients are written as in ForeClassNet's eqs. (11)-(14) (right-hand side, lags
    1, 2, ...). Generated with statsmodels' ``ArmaProcess.from_coeffs(ar, ma).generate_sample``.

    The paper does not say how its series start. ``burnin`` steps are simulated first from
    zero initial values and discarded, so that each returned series starts (close to) the
    stationary distribution; ``burnin=0`` returns the series that starts from zeros.

    Parameters
    ----------
    ar, ma : sequence of float
        AR coefficients ``phi_1..phi_p`` and MA coefficients ``theta_1..theta_q``.
    n_samples, length : int
        Output shape.
    sigma : float
        Innovation standard deviation.
    seed : int or np.random.Generator
    burnin : int

    Returns
    -------
    np.ndarray
        float64, shape ``(n_samples, length)``.

    Raises
    ------
    ValueError
        The AR part is not stationary (a root of the AR polynomial on or inside the unit
        circle), or a size is negative.
    """
    if n_samples < 0 or length < 1 or burnin < 0 or sigma <= 0:
        raise ValueError(f"need n_samples >= 0, length >= 1, burnin >= 0, sigma > 0; got {n_samples}, {length}, {burnin}, {sigma}")
    process = ArmaProcess.from_coeffs(arcoefs=np.asarray(ar, dtype=np.float64), macoefs=np.asarray(ma, dtype=np.float64))
    if not process.isstationary:
        raise ValueError(f"AR coefficients {list(ar)} are not stationary (AR roots {process.arroots})")
    rng = _rng(seed)
    sample = process.generate_sample(
        nsample=(n_samples, length), scale=sigma, distrvs=rng.standard_normal, axis=1, burnin=burnin
    )
    return np.asarray(sample, dtype=np.float64)


def _simulate_class(name: str, n: int, length: int, rng: np.random.Generator, burnin: int) -> np.ndarray:
    if name == "mixture":
        # Sec. 4.4: "0.6 x process (13) + 0.4 x process (14)": independent realisations of
        # each process (independent innovations) combined linearly -- our reading; the paper
        # does not say whether the two share innovations.
        first = simulate_arma(FORECLASSNET_PROCESSES["eq13"].ar, (), n, length, seed=rng, burnin=burnin)
        second = simulate_arma(FORECLASSNET_PROCESSES["eq14"].ar, (), n, length, seed=rng, burnin=burnin)
        return MIXTURE_WEIGHTS[0] * first + MIXTURE_WEIGHTS[1] * second
    spec = FORECLASSNET_PROCESSES[name]
    return simulate_arma(spec.ar, spec.ma, n, length, seed=rng, burnin=burnin)


def flip_labels(y: np.ndarray, fraction: float, seed: SeedLike = 0) -> np.ndarray:
    """Switch the labels of ``round(fraction * n)`` randomly chosen cases (ForeClassNet Sec. 4.3).

    Binary labels are switched to the other class; with more classes a switched label becomes
    one of the *other* classes, uniformly.

    Parameters
    ----------
    y : np.ndarray, shape (n_cases,)
    fraction : float in [0, 1]
    seed : int or np.random.Generator

    Returns
    -------
    np.ndarray
        A copy of ``y`` with exactly ``round(fraction * n_cases)`` labels changed.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    y = np.asarray(y)
    classes = np.unique(y)
    if len(classes) < 2 and fraction > 0:
        raise ValueError("cannot switch labels with fewer than two classes")
    rng = _rng(seed)
    flipped = y.copy()
    chosen = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    for i in chosen:
        others = classes[classes != y[i]]
        flipped[i] = others[rng.integers(len(others))]
    return flipped


def foreclassnet_simulation(
    kind: str,
    n_per_class: int,
    length: int = PAPER_LENGTH,
    seed: SeedLike = 0,
    burnin: int = DEFAULT_BURNIN,
) -> TimeSeriesData:
    """One of ForeClassNet's simulated classification data sets (Sec. 4.1-4.4).

    Parameters
    ----------
    kind : {"ar_vs_ma", "ar_vs_ar", "ar_vs_ar_mislabelled", "ar_mixture"}
        The experiment (see the module docstring / :data:`FORECLASSNET_KINDS`).
    n_per_class : int
        Series per class. The paper draws each of its 10,000 series' class with equal
        probability (so about 5,000 per class, 3,333 for 4.4); here the classes are exactly
        balanced and the cases shuffled.
    length : int
        Series length (paper: 50 = 40 observed + 10 future).
    seed : int or np.random.Generator
        Fixes every draw (series, order, mislabelling).
    burnin : int
        Discarded initial steps of every series (see :func:`simulate_arma`).

    Returns
    -------
    TimeSeriesData
        ``X`` float64 ``(n_classes * n_per_class, 1, length)``; ``y`` int64 class indices
        (0, 1[, 2]) in shuffled order; ``meta``: ``kind``, ``section``, ``class_processes``
        (e.g. ``["eq13", "eq14", "mixture"]``), ``forecast_horizon`` (10), and for
        ``ar_vs_ar_mislabelled`` ``y_mislabelled`` (20 % switched; use it for the training
        split only) and ``mislabel_fraction``.
    """
    if kind not in FORECLASSNET_KINDS:
        raise ValueError(f"unknown ForeClassNet simulation {kind!r}; choose from {list(FORECLASSNET_KINDS)}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be >= 1, got {n_per_class}")
    spec = FORECLASSNET_KINDS[kind]
    rng = _rng(seed)
    blocks = [_simulate_class(name, n_per_class, length, rng, burnin) for name in spec["classes"]]
    X = np.concatenate(blocks)[:, None, :]
    y = np.repeat(np.arange(len(blocks), dtype=np.int64), n_per_class)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    meta = {
        "kind": kind,
        "section": spec["section"],
        "class_processes": list(spec["classes"]),
        "equations": [FORECLASSNET_PROCESSES[c].equation if c in FORECLASSNET_PROCESSES else "0.6x(13)+0.4x(14)" for c in spec["classes"]],
        "forecast_horizon": PAPER_FORECAST_HORIZON,
        "burnin": burnin,
        "source": "ForeClassNet Sec. 4 simulation",
    }
    if "mislabel_fraction" in spec:
        meta["mislabel_fraction"] = spec["mislabel_fraction"]
        meta["y_mislabelled"] = flip_labels(y, spec["mislabel_fraction"], seed=rng)
    return TimeSeriesData(
        X=X, y=y, lengths=np.full(len(y), length, dtype=np.int64), name=f"ForeClassNet-{kind}", meta=meta
    )
