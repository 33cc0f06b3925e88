"""Non-deep baselines, from aeon (numba; no TensorFlow needed).

``1NN-DTW`` is the ResNet2D paper's standard TSC baseline (Sec. IV-B, after
Dau et al. 2018): a one-nearest-neighbour classifier under the DTW distance,
each task on its own.
"""

from __future__ import annotations

import numpy as np
from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

from tsmtl.data.types import TimeSeriesData


def as_aeon_collection(data: TimeSeriesData) -> np.ndarray | list[np.ndarray]:
    """aeon's collection format: numpy3D when every case has the full length, else a list.

    The list holds one ``(n_channels, length_i)`` array per case, cut at its
    true length (aeon's "np-list" for unequal-length collections). Values must
    already be gap-free (see :mod:`tsmtl.data.feeding`).
    """
    if data.equal_length:
        X = data.X
        if not np.isfinite(X).all():
            raise ValueError(f"{data.name}: NaN inside the series; fill gaps before 1NN-DTW")
        return X
    cases = [data.X[i, :, :length] for i, length in enumerate(data.lengths)]
    if not all(np.isfinite(c).all() for c in cases):
        raise ValueError(f"{data.name}: NaN inside the series; fill gaps before 1NN-DTW")
    return cases


def one_nn_dtw(
    train: TimeSeriesData, test: TimeSeriesData, window: float | None = None, n_jobs: int = 1
) -> np.ndarray:
    """Fit 1NN-DTW on ``train`` and predict ``test``.

    Parameters
    ----------
    train, test : TimeSeriesData
        Gap-free splits of one task (unequal lengths allowed).
    window : float, optional
        Sakoe-Chiba band as a fraction of the series length (None: unconstrained,
        the paper's full-window DTW).
    n_jobs : int
        Threads for aeon's distance computations.

    Returns
    -------
    np.ndarray, shape (test.n_cases,)
        Predicted labels.
    """
    classifier = KNeighborsTimeSeriesClassifier(
        n_neighbors=1, distance="dtw", distance_params={"window": window}, n_jobs=n_jobs
    )
    classifier.fit(as_aeon_collection(train), train.y)
    return classifier.predict(as_aeon_collection(test))
