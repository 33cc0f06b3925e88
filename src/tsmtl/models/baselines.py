"""Non-deep baselines, from aeon (numba/numpy; no TensorFlow needed).

* ``1NN-DTW`` (:func:`one_nn_dtw`) is the ResNet2D paper's standard TSC baseline (Sec. IV-B,
  after Dau et al. 2018): a one-nearest-neighbour classifier under the DTW distance, each task
  on its own. It runs on the project's exact kernel (:mod:`tsmtl.models.dtw_1nn`: lower-bound
  cascade, early abandoning, parallel over queries), whose predictions are aeon's
  ``KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)`` predictions, ties included,
  several times faster (``benchmarks/dtw_1nn.py``).
* The ForeClassNet paper (Sec. 4 and 5) compares with HIVE-COTE 2 (:func:`hivecote2`;
  Middlehurst et al. 2021), MultiRocket-Hydra (:func:`multirocket_hydra`; Dempster et al.
  2023) and the early classifier TEASER (:func:`teaser`; Schaefer & Leser 2020), all from aeon
  as in the paper. (Its fourth competitor, the Inception network, is the torch backbone
  ``inception``, :mod:`tsmtl.models.inception`.)

Every wrapper takes a training and a test :class:`~tsmtl.data.types.TimeSeriesData`, fits on
the first, and returns the predicted labels of the second in the label space of ``train.y``.
:data:`BASELINES` and :func:`fit_predict_baseline` give them one name each for configuration.

Only 1NN-DTW handles unequal lengths; HC2, MR-Hydra and TEASER need every series of both
splits to have one common length, and the wrappers say so before aeon does. None of them
accepts gaps (NaN inside a series): fill them first (:mod:`tsmtl.data.feeding`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from aeon.classification.convolution_based import MultiRocketHydraClassifier
from aeon.classification.early_classification import TEASER
from aeon.classification.hybrid import HIVECOTEV2

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.dtw_1nn import one_nn_dtw_predict


def as_aeon_collection(
    data: TimeSeriesData, method: str = "1NN-DTW"
) -> np.ndarray | list[np.ndarray]:
    """aeon's collection format: numpy3D when every case has the full length, else a list.

    The list holds one ``(n_channels, length_i)`` array per case, cut at its
    true length (aeon's "np-list" for unequal-length collections). Values must
    already be gap-free (see :mod:`tsmtl.data.feeding`); ``method`` names the
    baseline in the error message. Values are cast to float64: aeon's numba kernels are
    compiled for it (catch22 inside HC2's DrCIF fails to type float32 input).
    """
    if data.equal_length:
        X = np.asarray(data.X, dtype=np.float64)
        if not np.isfinite(X).all():
            raise ValueError(f"{data.name}: NaN inside the series; fill gaps before {method}")
        return X
    cases = [np.asarray(data.X[i, :, :length], dtype=np.float64) for i, length in enumerate(data.lengths)]
    if not all(np.isfinite(c).all() for c in cases):
        raise ValueError(f"{data.name}: NaN inside the series; fill gaps before {method}")
    return cases


def _equal_length_arrays(
    train: TimeSeriesData, test: TimeSeriesData, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(train.X, test.X)`` as aeon numpy3D, or a ValueError unless every series has one length.

    aeon's HC2, MR-Hydra and TEASER take equal-length collections only, and a model fitted on
    length ``T`` predicts series of length ``T`` only.
    """
    for data in (train, test):
        if not data.equal_length:
            lengths = data.lengths
            raise ValueError(
                f"{data.name or 'data'}: {method} needs equal-length series, got lengths "
                f"{int(lengths.min())}..{int(lengths.max())}; cut or resample them to one length "
                "first (only 1nn_dtw takes unequal lengths)"
            )
    if train.n_timepoints != test.n_timepoints:
        raise ValueError(
            f"{method} predicts series of its training length {train.n_timepoints}, "
            f"got test series of length {test.n_timepoints}"
        )
    X_train = as_aeon_collection(train, method)
    X_test = as_aeon_collection(test, method)
    assert isinstance(X_train, np.ndarray) and isinstance(X_test, np.ndarray)
    return X_train, X_test


def _check_gap_free(data: TimeSeriesData, method: str) -> None:
    """ValueError naming ``data`` when a value inside a case's true length is NaN."""
    inside = np.arange(data.n_timepoints) < data.lengths[:, None]  # (n_cases, n_timepoints)
    if not np.isfinite(data.X).all(axis=1)[inside].all():
        raise ValueError(f"{data.name}: NaN inside the series; fill gaps before {method}")


def one_nn_dtw(
    train: TimeSeriesData, test: TimeSeriesData, window: float | None = None, n_jobs: int = 1
) -> np.ndarray:
    """Fit 1NN-DTW on ``train`` and predict ``test``.

    Exact search with :func:`tsmtl.models.dtw_1nn.one_nn_dtw_predict`: the same predictions as
    aeon's ``KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw",
    distance_params={"window": window})`` fitted on ``train`` (aeon's DTW to the bit, aeon's
    choice among tied neighbours), unequal lengths on their true lengths.

    Parameters
    ----------
    train, test : TimeSeriesData
        Gap-free splits of one task (unequal lengths allowed).
    window : float, optional
        Sakoe-Chiba band as a fraction of the series length (None: unconstrained,
        the paper's full-window DTW).
    n_jobs : int
        numba threads, parallel over the test series (-1: all cores).

    Returns
    -------
    np.ndarray, shape (test.n_cases,)
        Predicted labels.
    """
    _check_gap_free(train, "1NN-DTW")
    _check_gap_free(test, "1NN-DTW")
    return one_nn_dtw_predict(
        train.X, train.y, test.X, window,
        lengths_train=train.lengths, lengths_query=test.lengths, n_jobs=n_jobs,
    )  # fmt: skip


def hivecote2(
    train: TimeSeriesData,
    test: TimeSeriesData,
    time_limit_in_minutes: float | None,
    n_jobs: int = 1,
    random_state: int | None = 0,
) -> np.ndarray:
    """Fit HIVE-COTE 2 (aeon's ``HIVECOTEV2``, default components) on ``train``, predict ``test``.

    HC2 (Middlehurst et al., "HIVE-COTE 2.0: a new meta ensemble for time series
    classification", Machine Learning 2021) is the CAWPE-weighted ensemble of the Shapelet
    Transform Classifier, DrCIF, the Arsenal and TDE, each weighted by the fourth power of its
    train-set (out-of-bag / cross-validation) accuracy. The default parameters are the paper's
    HC2 (500 DrCIF trees, 25 Arsenal ensembles of 2000 kernels, 10000 shapelet samples, TDE
    with 250 parameter samples).

    Parameters
    ----------
    train, test : TimeSeriesData
        Gap-free, every series of both splits of one length (aeon's HC2 takes no unequal
        lengths).
    time_limit_in_minutes : float or None
        aeon's time contract (``HIVECOTEV2(time_limit_in_minutes=...)``): aeon gives every one of
        the four components ``time_limit_in_minutes / 6`` minutes, and each builds as many
        members as fit in it, instead of its default count. None (aeon's 0): no contract, the
        default number of members (unbounded time on large data). The contract bounds the
        member building, not the whole fit: the ForeClassNet paper (Sec. 4) notes that aeon's
        HC2 can exceed it, and the first call also pays numba's compilation. Deliberately
        without a default: choose.
    n_jobs : int
        Threads of aeon's components (fit and predict).
    random_state : int or None
        Seed of every component.

    Returns
    -------
    np.ndarray, shape (test.n_cases,)
        Predicted labels, in the label space of ``train.y``.
    """
    X_train, X_test = _equal_length_arrays(train, test, "HC2")
    contract = 0 if time_limit_in_minutes is None else float(time_limit_in_minutes)
    if contract < 0:
        raise ValueError(f"time_limit_in_minutes must be positive or None, got {contract}")
    classifier = HIVECOTEV2(
        time_limit_in_minutes=contract, n_jobs=n_jobs, random_state=random_state
    )
    classifier.fit(X_train, train.y)
    return classifier.predict(X_test)


def multirocket_hydra(
    train: TimeSeriesData,
    test: TimeSeriesData,
    n_jobs: int = 1,
    random_state: int | None = 0,
) -> np.ndarray:
    """Fit MultiRocket-Hydra (aeon's ``MultiRocketHydraClassifier``) on ``train``, predict ``test``.

    MR-Hydra (Dempster, Schmidt & Webb, "Hydra: competing convolutional kernels for fast and
    accurate time series classification", DMKD 2023, Sec. 5) concatenates the Hydra features
    (aeon's defaults: 8 kernels per group, 64 groups per dilation; sparse-scaled) and the
    MultiRocket features (standardised), then a ridge classifier with cross-validated
    regularisation (``RidgeClassifierCV``, 10 alphas in ``[1e-3, 1e3]``). aeon's defaults.

    aeon's Hydra transform runs in torch and, as side effects, calls
    ``torch.manual_seed(random_state)`` and ``torch.set_num_threads(n_jobs)``; this wrapper
    restores torch's global random state and thread count afterwards, so a later torch training
    in the same process is unaffected.

    Parameters
    ----------
    train, test : TimeSeriesData
        Gap-free, every series of both splits of one length.
    n_jobs : int
        Threads (torch threads of the Hydra transform, numba threads of MultiRocket).
    random_state : int or None

    Returns
    -------
    np.ndarray, shape (test.n_cases,)
        Predicted labels, in the label space of ``train.y``.
    """
    X_train, X_test = _equal_length_arrays(train, test, "MR-Hydra")
    threads = torch.get_num_threads()
    try:
        with torch.random.fork_rng(devices=[]):
            classifier = MultiRocketHydraClassifier(n_jobs=n_jobs, random_state=random_state)
            classifier.fit(X_train, train.y)
            return classifier.predict(X_test)
    finally:
        torch.set_num_threads(threads)


def teaser(
    train: TimeSeriesData, test: TimeSeriesData, random_state: int | None = 0, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Fit TEASER (aeon's ``TEASER``) on ``train``; its final predictions and earliness on ``test``.

    TEASER (Schaefer & Leser, "TEASER: early and accurate time series classification", DMKD
    2020) fits one classifier (aeon's default: WEASEL, MUSE for multivariate series) on the
    prefixes of the series up to every *classification point*, and a one-class SVM per point on
    its probabilities; a prediction is accepted once ``v`` consecutive points agree and their
    SVMs call it safe (``v`` in 2..5 tuned on the training set for the harmonic mean of accuracy
    and earliness); at the full length it is always accepted.

    aeon's ``TEASER.predict(X)`` on full-length series runs all classification points at once and
    returns ``(labels, decided)`` with every case decided; the point at which each case was
    decided is recorded in ``get_state_info()`` (columns: point index, consecutive agreements,
    class index, series length at the decision). aeon's default classification points are
    ``round(T / i)`` for ``i = 1..20`` (not evenly spaced), those below 8 steps dropped and
    ``T`` added: ``[8, 10, 15, 30]`` for ``T = 30``.

    Parameters
    ----------
    train, test : TimeSeriesData
        Gap-free, every series of both splits of one length ``T`` (TEASER takes equal-length
        series; test series shorter than ``T`` could end undecided, so they are refused).
    random_state : int or None
    **kwargs
        More ``aeon.classification.early_classification.TEASER`` parameters
        (``classification_points``, ``estimator``, ``one_class_classifier``, ``n_jobs``, ...).

    Returns
    -------
    predictions : np.ndarray, shape (test.n_cases,)
        The final (accepted) labels, in the label space of ``train.y``.
    earliness : np.ndarray, float, shape (test.n_cases,)
        Length of the prefix at which each case was decided over ``T``, in ``(0, 1]``; its
        mean is TEASER's earliness (Schaefer & Leser 2020, Sec. 2).
    """
    X_train, X_test = _equal_length_arrays(train, test, "TEASER")
    classifier = TEASER(random_state=random_state, **kwargs)
    classifier.fit(X_train, train.y)
    predictions, decided = classifier.predict(X_test)
    if not np.all(decided):  # aeon forces a decision at the full length: never expected
        raise RuntimeError(f"TEASER left {int(np.sum(~decided))} test cases undecided")
    decision_lengths = np.asarray(classifier.get_state_info())[:, 3]
    return np.asarray(predictions), decision_lengths.astype(np.float64) / train.n_timepoints


def _teaser_predictions(
    train: TimeSeriesData, test: TimeSeriesData, random_state: int | None = 0, **kwargs: Any
) -> np.ndarray:
    """:func:`teaser`'s predictions only (the registry's uniform return type)."""
    return teaser(train, test, random_state=random_state, **kwargs)[0]


#: Registered baselines: name -> ``(train, test, **params) -> predicted labels (n_test,)``
#: (``teaser`` returns only the predictions here; call :func:`teaser` for the earliness).
BASELINES: dict[str, Callable[..., np.ndarray]] = {
    "1nn_dtw": one_nn_dtw,
    "hc2": hivecote2,
    "mr_hydra": multirocket_hydra,
    "teaser": _teaser_predictions,
}


def fit_predict_baseline(
    name: str, train: TimeSeriesData, test: TimeSeriesData, **params: Any
) -> np.ndarray:
    """Fit the baseline ``name`` on ``train`` and predict ``test``.

    Parameters
    ----------
    name : str
        A key of :data:`BASELINES`.
    train, test : TimeSeriesData
    **params
        The baseline's keyword parameters (e.g. ``time_limit_in_minutes`` for ``hc2``,
        ``window`` for ``1nn_dtw``, ``random_state`` for all but ``1nn_dtw``).

    Returns
    -------
    np.ndarray, shape (test.n_cases,)
        Predicted labels, in the label space of ``train.y``.

    Raises
    ------
    ValueError
        Unknown name (the message lists the registered ones), or parameters the baseline does
        not take or lacks (checked against its signature before fitting; ``teaser`` passes its
        extra parameters on to aeon's ``TEASER``, which checks them).
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; registered: {sorted(BASELINES)}")
    function = BASELINES[name]
    try:
        inspect.signature(function).bind(train, test, **params)
    except TypeError as error:
        raise ValueError(f"baseline {name!r}: wrong parameters {params}: {error}") from error
    return np.asarray(function(train, test, **params))


__all__ = [
    "BASELINES",
    "as_aeon_collection",
    "fit_predict_baseline",
    "hivecote2",
    "multirocket_hydra",
    "one_nn_dtw",
    "teaser",
]
