"""T-Rep Sec. 4.2 and App. "Forecasting": ridge forecasting from per-step representations on ETT.

The protocol is TS2Vec's ``eval_forecasting`` (Yue et al. 2022, Sec. 4.2), which T-Rep follows
(App. A.3 "Forecasting"), written here from the papers' descriptions:

1. **Data** (:func:`prepare_series`): an ETT file, Informer's 12/4/4-month train/validation/
   test rows (:func:`tsmtl.data.ett.split_ett`), every channel standardised with the training
   rows' mean and standard deviation, no time covariates (T-Rep removes them: "We use no
   covariates such as minute, hour, day-of-the-week"). ``multivariate``: the 7 channels, ``C = 7``;
   ``univariate``: the target ``OT`` alone, ``C = 1``. Rows after the 20 months are unused.
2. **Encoder**: T-Rep or TS2Vec fitted on the training rows only, ``(1, n_train, C)``.
3. **Representations** (:func:`encode_series`): every step ``t`` of the series up to the test
   end, causally -- ``encode(x, causal=True, sliding_length=1, sliding_padding=200)``, i.e. the
   representation of the window ``x[t - 200 : t + 1]`` at its last step: ``z`` ``(T, F)``.
   T-Rep's code also concatenates the time-embedding ``tau(t)`` of each step (``F + K``
   features) and feeds the time-embedding, for the validation and test rows, the time indices
   of the training segment closest to them (:func:`closest_train_segment`); both are options.
4. **Ridge** (:func:`fit_ridge_on_validation`): features ``z_t`` -> the next ``H`` values
   ``x_{t+1..t+H}`` flattened ``(H * C,)``, for every ``t`` of a split whose ``H`` next values lie
   in that split (:func:`forecasting_pairs`; the first ``200`` training steps are dropped, their
   window being incomplete). ``alpha`` from the grid of App. A.3 chosen on the validation split
   by RMSE + MAE (TS2Vec's ``fit_ridge``); the model used is the one fitted on the training split
   with that ``alpha`` (TS2Vec refits on the training split only, not on train + validation).
5. **Scores**: MSE and MAE on the test split in the standardised space, averaged over every
   instance, horizon step and channel.

The linear baseline (T-Rep's "linear model trained on raw data", the DLinear-style model users
compare against) is the same ridge from the last ``L`` raw values ``x_{t-L+1..t}`` flattened
``(L * C,)`` (:func:`lagged_windows`), on the same test instances.

Encoding every step is the costly part: each step is one window of ``sliding_padding + 1``
steps. The encoder's convolutions see ``±R`` steps (``R`` = its ``half_receptive_field``: 62 at
depth 4, 126 at depth 5, 4094 at the paper's depth 10), so a padding of ``R`` gives exactly the
representations of any longer padding (a test checks it): ``sliding_padding: receptive_field``
uses ``min(200, R)``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from scipy.signal import correlate
from sklearn.linear_model import Ridge

from tsmtl.data.ett import ETT_COLUMNS, split_ett
from tsmtl.evaluation.metrics import mae, mse
from tsmtl.training.trep import TRep, fit_representation

log = logging.getLogger(__name__)

#: Horizons of T-Rep's Table "ETT Forecasting Full Results" (App.) and TS2Vec's Table 2.
ETT_HORIZONS: dict[str, tuple[int, ...]] = {"ETTh": (24, 48, 168, 336, 720), "ETTm": (24, 48, 96, 288, 672)}
#: The ridge alpha grid of T-Rep App. A.3 ("Forecasting"). TS2Vec's ``fit_ridge`` also tries 200.
RIDGE_ALPHAS: tuple[float, ...] = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 500, 1000)
SETTINGS: tuple[str, ...] = ("multivariate", "univariate")
#: The univariate target (Informer, TS2Vec, T-Rep).
TARGET = "OT"
#: TS2Vec's and T-Rep's sliding padding for forecasting (``eval_forecasting``: ``padding = 200``).
DEFAULT_PADDING = 200

#: T-Rep App., Table "ETT Forecasting Full Results" (``forecast-multivar``): multivariate, no
#: covariates, mean of 10 runs; (MSE, MAE) per dataset, horizon and model, standardised space.
PAPER_MULTIVARIATE: dict[str, dict[int, dict[str, tuple[float, float]]]] = {
    "ETTh1": {
        24: {"T-Rep": (0.511, 0.496), "TS2Vec": (0.575, 0.529), "Informer": (0.577, 0.549), "TCN": (0.767, 0.612), "Linear": (0.873, 0.664)},
        48: {"T-Rep": (0.546, 0.524), "TS2Vec": (0.608, 0.553), "Informer": (0.685, 0.625), "TCN": (0.713, 0.617), "Linear": (0.912, 0.689)},
        168: {"T-Rep": (0.759, 0.649), "TS2Vec": (0.782, 0.659), "Informer": (0.931, 0.752), "TCN": (0.995, 0.738), "Linear": (0.993, 0.749)},
        336: {"T-Rep": (0.936, 0.742), "TS2Vec": (0.956, 0.753), "Informer": (1.128, 0.873), "TCN": (1.175, 0.800), "Linear": (1.085, 0.804)},
        720: {"T-Rep": (1.061, 0.813), "TS2Vec": (1.092, 0.831), "Informer": (1.215, 0.896), "TCN": (1.453, 1.311), "Linear": (1.172, 0.863)},
    },
    "ETTh2": {
        24: {"T-Rep": (0.560, 0.565), "TS2Vec": (0.448, 0.506), "Informer": (0.720, 0.665), "TCN": (1.365, 0.888), "Linear": (0.463, 0.498)},
        48: {"T-Rep": (0.847, 0.711), "TS2Vec": (0.685, 0.642), "Informer": (1.457, 1.001), "TCN": (1.395, 0.960), "Linear": (0.614, 0.588)},
        168: {"T-Rep": (2.327, 1.206), "TS2Vec": (2.227, 1.164), "Informer": (3.489, 1.515), "TCN": (3.166, 1.407), "Linear": (1.738, 1.016)},
        336: {"T-Rep": (2.665, 1.324), "TS2Vec": (2.803, 1.360), "Informer": (2.723, 1.340), "TCN": (3.256, 1.481), "Linear": (2.198, 1.173)},
        720: {"T-Rep": (2.690, 1.365), "TS2Vec": (2.849, 1.436), "Informer": (3.467, 1.473), "TCN": (3.690, 1.588), "Linear": (2.454, 1.290)},
    },
    "ETTm1": {
        24: {"T-Rep": (0.417, 0.420), "TS2Vec": (0.438, 0.435), "Informer": (0.323, 0.369), "TCN": (0.324, 0.374), "Linear": (0.590, 0.505)},
        48: {"T-Rep": (0.526, 0.484), "TS2Vec": (0.582, 0.553), "Informer": (0.494, 0.505), "TCN": (0.477, 0.450), "Linear": (0.813, 0.637)},
        96: {"T-Rep": (0.573, 0.516), "TS2Vec": (0.602, 0.537), "Informer": (0.678, 0.614), "TCN": (0.636, 0.602), "Linear": (0.866, 0.654)},
        288: {"T-Rep": (0.648, 0.577), "TS2Vec": (0.709, 0.610), "Informer": (1.056, 0.786), "TCN": (1.270, 1.351), "Linear": (0.929, 0.697)},
        672: {"T-Rep": (0.758, 0.649), "TS2Vec": (0.826, 0.687), "Informer": (1.192, 0.926), "TCN": (1.381, 1.467), "Linear": (1.008, 0.746)},
    },
    "ETTm2": {
        24: {"T-Rep": (0.172, 0.293), "TS2Vec": (0.189, 0.310), "Informer": (0.147, 0.277), "TCN": (1.452, 1.938), "Linear": (0.275, 0.364)},
        48: {"T-Rep": (0.263, 0.377), "TS2Vec": (0.256, 0.369), "Informer": (0.267, 0.389), "TCN": (2.181, 0.839), "Linear": (0.363, 0.434)},
        96: {"T-Rep": (0.397, 0.470), "TS2Vec": (0.402, 0.471), "Informer": (0.317, 0.411), "TCN": (3.921, 1.714), "Linear": (0.441, 0.484)},
        288: {"T-Rep": (0.897, 0.733), "TS2Vec": (0.879, 0.724), "Informer": (1.147, 0.834), "TCN": (3.649, 3.245), "Linear": (0.754, 0.664)},
        672: {"T-Rep": (2.185, 1.144), "TS2Vec": (2.193, 1.159), "Informer": (3.989, 1.598), "TCN": (6.973, 1.719), "Linear": (1.796, 1.027)},
    },
}
#: The "Avg." row of the same table and of Table ``forecast_short`` (Sec. 4.2): (MSE, MAE) over
#: the 20 dataset x horizon cells. Recomputing it from the cells gives 0.987 for T-Rep's MSE.
PAPER_AVERAGE: dict[str, tuple[float, float]] = {
    "T-Rep": (0.986, 0.702), "TS2Vec": (1.004, 0.712), "Informer": (1.300, 0.820), "TCN": (2.012, 1.205), "Linear": (1.017, 0.727),
}
#: TS2Vec's own paper (Yue et al. 2022, Table 2, univariate ETTh1 *with* time covariates, one
#: run), MSE only, as quoted in issue #9. That paper is not in ../shared/papers, so these five
#: numbers were not checked against it here. T-Rep did not use them ("slight changes we made to
#: the experimental setup, specifically removing the use of covariates", App. "Reproduction").
TS2VEC_PAPER_UNIVARIATE_MSE: dict[str, dict[int, float]] = {"ETTh1": {24: 0.039, 48: 0.062, 168: 0.142, 336: 0.160, 720: 0.179}}

RESULT_COLUMNS = [
    "dataset", "setting", "method", "encoder", "seed", "horizon", "mse", "mae", "alpha", "n_features",
    "n_train", "n_validation", "n_test", "fit_seconds", "encode_seconds", "ridge_seconds",
]


# ---------------------------------------------------------------------------------------- data
@dataclass
class ForecastingSeries:
    """One ETT file in one setting, standardised with the training rows' statistics.

    Attributes
    ----------
    dataset, setting : str
        ``"ETTh1"`` ...; ``"multivariate"`` or ``"univariate"``.
    values : np.ndarray
        ``(T, C)`` float64: the rows ``[0, test end)`` of the file (train, validation, test
        consecutive), standardised per channel.
    columns : tuple of str
        The ``C`` channel names (``ETT_COLUMNS`` or ``("OT",)``).
    train, validation, test : tuple of int
        Row ranges ``[start, end)`` in ``values``.
    mean, scale : np.ndarray
        ``(C,)``: the training statistics (``raw = values * scale + mean``).
    """

    dataset: str
    setting: str
    values: np.ndarray
    columns: tuple[str, ...]
    train: tuple[int, int]
    validation: tuple[int, int]
    test: tuple[int, int]
    mean: np.ndarray
    scale: np.ndarray

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1])

    def split(self, name: str) -> tuple[int, int]:
        if name not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation' or 'test', got {name!r}")
        return getattr(self, name)


def default_horizons(dataset: str) -> tuple[int, ...]:
    """The paper's horizons of ``dataset``: ETTh* 24/48/168/336/720, ETTm* 24/48/96/288/672."""
    for prefix, horizons in ETT_HORIZONS.items():
        if dataset.startswith(prefix):
            return horizons
    raise ValueError(f"no default horizons for {dataset!r}: name an ETTh* or ETTm* file or list the horizons")


def prepare_series(frame: pd.DataFrame, dataset: str, setting: str) -> ForecastingSeries:
    """``frame`` (an ETT file, :func:`tsmtl.data.ett.read_ett_csv`) -> :class:`ForecastingSeries`.

    Uses :func:`tsmtl.data.ett.split_ett` (Informer's borders, a scaler fitted on the training
    rows). ``StandardScaler`` treats channels independently, so the univariate ``OT`` equals the
    7-channel scaling's ``OT`` column (TS2Vec scales ``OT`` alone: the same numbers).
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    splits = split_ett(frame, dataset)
    values = np.concatenate([splits.scaled("train"), splits.scaled("val"), splits.scaled("test")])
    mean, scale = splits.scaler.mean_.copy(), splits.scaler.scale_.copy()
    columns: tuple[str, ...] = ETT_COLUMNS
    if setting == "univariate":
        keep = ETT_COLUMNS.index(TARGET)
        values, mean, scale, columns = values[:, [keep]], mean[[keep]], scale[[keep]], (TARGET,)
    borders = splits.borders
    return ForecastingSeries(dataset, setting, np.ascontiguousarray(values), columns, borders.train, borders.val, borders.test, mean, scale)


# ---------------------------------------------------------------------------- features, targets
def forecasting_targets(values: np.ndarray, span: tuple[int, int], horizon: int, drop: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Forecast origins and targets of one split (TS2Vec's ``generate_pred_samples``).

    Parameters
    ----------
    values : np.ndarray
        ``(T, C)``.
    span : (start, end)
        The split's rows.
    horizon : int
        ``H``.
    drop : int
        Origins skipped at the split start (TS2Vec drops the padding's 200 training steps).

    Returns
    -------
    origins : np.ndarray
        ``(n,)`` int: every ``t`` in ``[start + drop, end - H)`` (``t + H`` stays in the split).
    targets : np.ndarray
        ``(n, H * C)``: ``values[t + 1 : t + 1 + H]`` flattened time-major (step 1's channels,
        then step 2's, ...).
    """
    start, end = int(span[0]), int(span[1])
    horizon = int(horizon)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    origins = np.arange(start + int(drop), end - horizon)
    if origins.size == 0:
        raise ValueError(f"a split of rows [{start}, {end}) has no forecast origin for horizon {horizon} after dropping {drop} steps")
    windows = np.lib.stride_tricks.sliding_window_view(values[start + int(drop) + 1 : end], horizon, axis=0)  # (n, C, H)
    targets = np.ascontiguousarray(windows.transpose(0, 2, 1)).reshape(len(origins), -1)
    return origins, targets


def lagged_windows(values: np.ndarray, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Raw inputs of the linear baseline: ``values[t - L + 1 : t + 1]`` flattened, ``(n, L * C)``.

    Raises ``ValueError`` when an origin has fewer than ``L`` values up to it.
    """
    lookback = int(lookback)
    origins = np.asarray(origins, dtype=np.int64)
    if lookback < 1:
        raise ValueError(f"lookback must be >= 1, got {lookback}")
    if origins.size and origins.min() < lookback - 1:
        raise ValueError(f"origin {origins.min()} has fewer than lookback={lookback} values before it")
    windows = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)  # (T - L + 1, C, L)
    return np.ascontiguousarray(windows[origins - lookback + 1].transpose(0, 2, 1)).reshape(len(origins), -1)


# ----------------------------------------------------------------------------------------- ridge
@dataclass
class RidgeFit:
    """The ridge of the chosen ``alpha`` (fitted on the training split) and every alpha's validation score."""

    model: Ridge
    alpha: float
    validation_scores: dict[float, float]


def validation_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """TS2Vec's ``fit_ridge`` criterion: ``sqrt(MSE) + MAE`` (lower is better)."""
    return math.sqrt(mse(y_true, y_pred)) + mae(y_true, y_pred)


def fit_ridge_on_validation(
    train_features: np.ndarray,
    train_targets: np.ndarray,
    validation_features: np.ndarray,
    validation_targets: np.ndarray,
    alphas: Sequence[float] = RIDGE_ALPHAS,
) -> RidgeFit:
    """Ridge regression with ``alpha`` chosen on a validation split (T-Rep App. A.3; TS2Vec ``fit_ridge``).

    Every ``alpha`` is fitted (scikit-learn ``Ridge``, intercept included) on the training pairs
    ``(n_train, F) -> (n_train, H * C)`` and scored by :func:`validation_score` on the validation
    pairs; the lowest score wins (ties: the first alpha). The returned model is the one fitted on
    the training split with that alpha -- what TS2Vec's refit ``Ridge(alpha=best).fit(train)``
    produces, without fitting it twice.
    """
    if not len(alphas):
        raise ValueError("alphas is empty")
    if len(train_features) != len(train_targets) or len(validation_features) != len(validation_targets):
        raise ValueError("features and targets differ in length")
    best: tuple[float, float, Ridge] | None = None
    scores: dict[float, float] = {}
    for alpha in alphas:
        model = Ridge(alpha=float(alpha)).fit(train_features, train_targets)
        score = validation_score(validation_targets, model.predict(validation_features))
        scores[float(alpha)] = score
        if best is None or score < best[0]:
            best = (score, float(alpha), model)
    assert best is not None
    return RidgeFit(best[2], best[1], scores)


# ------------------------------------------------------------------------------- time indices
def closest_train_segment(train: np.ndarray, block: np.ndarray) -> int:
    """Start ``s`` of the training segment nearest to ``block`` (T-Rep's forecasting time indices).

    ``train`` ``(T, C)``, ``block`` ``(t, C)`` with ``t <= T``: the ``s`` in ``[0, T - t]``
    minimising ``sum_k ||train[s + k] - block[k]||^2`` (squared Euclidean distance over the
    block). Computed for every ``s`` at once: ``sum train^2`` by cumulative sums, the cross term
    by FFT correlation.
    """
    train = np.asarray(train, dtype=np.float64)
    block = np.asarray(block, dtype=np.float64)
    if train.ndim == 1:
        train = train[:, None]
    if block.ndim == 1:
        block = block[:, None]
    if train.shape[1] != block.shape[1]:
        raise ValueError(f"train has {train.shape[1]} channels, block {block.shape[1]}")
    t = len(block)
    if t > len(train):
        raise ValueError(f"a block of {t} steps is longer than the training series ({len(train)})")
    squares = np.concatenate([[0.0], np.cumsum((train**2).sum(axis=1))])
    window_squares = squares[t:] - squares[:-t]  # (T - t + 1,)
    cross = sum(correlate(train[:, c], block[:, c], mode="valid") for c in range(train.shape[1]))
    distance = window_squares - 2.0 * cross + float((block**2).sum())
    return int(np.argmin(distance))


def series_time_indices(series: ForecastingSeries, mode: str) -> np.ndarray:
    """Time index of every step ``(T,)`` fed to the time-embedding.

    ``"positions"``: ``0 .. T-1``, the step's position in the series. ``"closest_train_segment"``
    (T-Rep's code): training steps keep their position; the validation and the test rows take
    the positions of the training segment closest to them (:func:`closest_train_segment`), so
    the time-embedding is evaluated where it was trained.
    """
    n = len(series.values)
    if mode == "positions":
        return np.arange(n, dtype=np.float64)
    if mode != "closest_train_segment":
        raise ValueError(f"time_indices must be 'positions' or 'closest_train_segment', got {mode!r}")
    indices = np.arange(n, dtype=np.float64)
    train = series.values[slice(*series.train)]
    for span in (series.validation, series.test):
        block = series.values[slice(*span)]
        start = closest_train_segment(train, block)
        indices[span[0] : span[1]] = series.train[0] + start + np.arange(len(block))
    return indices


# ------------------------------------------------------------------------------ representations
def resolve_padding(model: TRep, padding: int | str) -> int:
    """``sliding_padding`` as a number: an int as given, ``"receptive_field"`` = ``min(200, R)``.

    ``R`` is the encoder's ``half_receptive_field``; any padding ``>= R`` gives the same
    representations, so ``min(200, R)`` equals TS2Vec's 200 at a fraction of the cost.
    """
    if isinstance(padding, str):
        if padding != "receptive_field":
            raise ValueError(f"sliding_padding must be an int or 'receptive_field', got {padding!r}")
        return model.context_padding(DEFAULT_PADDING)
    if int(padding) < 0:
        raise ValueError(f"sliding_padding must be >= 0, got {padding}")
    return int(padding)


def encode_series(
    model: TRep,
    values: np.ndarray,
    padding: int = DEFAULT_PADDING,
    time_indices: np.ndarray | None = None,
    append_time_embedding: bool = False,
    batch_size: int = 1024,
    chunk_steps: int = 2048,
) -> np.ndarray:
    """Causal per-step representations of one series (TS2Vec ``eval_forecasting``'s encode).

    ``values`` ``(T, C)`` -> ``(T, F)``, or ``(T, F + K)`` with ``append_time_embedding``
    (T-Rep's code: ``[z_t, tau(time_t)]``, ``tau`` the fitted time-embedding module). Step ``t``
    is encoded from the window ``values[max(0, t - padding) : t + 1]`` by
    ``TRep.encode(causal=True, sliding_length=1, sliding_padding=padding)``.

    The series goes to ``encode`` in pieces of ``chunk_steps`` steps, each with the ``padding``
    steps before it: a step's window lies inside its piece, so the result is the one of a single
    call, but ``encode``'s sliding inference copies the whole series it is given once per window
    (``x_all[rows]``), which for ETTm's 57,600 steps costs far more than the encoder itself.
    """
    values = np.asarray(values)
    n = len(values)
    padding, chunk_steps = int(padding), int(chunk_steps)
    if chunk_steps < 1:
        raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
    times = np.arange(n, dtype=np.float64) if time_indices is None else np.asarray(time_indices, dtype=np.float64)
    if times.shape != (n,):
        raise ValueError(f"time_indices must have shape ({n},), got {times.shape}")
    pieces = []
    for start in range(0, n, chunk_steps):
        stop, first = min(n, start + chunk_steps), max(0, start - padding)
        z = model.encode(values[None, first:stop], causal=True, sliding_length=1, sliding_padding=padding, time_indices=times[first:stop], batch_size=int(batch_size))[0]
        pieces.append(z[start - first :])
    z = np.concatenate(pieces)
    if not append_time_embedding:
        return z
    embedding = model.encoder.time_embedding
    if embedding is None:
        raise ValueError("append_time_embedding needs an encoder with a time-embedding (TS2Vec has none)")
    device = next(embedding.parameters()).device
    with torch.no_grad():
        tau = embedding(torch.from_numpy(times.astype(np.float32)).to(device)).cpu().numpy()
    return np.concatenate([z, tau.astype(z.dtype)], axis=1)


# --------------------------------------------------------------------------- one method, one fit
def evaluate_features(
    features: np.ndarray | None,
    series: ForecastingSeries,
    horizons: Iterable[int],
    alphas: Sequence[float] = RIDGE_ALPHAS,
    train_drop: int = DEFAULT_PADDING,
    lookback: int | None = None,
) -> list[dict[str, Any]]:
    """Ridge forecasts of every horizon and their test scores (steps 4-5 of the module docstring).

    ``features`` ``(T, F)`` per-step representations; ``None`` with ``lookback`` = ``L`` for the
    linear baseline on raw windows (:func:`lagged_windows`; training origins start at
    ``max(train_drop, L - 1)``). Returns one record per horizon: ``mse``, ``mae`` (test,
    standardised), ``alpha``, ``n_features``, ``n_train``, ``n_validation``, ``n_test``,
    ``ridge_seconds``.
    """
    if (features is None) == (lookback is None):
        raise ValueError("give either features or a lookback (the raw-window linear baseline)")
    values = series.values
    if features is not None and len(features) != len(values):
        raise ValueError(f"{len(features)} feature rows for a series of {len(values)} steps")
    drop = int(train_drop) if lookback is None else max(int(train_drop), int(lookback) - 1 - series.train[0])
    records = []
    for horizon in horizons:
        started = time.perf_counter()
        pairs = {
            name: forecasting_targets(values, series.split(name), horizon, drop if name == "train" else 0)
            for name in ("train", "validation", "test")
        }
        inputs = {
            name: (features[origins] if features is not None else lagged_windows(values, origins, int(lookback)))
            for name, (origins, _) in pairs.items()
        }
        fit = fit_ridge_on_validation(inputs["train"], pairs["train"][1], inputs["validation"], pairs["validation"][1], alphas)
        prediction = fit.model.predict(inputs["test"])
        target = pairs["test"][1]
        records.append({
            "horizon": int(horizon), "mse": mse(target, prediction), "mae": mae(target, prediction), "alpha": fit.alpha,
            "n_features": int(inputs["train"].shape[1]), "n_train": len(pairs["train"][0]), "n_validation": len(pairs["validation"][0]),
            "n_test": len(pairs["test"][0]), "ridge_seconds": time.perf_counter() - started,
        })  # fmt: skip
    return records


def fit_encoder(series: ForecastingSeries, method: str, params: Mapping[str, Any] | None, seed: int, device: str = "auto", checkpoint_dir: str | None = None) -> TRep:
    """T-Rep (``method="trep"``) or TS2Vec (``"ts2vec"``) fitted on the training rows ``(1, n_train, C)``.

    ``params``: :class:`tsmtl.training.trep.TRepConfig` fields (TS2Vec: overrides of its
    ``ts2vec()`` defaults), through :func:`tsmtl.training.trep.fit_representation`.
    ``checkpoint_dir``: per-epoch checkpoints, a finished fit is resumed instead of redone.
    """
    train = series.values[slice(*series.train)][None].astype(np.float32)
    return fit_representation(train, method, params, seed=int(seed), device=device, checkpoint_dir=checkpoint_dir, resume=checkpoint_dir is not None)


# ----------------------------------------------------------------------------------- the grid
@dataclass(frozen=True)
class MethodSpec:
    """One column of the table: an encoder's representations (plus options) or raw windows."""

    name: str
    encoder: str | None = None
    time_indices: str = "positions"
    append_time_embedding: bool = False
    lookback: Mapping[str, int] | int | None = None
    paper: str | None = None

    def lookback_for(self, dataset: str) -> int:
        if isinstance(self.lookback, Mapping):
            for prefix, value in self.lookback.items():
                if dataset.startswith(prefix):
                    return int(value)
            raise ValueError(f"method {self.name}: no lookback for {dataset} in {dict(self.lookback)}")
        return int(self.lookback)


def method_specs(methods: Mapping[str, Mapping[str, Any]], encoders: Mapping[str, Any]) -> list[MethodSpec]:
    """The YAML ``methods`` mapping -> :class:`MethodSpec` list, checked against ``encoders``."""
    specs = []
    known = {"encoder", "time_indices", "append_time_embedding", "lookback", "paper"}
    for name, spec in (methods or {}).items():
        spec = dict(spec or {})
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"method {name}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        if (spec.get("encoder") is None) == (spec.get("lookback") is None):
            raise ValueError(f"method {name}: give either an encoder (one of {sorted(encoders)}) or a lookback (raw-window ridge)")
        if spec.get("encoder") is not None and spec["encoder"] not in encoders:
            raise ValueError(f"method {name}: encoder {spec['encoder']!r} is not among the encoders {sorted(encoders)}")
        specs.append(MethodSpec(name=str(name), **spec))
    if not specs:
        raise ValueError("no methods to evaluate")
    return specs


def evaluate_series(series: ForecastingSeries, options: Mapping[str, Any], device: str = "auto") -> tuple[pd.DataFrame, dict[str, TRep]]:
    """Every method of ``options`` on one series, every seed; the fitted encoders kept.

    ``options`` keys: ``encoders`` ``{key: {method: trep|ts2vec, params: {...}}}``, ``methods``
    (see :func:`method_specs`), ``seeds``, ``horizons`` (``{ETTh: [...], ETTm: [...]}``, default
    the paper's), ``alphas``, ``sliding_padding`` (int or ``receptive_field``), ``train_drop``
    (default 200), ``encode_batch_size``, ``encode_chunk_steps``, ``keep_encoders`` (``first_seed`` | ``all`` | ``none``),
    ``checkpoint_dir``. Raw-window methods run once (seed ``-1``): they are deterministic.
    """
    encoders_conf = dict(options.get("encoders") or {})
    specs = method_specs(options.get("methods") or {}, encoders_conf)
    seeds = [int(s) for s in options.get("seeds", [0])]
    horizons = _horizons(series.dataset, options.get("horizons"))
    alphas = [float(a) for a in options.get("alphas", RIDGE_ALPHAS)]
    train_drop = int(options.get("train_drop", DEFAULT_PADDING))
    keep = options.get("keep_encoders", "first_seed")
    rows: list[dict[str, Any]] = []
    kept: dict[str, TRep] = {}
    base = {"dataset": series.dataset, "setting": series.setting}
    for spec in [s for s in specs if s.encoder is None]:
        for record in evaluate_features(None, series, horizons, alphas, train_drop, spec.lookback_for(series.dataset)):
            rows.append({**base, "method": spec.name, "encoder": "", "seed": -1, **record, "fit_seconds": 0.0, "encode_seconds": 0.0})
    for key in dict.fromkeys(s.encoder for s in specs if s.encoder is not None):
        conf = dict(encoders_conf[key] or {})
        for seed in seeds:
            checkpoint = options.get("checkpoint_dir")
            checkpoint = None if checkpoint is None else f"{checkpoint}/{series.dataset}_{series.setting}_{key}_seed{seed}"
            started = time.perf_counter()
            model = fit_encoder(series, conf.get("method", key), conf.get("params"), seed, device, checkpoint)
            fit_seconds = time.perf_counter() - started
            log.info("%s %s: %s seed %d fitted in %.0f s (%d iterations)", series.dataset, series.setting, key, seed, fit_seconds, model.n_iterations_)
            padding = resolve_padding(model, options.get("sliding_padding", DEFAULT_PADDING))
            for spec in [s for s in specs if s.encoder == key]:
                started = time.perf_counter()
                times = series_time_indices(series, spec.time_indices)
                features = encode_series(model, series.values, padding, times, spec.append_time_embedding, int(options.get("encode_batch_size", 1024)), int(options.get("encode_chunk_steps", 2048)))
                encode_seconds = time.perf_counter() - started
                for record in evaluate_features(features, series, horizons, alphas, train_drop):
                    rows.append({**base, "method": spec.name, "encoder": key, "seed": seed, **record, "fit_seconds": fit_seconds, "encode_seconds": encode_seconds})
                log.info("%s %s: %s seed %d encoded (padding %d) in %.0f s", series.dataset, series.setting, spec.name, seed, padding, encode_seconds)
            if keep == "all" or (keep == "first_seed" and seed == seeds[0]):
                kept[f"{series.dataset}/{series.setting}/{key}/seed{seed}"] = model
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), kept


def _horizons(dataset: str, horizons: Mapping[str, Sequence[int]] | Sequence[int] | None) -> tuple[int, ...]:
    if horizons is None:
        return default_horizons(dataset)
    if isinstance(horizons, Mapping):
        for prefix, values in horizons.items():
            if dataset.startswith(prefix):
                return tuple(int(h) for h in values)
        return default_horizons(dataset)
    return tuple(int(h) for h in horizons)


# -------------------------------------------------------------------------------------- report
def paper_scores(dataset: str, setting: str, horizon: int, method: str) -> tuple[float, float, str]:
    """The published (MSE, MAE, source) of a cell, NaN and ``""`` where none was published."""
    if setting == "multivariate":
        cell = PAPER_MULTIVARIATE.get(dataset, {}).get(int(horizon), {}).get(method)
        if cell is not None:
            return cell[0], cell[1], "T-Rep App., ETT full results"
    if setting == "univariate" and method == "TS2Vec":
        value = TS2VEC_PAPER_UNIVARIATE_MSE.get(dataset, {}).get(int(horizon))
        if value is not None:
            return value, math.nan, "TS2Vec paper, Table 2 (with covariates)"
    return math.nan, math.nan, ""


def summarise(results: pd.DataFrame, paper_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean ± std over seeds per (dataset, setting, method, horizon), beside the paper.

    Adds per (setting, method) an ``average`` row (``horizon`` 0, ``dataset`` "average"): the mean
    over the cells run, with the paper's mean over the *same* cells (``paper_mse``) -- equal to the
    published 0.986 / 1.004 / 1.017 only when all 20 cells ran.
    """
    paper_names = dict(paper_names or {})
    keys = ["dataset", "setting", "method", "horizon"]
    grouped = results.groupby(keys, sort=False)
    summary = grouped.agg(
        mse_mean=("mse", "mean"), mse_std=("mse", "std"), mae_mean=("mae", "mean"), mae_std=("mae", "std"),
        n_seeds=("seed", "nunique"), alpha_median=("alpha", "median"), fit_seconds=("fit_seconds", "mean"), encode_seconds=("encode_seconds", "mean"),
    ).reset_index()  # fmt: skip
    published = [paper_scores(r.dataset, r.setting, r.horizon, paper_names.get(r.method, r.method)) for r in summary.itertuples()]
    summary["paper_mse"] = [p[0] for p in published]
    summary["paper_mae"] = [p[1] for p in published]
    summary["paper_source"] = [p[2] for p in published]
    averages = []
    for (setting, method), part in summary.groupby(["setting", "method"], sort=False):
        per_seed = results[(results["setting"] == setting) & (results["method"] == method)].groupby("seed")[["mse", "mae"]].mean()
        has_paper = part["paper_mse"].notna().all()
        averages.append({
            "dataset": "average", "setting": setting, "method": method, "horizon": 0,
            "mse_mean": per_seed["mse"].mean(), "mse_std": per_seed["mse"].std(), "mae_mean": per_seed["mae"].mean(), "mae_std": per_seed["mae"].std(),
            "n_seeds": len(per_seed), "alpha_median": math.nan, "fit_seconds": part["fit_seconds"].sum(), "encode_seconds": part["encode_seconds"].sum(),
            "paper_mse": part["paper_mse"].mean() if has_paper else math.nan,
            "paper_mae": part["paper_mae"].mean() if has_paper and part["paper_mae"].notna().all() else math.nan,
            "paper_source": f"mean of the paper's {len(part)} matching cells" if has_paper else "",
        })  # fmt: skip
    return pd.concat([summary, pd.DataFrame(averages)], ignore_index=True)


def _cell(mean: float, std: float, paper: float) -> str:
    if pd.isna(mean):
        return "—"
    text = f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f} ± {std:.3f}"
    return text + ("" if pd.isna(paper) else f" [{paper:.3f}]")


def summary_markdown(summary: pd.DataFrame, methods: Sequence[str] | None = None) -> str:
    """One Markdown table per setting: rows dataset x horizon, columns MSE and MAE per method
    (in the order of ``methods``, default the summary's)."""
    blocks = []
    for setting in [s for s in SETTINGS if s in set(summary["setting"])]:
        part = summary[summary["setting"] == setting]
        present = list(dict.fromkeys(part["method"]))
        methods_here = [m for m in (methods or present) if m in present] + [m for m in present if m not in (methods or present)]
        head = ["Dataset", "H", *[f"{m} {metric}" for m in methods_here for metric in ("MSE", "MAE")]]
        lines = [f"**{setting.capitalize()}** (test, standardised; mean ± std over seeds [published])", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        index = {(r.dataset, r.horizon, r.method): r for r in part.itertuples()}
        cells = list(dict.fromkeys((r.dataset, r.horizon) for r in part.itertuples() if r.dataset != "average"))
        for dataset, horizon in [*cells, ("average", 0)]:
            row = [dataset if dataset != "average" else "**Avg.**", str(horizon) if horizon else ""]
            for method in methods_here:
                r = index.get((dataset, horizon, method))
                row += ["—", "—"] if r is None else [_cell(r.mse_mean, r.mse_std, r.paper_mse), _cell(r.mae_mean, r.mae_std, r.paper_mae)]
            lines.append("| " + " | ".join(row) + " |")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def mse_by_horizon_figure(summary: pd.DataFrame) -> Figure:
    """MSE against horizon: one panel per (dataset, setting), a line with ± std bars per method,
    the published multivariate MSE as hollow markers of the same colour."""
    cells = summary[summary["dataset"] != "average"]
    panels = list(dict.fromkeys(zip(cells["dataset"], cells["setting"], strict=True)))
    columns = min(4, max(1, len(panels)))
    rows = math.ceil(len(panels) / columns) if panels else 1
    fig = Figure(figsize=(3.6 * columns, 2.9 * rows))
    colours = {m: f"C{i}" for i, m in enumerate(dict.fromkeys(cells["method"]))}
    for k, (dataset, setting) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, k + 1)
        part = cells[(cells["dataset"] == dataset) & (cells["setting"] == setting)]
        for method, line in part.groupby("method", sort=False):
            line = line.sort_values("horizon")
            ax.errorbar(line["horizon"], line["mse_mean"], yerr=line["mse_std"].fillna(0.0), marker="o", ms=3, lw=1.2, capsize=2, color=colours[method], label=method)
            if line["paper_mse"].notna().any():
                ax.plot(line["horizon"], line["paper_mse"], ls=":", marker="o", mfc="none", color=colours[method], lw=0.8)
        ax.set_xscale("log")
        horizons = sorted(part["horizon"].unique())
        ax.minorticks_off()  # the log axis' minor labels would cover the horizons'
        ax.set_xticks(horizons, [str(h) for h in horizons])
        ax.set_title(f"{dataset}, {setting}", fontsize=9)
        ax.set_xlabel("horizon H", fontsize=8)
        ax.set_ylabel("test MSE", fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle("T-Rep Sec. 4.2: test MSE vs horizon (dotted, hollow: published)", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "DEFAULT_PADDING",
    "ETT_HORIZONS",
    "ForecastingSeries",
    "MethodSpec",
    "PAPER_AVERAGE",
    "PAPER_MULTIVARIATE",
    "RESULT_COLUMNS",
    "RIDGE_ALPHAS",
    "RidgeFit",
    "SETTINGS",
    "TS2VEC_PAPER_UNIVARIATE_MSE",
    "closest_train_segment",
    "default_horizons",
    "encode_series",
    "evaluate_features",
    "evaluate_series",
    "fit_encoder",
    "fit_ridge_on_validation",
    "forecasting_targets",
    "lagged_windows",
    "method_specs",
    "mse_by_horizon_figure",
    "paper_scores",
    "prepare_series",
    "resolve_padding",
    "series_time_indices",
    "summarise",
    "summary_markdown",
    "validation_score",
]
