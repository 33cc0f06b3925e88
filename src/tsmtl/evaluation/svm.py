"""The SVM protocol of T-Loss, TS2Vec and T-Rep: an RBF SVC on (frozen) representations.

T-Rep App. "Classification" and "Sepsis" (and TS2Vec's ``fit_svm``): ``SVC(kernel="rbf")`` with
the penalty ``C`` chosen by cross-validation over ``{10^k | k in [-4, 4]}``. One function for
every downstream task of the representation pipelines (UEA classification, Sepsis windows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: App. "Classification": ``C in {10^k | k in [-4, 4]}``.
C_GRID: tuple[float, ...] = tuple(10.0**k for k in range(-4, 5))


@dataclass
class SVMFit:
    """A fitted :class:`sklearn.svm.SVC` and how its ``C`` was chosen.

    ``searched`` is False when the training set was too small for the cross-validated search
    and ``C`` is the fallback; ``cv_score`` is the best mean fold score of the search (NaN
    without one).
    """

    estimator: Any
    C: float
    searched: bool
    cv_score: float


def too_small_for_search(labels: np.ndarray, cv: int = 5) -> bool:
    """Whether :func:`fit_svm` skips the grid search for these training labels.

    TS2Vec's and T-Rep's ``fit_svm`` (``tasks/_eval_protocols.py`` of both repositories) skip
    it when ``N < 50`` or ``N // n_classes < 5`` (5 = their number of folds). Here also when
    the smallest class has fewer than ``cv`` members: a stratified ``cv``-fold split cannot put
    that class into every fold (sklearn warns and scores folds without it).
    """
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    n = int(counts.sum())
    return n < 50 or n // len(counts) < cv or int(counts.min()) < cv


def fit_svm(
    features: np.ndarray,
    labels: np.ndarray,
    c_grid: Sequence[float] = C_GRID,
    cv: int = 5,
    fallback_c: float = 1.0,
    max_samples: int | None = 10_000,
    n_jobs: int | None = 1,
    scoring: str = "accuracy",
    shuffle_seed: int | None = None,
) -> SVMFit:
    """RBF SVM on ``features`` ``(N, D)`` with ``C`` chosen by ``cv``-fold ``GridSearchCV``.

    The SVC is sklearn's ``SVC(kernel="rbf", gamma="scale")``; the search is
    :class:`sklearn.model_selection.GridSearchCV` over ``C in c_grid`` with ``cv`` folds (a
    :class:`~sklearn.model_selection.StratifiedKFold` without shuffling, as both authors'
    code), refitted on all of ``features`` with the best ``C``. When
    :func:`too_small_for_search` holds, a plain fit with ``C = fallback_c``: T-Rep's code uses
    sklearn's default 1.0 (TS2Vec's code ``inf``, a hard margin, and its grid adds ``inf``).
    Above ``max_samples`` series the search runs on a stratified subsample of that size
    (``random_state=0``), as both codes do (None: never). ``scoring`` is sklearn's name of the
    selection metric (``"accuracy"`` as the authors' classification; ``"f1"`` for the rare
    positive windows of Sepsis); ``shuffle_seed`` shuffles the stratified folds (None: in
    order, as the authors' code).

    Raises
    ------
    ValueError
        Features and labels of different lengths, fewer than two classes, or an empty grid.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
    from sklearn.svm import SVC

    features, labels = np.asarray(features), np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(f"fit_svm needs features (N, D) and N labels, got {features.shape} and {labels.shape}")
    if len(np.unique(labels)) < 2:
        raise ValueError("fit_svm needs at least two classes in the training labels")
    if not len(c_grid):
        raise ValueError("the C grid is empty")
    if too_small_for_search(labels, cv):
        svm = SVC(C=float(fallback_c), kernel="rbf", gamma="scale").fit(features, labels)
        return SVMFit(svm, float(fallback_c), False, float("nan"))
    if max_samples is not None and len(features) > max_samples:
        features, _, labels, _ = train_test_split(features, labels, train_size=int(max_samples), random_state=0, stratify=labels)
    folds = StratifiedKFold(int(cv), shuffle=shuffle_seed is not None, random_state=shuffle_seed)
    search = GridSearchCV(SVC(kernel="rbf", gamma="scale"), {"C": [float(c) for c in c_grid]}, scoring=scoring, cv=folds, n_jobs=n_jobs)
    search.fit(features, labels)
    return SVMFit(search.best_estimator_, float(search.best_params_["C"]), True, float(search.best_score_))




__all__ = ["C_GRID", "SVMFit", "fit_svm", "too_small_for_search"]
