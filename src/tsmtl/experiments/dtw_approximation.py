"""DTW distance approximation with Siamese networks (ResNet2D paper, Sec. IV-A, Figs. 1 and 4).

The experiment: pairs of random walks (:func:`tsmtl.data.synthetic.random_walk_pairs`) are
labelled with their DTW distance under a warping constraint (:func:`dtw_targets`), and the two
Siamese learners -- ResNet1D (Fig. 2c) and ResNet2D (Fig. 3c) -- are trained with the mean
squared error (Sec. III-C) and AdamW; the best epoch is selected on the validation MSE and the
test errors are reported (Fig. 1). For the ResNet2D learner, pixel-perturbation importance maps
of the pairwise distance matrix (:func:`pixel_perturbation_importance`, refs. [33, 34]) show
whether the model attends to the true warping path (Fig. 4).

Conventions
-----------
* DTW is aeon's (:func:`aeon.distances.dtw_distance`): point cost ``(x_i - y_j)^2``, no square
  root at the end (the targets come from the project's kernel,
  :func:`tsmtl.models.dtw_1nn.paired_dtw_distances`, equal to aeon's values to the bit);
  ``window`` is the Sakoe-Chiba band half-width as a fraction of the shorter series
  (``int(window * n)`` cells); ``window=None`` or ``1.0`` is unconstrained DTW and ``window=0``
  keeps only the diagonal (squared Euclidean distance for equal lengths).
* The ResNet2D learner's input image is the *absolute* difference ``|a_i - b_j|``
  (:func:`tsmtl.models.resnet2d.pairwise_distance_matrix`, the paper's "Euclidean distance
  between each data point"); the target uses the squared cost. The network has to learn the
  squaring as part of the recursion; both learners see the same targets.
* Target scaling (our choice, ``normalise_targets``): training regresses ``target / scale``
  with ``scale`` the mean training target, so the untrained networks' O(1) outputs start at the
  right order of magnitude; a positive scale keeps the targets non-negative, as the Siamese
  ResNet1D's l2-distance output requires. Predictions, validation metrics and test errors are
  always in the original DTW units.

Pairs are float arrays ``(n_pairs, 2, length)`` as made by ``random_walk_pairs``: ``[:, 0]``
is the first series ``a`` and ``[:, 1]`` the second series ``b`` of each pair.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from aeon.distances import dtw_alignment_path
from torch import nn

from tsmtl.config import plain
from tsmtl.evaluation.metrics import mae, mse
from tsmtl.models.dtw_1nn import paired_dtw_distances
from tsmtl.models.resnet2d import pairwise_distance_matrix
from tsmtl.models.siamese import SiameseResNet1D, SiameseResNet2D
from tsmtl.training.distributed import is_main_process
from tsmtl.training.fingerprint import data_digest, run_fingerprint
from tsmtl.training.fit import TrainingConfig
from tsmtl.training.loop import Trainer, TrainingResult, model_device, predict_batched
from tsmtl.training.tensors import batch_bounds

logger = logging.getLogger(__name__)

#: The two learners of Sec. IV-A, by the names used in parameters, tables and folders.
DISTANCE_MODELS = {"resnet1d": SiameseResNet1D, "resnet2d": SiameseResNet2D}
DISTANCE_MODEL_KINDS = tuple(DISTANCE_MODELS)
#: Keys of a fit's ``config`` besides the :class:`~tsmtl.training.fit.TrainingConfig` ones.
EXPERIMENT_KEYS = ("normalise_targets", "resume", *DISTANCE_MODEL_KINDS)

#: Written next to ``best.pt``: what is needed to rebuild the model and undo the target scaling.
MODEL_SPEC_FILE = "distance_model.json"

SPLITS = ("train", "val", "test")


# -- targets ------------------------------------------------------------------------------------
def _check_pairs(pairs: np.ndarray) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.float64)
    if pairs.ndim != 3 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must be (n_pairs, 2, length), got shape {pairs.shape}")
    return pairs


def _check_window(window: float | None) -> float | None:
    if window is None:
        return None
    window = float(window)
    if not 0.0 <= window <= 1.0:
        raise ValueError(f"window must be in [0, 1] (a fraction of the series length) or None, got {window}")
    return window


def _iter_pairs(pairs: np.ndarray | Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(a, b)`` float64 1-D arrays of every pair of an ``(n, 2, length)`` array or a sequence of pairs."""
    if isinstance(pairs, np.ndarray):
        return [(a, b) for a, b in _check_pairs(pairs)]
    out = []
    for k, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"pair {k} must be (a, b), got {len(pair)} items")
        a, b = (np.ascontiguousarray(s, dtype=np.float64) for s in pair)
        if a.ndim != 1 or b.ndim != 1 or len(a) == 0 or len(b) == 0:
            raise ValueError(f"pair {k}: a and b must be non-empty 1-D series, got shapes {a.shape}, {b.shape}")
        out.append((a, b))
    return out


def dtw_targets(
    pairs: np.ndarray | Sequence[tuple[np.ndarray, np.ndarray]], window: float | None, n_jobs: int = 1
) -> np.ndarray:
    """DTW distance of every pair under a Sakoe-Chiba warping window (the Sec. IV-A targets).

    Parameters
    ----------
    pairs : array, shape (n_pairs, 2, length), or sequence of ``(a (n,), b (m,))``
        The sequence form allows ``n != m``.
    window : float in [0, 1] or None
        Band half-width as a fraction of the shorter length (aeon's ``window``); None or 1.0:
        unconstrained.
    n_jobs : int
        numba threads, parallel over pairs (-1: all cores).

    Returns
    -------
    np.ndarray, float64, shape (n_pairs,)
        ``aeon.distances.dtw_distance(a, b, window)`` of each pair (squared point cost), computed
        by :func:`tsmtl.models.dtw_1nn.paired_dtw_distances` (the plain DP over the matched
        pairs only, where aeon's pairwise functions would compute all n x n combinations).
    """
    window = _check_window(window)
    matched = _iter_pairs(pairs)
    if not matched:
        return np.zeros(0, dtype=np.float64)
    first, second = zip(*matched)
    return paired_dtw_distances(list(first), list(second), window, n_jobs=n_jobs)


def dtw_warping_paths(pairs: np.ndarray | Sequence[tuple[np.ndarray, np.ndarray]], window: float | None) -> list[np.ndarray]:
    """Optimal DTW warping path of every pair (the red lines of Fig. 4).

    Returns
    -------
    list of np.ndarray, int64, shape (path_length, 2)
        ``(i, j)`` index pairs from ``(0, 0)`` to ``(n - 1, m - 1)``
        (:func:`aeon.distances.dtw_alignment_path`).
    """
    window = _check_window(window)
    return [np.asarray(dtw_alignment_path(a, b, window=window)[0], dtype=np.int64) for a, b in _iter_pairs(pairs)]


# -- batches, step and evaluation -----------------------------------------------------------------
class PairBatch(NamedTuple):
    """One mini-batch: first series ``a`` (B, n), second series ``b`` (B, m), ``target`` (B,), float32."""

    a: torch.Tensor
    b: torch.Tensor
    target: torch.Tensor


def _pair_tensors(pairs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    pairs = _check_pairs(pairs)
    tensor = torch.from_numpy(pairs.astype(np.float32))
    return tensor[:, 0], tensor[:, 1]


class _EpochPairBatches:
    """The batches of one epoch: iterable, with a length (for progress bars)."""

    def __init__(self, provider: PairBatches, epoch: int) -> None:
        self.provider = provider
        self.order = np.random.default_rng([provider.seed, epoch]).permutation(len(provider.target))
        self.bounds = batch_bounds(len(self.order), provider.batch_size)

    def __len__(self) -> int:
        return len(self.bounds)

    def __iter__(self) -> Iterator[PairBatch]:
        p = self.provider
        for start, stop in self.bounds:
            index = torch.from_numpy(self.order[start:stop])
            yield PairBatch(p.a[index], p.b[index], p.target[index])


class PairBatches:
    """The ``batches`` provider of :class:`~tsmtl.training.loop.Trainer` for pair regression.

    ``provider(epoch)`` iterates over shuffled :class:`PairBatch` es; the order is a function of
    ``(seed, epoch)`` only, so a resumed run replays the batches of an uninterrupted one.

    Parameters
    ----------
    pairs : array, shape (n_pairs, 2, length)
    targets : array, shape (n_pairs,)
        Regression targets (already scaled, if scaling is used).
    batch_size : int
        40 in the paper.
    seed : int
    """

    def __init__(self, pairs: np.ndarray, targets: np.ndarray, batch_size: int, seed: int = 0) -> None:
        self.a, self.b = _pair_tensors(pairs)
        self.target = torch.as_tensor(np.asarray(targets, dtype=np.float32))
        if self.target.shape != (self.a.shape[0],):
            raise ValueError(f"targets must be ({self.a.shape[0]},), got {tuple(self.target.shape)}")
        if len(self.target) == 0:
            raise ValueError("no training pairs")
        self.batch_size = int(batch_size)
        self.seed = int(seed)

    def __call__(self, epoch: int) -> _EpochPairBatches:
        return _EpochPairBatches(self, epoch)


def regression_step(model: nn.Module, batch: PairBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """MSE step of the distance learners (Sec. III-C): ``model(a, b)`` (B,) against ``target`` (B,).

    Returns
    -------
    loss : 0-d tensor, the batch mean squared error
    logs : ``{"mae": batch mean absolute error}`` (in the units of the targets the batch holds)
    """
    a, b, target = batch
    prediction = model(a, b).float()
    loss = F.mse_loss(prediction, target)
    return loss, {"mae": (prediction.detach() - target).abs().mean()}


@torch.no_grad()
def predict_distances(model: nn.Module, pairs: np.ndarray, batch_size: int = 512, scale: float = 1.0) -> np.ndarray:
    """Predicted distance of every pair, in eval mode (the previous mode is restored).

    Parameters
    ----------
    model : Siamese learner, ``model(a (B, n), b (B, m)) -> (B,)``
    pairs : array, shape (n_pairs, 2, length)
    batch_size : int
    scale : float
        Multiplies the raw output (undoes target scaling).

    Returns
    -------
    np.ndarray, float64, shape (n_pairs,)
    """
    a, b = _pair_tensors(pairs)
    out = predict_batched(model, lambda m, first, second: m(first, second), len(a), lambda index: (a[index], b[index]), batch_size)
    return out.astype(np.float64) * float(scale)


def evaluate_distances(
    model: nn.Module,
    pairs: np.ndarray,
    targets: np.ndarray,
    batch_size: int = 512,
    scale: float = 1.0,
    prefix: str = "val_",
) -> dict[str, float]:
    """``{prefix + "mse", prefix + "mae"}`` of the predictions against the unscaled ``targets``."""
    predictions = predict_distances(model, pairs, batch_size=batch_size, scale=scale)
    targets = np.asarray(targets, dtype=np.float64)
    return {f"{prefix}mse": mse(targets, predictions), f"{prefix}mae": mae(targets, predictions)}


# -- models and fitting ---------------------------------------------------------------------------
def build_distance_model(kind: str, model_kwargs: Mapping[str, Any] | None = None) -> nn.Module:
    """The Siamese learner ``kind`` ("resnet1d": Fig. 2c, "resnet2d": Fig. 3c) with ``model_kwargs``.

    ``model_kwargs`` go to :class:`SiameseResNet1D` (``widths``, ``kernel_sizes``,
    ``embedding_dim``) or :class:`SiameseResNet2D` (``width``, ``n_blocks``, ``widths``).
    """
    if kind not in DISTANCE_MODELS:
        raise ValueError(f"unknown distance model {kind!r}; use one of {DISTANCE_MODEL_KINDS}")
    return DISTANCE_MODELS[kind](**dict(model_kwargs or {}))


@dataclass
class DistanceModelFit:
    """What :func:`fit_distance_model` returns.

    Attributes
    ----------
    kind : str
    model : nn.Module
        Best-epoch weights (selected on the validation MSE), on the training device, eval mode.
    target_scale : float
        Model outputs times this are DTW distances.
    test_targets, test_predictions : np.ndarray, shape (n_test,)
    test_errors : np.ndarray, shape (n_test,)
        ``|prediction - target|`` per test pair (the quantity of the Fig. 1 box plots).
    test_metrics : dict
        ``test_mse`` and ``test_mae``.
    training : TrainingResult
    model_kwargs : dict
    """

    kind: str
    model: nn.Module
    target_scale: float
    test_targets: np.ndarray
    test_predictions: np.ndarray
    test_errors: np.ndarray
    test_metrics: dict[str, float]
    training: TrainingResult
    model_kwargs: dict[str, Any] = field(default_factory=dict)


def fit_distance_model(
    kind: str,
    pairs_by_split: Mapping[str, np.ndarray],
    targets_by_split: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    checkpoint_dir: str | os.PathLike | None = None,
    device: str | torch.device | None = "auto",
    seed: int = 0,
) -> DistanceModelFit:
    """Train one Siamese learner on one warping window's targets and score it on the test pairs.

    Parameters
    ----------
    kind : {"resnet1d", "resnet2d"}
    pairs_by_split : mapping with "train", "val", "test" -> array (n_split, 2, length)
    targets_by_split : mapping with the same keys -> array (n_split,), unscaled DTW distances
    config : mapping
        The :class:`~tsmtl.training.fit.TrainingConfig` keys (``epochs``: paper 200,
        ``batch_size``: 40, ``lr``: 1e-4, ``weight_decay``, ``eval_batch_size``, ``progress``,
        ``grad_clip_norm``, ...) plus ``normalise_targets`` (True), ``resume`` (False) and
        ``kind`` -> model keyword arguments (e.g. ``config["resnet2d"] = {"width": 64,
        "n_blocks": 8}``). Unknown keys raise.
    checkpoint_dir : path, optional
        Parent folder: the run writes ``last.pt``/``best.pt`` of the :class:`Trainer` and
        :data:`MODEL_SPEC_FILE` into ``<checkpoint_dir>/<fingerprint>/``, the fingerprint
        hashing the content of every split's pairs and targets and every setting
        (:mod:`tsmtl.training.fingerprint`); other pairs or targets never resume it. Under
        ``torchrun`` only rank 0 writes these files (:func:`~tsmtl.training.distributed.is_main_process`).
    device : str or torch.device
        Through :func:`choose_device`.
    seed : int
        Seeds the model's initial weights, the batch order and the trainer.

    Returns
    -------
    DistanceModelFit
    """
    for split in SPLITS:
        if split not in pairs_by_split or split not in targets_by_split:
            raise KeyError(f"pairs_by_split and targets_by_split need the splits {SPLITS}; {split!r} is missing")
        n_pairs = _check_pairs(pairs_by_split[split]).shape[0]
        if np.shape(targets_by_split[split]) != (n_pairs,):
            raise ValueError(f"{split}: {n_pairs} pairs but targets of shape {np.shape(targets_by_split[split])}")
    config = dict(config)
    training = TrainingConfig.from_params({key: value for key, value in config.items() if key not in EXPERIMENT_KEYS})
    train_targets = np.asarray(targets_by_split["train"], dtype=np.float64)
    scale = float(train_targets.mean()) if config.get("normalise_targets", True) else 1.0
    if not (math.isfinite(scale) and scale > 0):
        scale = 1.0
    model_kwargs = plain(dict(config.get(kind) or {}))
    if kind not in DISTANCE_MODELS:
        raise ValueError(f"unknown distance model {kind!r}; use one of {DISTANCE_MODEL_KINDS}")

    digest = data_digest({split: pairs_by_split[split] for split in SPLITS}, {split: targets_by_split[split] for split in SPLITS})
    if checkpoint_dir is not None:
        settings = {"training": training.fingerprint_settings(), "model": model_kwargs, "normalise_targets": config.get("normalise_targets", True)}
        checkpoint_dir = Path(checkpoint_dir) / run_fingerprint(digest, kind, settings, int(seed))
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if is_main_process():  # under torchrun rank 0 alone writes files, like the Trainer's checkpoints
            spec = {"kind": kind, "model_kwargs": model_kwargs, "target_scale": scale}
            (checkpoint_dir / MODEL_SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")

    val_pairs, val_targets = pairs_by_split["val"], targets_by_split["val"]
    trainer = Trainer(
        lambda: build_distance_model(kind, model_kwargs),
        regression_step,
        PairBatches(pairs_by_split["train"], train_targets / scale, training.batch_size, seed=int(seed)),
        lambda m: evaluate_distances(m, val_pairs, val_targets, batch_size=training.eval_batch_size, scale=scale),
        device=device,
        monitor="val_mse",
        mode="min",
        checkpoint_dir=checkpoint_dir,
        resume=bool(config.get("resume", False)) and checkpoint_dir is not None,
        data_digest=digest,
        seed=int(seed),
        **training.trainer_kwargs(),
    )
    result = trainer.fit()
    model = result.model.eval()
    test_targets = np.asarray(targets_by_split["test"], dtype=np.float64)
    test_predictions = predict_distances(model, pairs_by_split["test"], batch_size=training.eval_batch_size, scale=scale)
    metrics = {"test_mse": mse(test_targets, test_predictions), "test_mae": mae(test_targets, test_predictions)}
    logger.info("%s: best epoch %s, %s", kind, result.best_epoch, metrics)
    return DistanceModelFit(
        kind=kind,
        model=model,
        target_scale=scale,
        test_targets=test_targets,
        test_predictions=test_predictions,
        test_errors=np.abs(test_predictions - test_targets),
        test_metrics=metrics,
        training=result,
        model_kwargs=model_kwargs,
    )


# -- pixel perturbation ----------------------------------------------------------------------------
def siamese2d_from_distance_matrix(model: SiameseResNet2D, distances: torch.Tensor) -> torch.Tensor:
    """Run a :class:`SiameseResNet2D` on precomputed distance matrices ``(B, 1, n, m)`` -> ``(B,)``.

    :meth:`SiameseResNet2D.from_distance_matrix` with a type check, for the perturbed
    matrices of :func:`pixel_perturbation_importance`.
    """
    if not isinstance(model, SiameseResNet2D):
        raise TypeError(f"expected a SiameseResNet2D, got {type(model).__name__}")
    return model.from_distance_matrix(distances)


@torch.no_grad()
def pixel_perturbation_importance(
    model: SiameseResNet2D,
    a: np.ndarray | torch.Tensor,
    b: np.ndarray | torch.Tensor,
    patch: int = 1,
    baseline: float = 0.0,
    batch_size: int = 256,
) -> np.ndarray:
    """Pixel-importance map of one pair's distance matrix (Sec. IV-A, Fig. 4; refs. [33, 34]).

    The ``n x m`` matrix ``D = |a_i - b_j|`` is cut into ``patch x patch`` tiles (the last row
    and column of tiles may be smaller); for every tile a copy of ``D`` with that tile set to
    ``baseline`` ("disabled") is run through the model, and every pixel of the tile gets the
    importance ``|f(D_perturbed) - f(D)|``. The perturbed copies are built by broadcasting and
    run in batches of ``batch_size``. The model runs in eval mode (batch norm uses its running
    statistics, so a pixel's score does not depend on the batch it is in); the previous mode is
    restored.

    Parameters
    ----------
    model : SiameseResNet2D
    a : array, shape (n,); b : array, shape (m,)
    patch : int
        Tile side in pixels (1: every pixel alone).
    baseline : float
        Value a disabled pixel takes (0: "no distance").
    batch_size : int

    Returns
    -------
    np.ndarray, float64, shape (n, m)
        Importance of every pixel, in the model's output units.
    """
    if patch < 1:
        raise ValueError(f"patch must be >= 1, got {patch}")
    device = model_device(model)
    a = torch.as_tensor(np.asarray(a, dtype=np.float32)).reshape(1, -1).to(device)
    b = torch.as_tensor(np.asarray(b, dtype=np.float32)).reshape(1, -1).to(device)
    distances = pairwise_distance_matrix(a, b)  # (1, 1, n, m)
    n, m = distances.shape[-2:]
    row_tile = torch.arange(n, device=device) // patch  # (n,)
    col_tile = torch.arange(m, device=device) // patch  # (m,)
    n_col_tiles = math.ceil(m / patch)
    n_tiles = math.ceil(n / patch) * n_col_tiles
    was_training = model.training
    model.eval()
    try:
        reference = siamese2d_from_distance_matrix(model, distances)  # (1,)
        scores = torch.empty(n_tiles, device=device)
        for start in range(0, n_tiles, batch_size):
            tiles = torch.arange(start, min(start + batch_size, n_tiles), device=device)  # (T,)
            hit = (row_tile[None, :, None] == (tiles // n_col_tiles)[:, None, None]) & (
                col_tile[None, None, :] == (tiles % n_col_tiles)[:, None, None]
            )  # (T, n, m): True on the tile each copy disables
            perturbed = torch.where(hit[:, None], torch.tensor(float(baseline), device=device), distances)
            scores[start : start + len(tiles)] = (siamese2d_from_distance_matrix(model, perturbed) - reference).abs()
    finally:
        model.train(was_training)
    tile_of_pixel = row_tile[:, None] * n_col_tiles + col_tile[None, :]  # (n, m)
    return scores[tile_of_pixel].double().cpu().numpy()


__all__ = [
    "DISTANCE_MODELS",
    "DISTANCE_MODEL_KINDS",
    "DistanceModelFit",
    "PairBatch",
    "PairBatches",
    "build_distance_model",
    "dtw_targets",
    "dtw_warping_paths",
    "evaluate_distances",
    "fit_distance_model",
    "pixel_perturbation_importance",
    "predict_distances",
    "regression_step",
    "siamese2d_from_distance_matrix",
]
