"""Nodes of the ``dtw_approximation`` pipeline (ResNet2D paper, Sec. IV-A, Figs. 1 and 4).

Each node is a thin call into the library (:mod:`tsmtl.data.synthetic`,
:mod:`tsmtl.experiments.dtw_approximation`, :mod:`tsmtl.evaluation.plots`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tsmtl.data.synthetic import random_walk_pairs
from tsmtl.evaluation.plots import MODEL_LABELS, dtw_error_boxplot, importance_maps_figure
from tsmtl.experiments.dtw_approximation import (
    DISTANCE_MODEL_KINDS,
    SPLITS,
    DistanceModelFit,
    dtw_targets,
    dtw_warping_paths,
    fit_distance_model,
    pixel_perturbation_importance,
)

log = logging.getLogger(__name__)

#: ``{model: {window: fit}}`` -- what :func:`train_distance_models` returns.
Fits = dict[str, dict[float, DistanceModelFit]]


def window_folder(window: float) -> str:
    """Checkpoint folder name of a warping window: ``window_0.05``, ..., ``window_1`` (unconstrained)."""
    return f"window_{float(window):g}"


def generate_pairs(options: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Random-walk pairs for the train, val and test splits (Sec. IV-A: 100,000 / 1,000 / 1,000).

    ``options``: ``n_train``, ``n_val``, ``n_test``, ``length``, ``znormalise`` (default True).
    One generator seeded with ``seed`` draws all pairs, which are then cut into the splits.

    Returns
    -------
    dict
        ``{"train": (n_train, 2, length), "val": ..., "test": ...}``, float64.
    """
    sizes = {split: int(options[f"n_{split}"]) for split in SPLITS}
    pairs = random_walk_pairs(sum(sizes.values()), int(options["length"]), seed=int(seed), znormalise=bool(options.get("znormalise", True)))
    out, start = {}, 0
    for split in SPLITS:
        out[split] = pairs[start : start + sizes[split]]
        start += sizes[split]
    log.info("random-walk pairs of length %d: %s", int(options["length"]), sizes)
    return out


def compute_targets(pairs: Mapping[str, np.ndarray], windows: Sequence[float]) -> dict[float, dict[str, np.ndarray]]:
    """DTW distance of every pair of every split under every warping window.

    Returns
    -------
    dict
        ``{window: {split: (n_split,)}}`` with ``window`` a float (1.0 = unconstrained).
    """
    targets: dict[float, dict[str, np.ndarray]] = {}
    for window in windows:
        started = time.perf_counter()
        targets[float(window)] = {split: dtw_targets(pairs[split], float(window)) for split in pairs}
        train = targets[float(window)]["train"]
        log.info(
            "DTW targets, window %g: %d pairs in %.1f s, train mean %.3g, std %.3g",
            window, sum(len(v) for v in targets[float(window)].values()), time.perf_counter() - started, train.mean(), train.std(),
        )
    return targets


def train_distance_models(
    pairs: Mapping[str, np.ndarray],
    targets: Mapping[float, Mapping[str, np.ndarray]],
    models: Sequence[str],
    training: Mapping[str, Any],
    checkpoint_root: str | None,
    device: str,
    seed: int,
) -> Fits:
    """Train every Siamese learner on every window's targets (checkpoints in ``<root>/<model>/<window>/``)."""
    unknown = set(models) - set(DISTANCE_MODEL_KINDS)
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; use {DISTANCE_MODEL_KINDS}")
    fits: Fits = {}
    for kind in models:
        fits[kind] = {}
        for window, window_targets in targets.items():
            folder = None if checkpoint_root is None else Path(checkpoint_root) / kind / window_folder(window)
            log.info("training %s on window %g", kind, window)
            fit = fit_distance_model(kind, pairs, window_targets, training, checkpoint_dir=folder, device=device, seed=int(seed))
            fits[kind][float(window)] = fit
            log.info("%s, window %g: best epoch %s, %s", kind, window, fit.training.best_epoch, fit.test_metrics)
    return fits


def tabulate_test_errors(fits: Fits) -> pd.DataFrame:
    """One row per (window, model, test pair): ``window, model, pair, target, prediction, error``.

    ``error`` is ``|prediction - target|`` (the Fig. 1 quantity), in DTW units.
    """
    frames = [
        pd.DataFrame(
            {
                "window": window,
                "model": kind,
                "pair": np.arange(len(fit.test_targets)),
                "target": fit.test_targets,
                "prediction": fit.test_predictions,
                "error": fit.test_errors,
            }
        )
        for kind, by_window in fits.items()
        for window, fit in by_window.items()
    ]
    return pd.concat(frames, ignore_index=True).sort_values(["window", "model", "pair"], ignore_index=True)


def summarise_test_errors(errors: pd.DataFrame) -> pd.DataFrame:
    """Per (window, model): ``n_pairs``, ``median_error``, ``mean_error`` (MAE) and ``mse``."""
    grouped = errors.groupby(["window", "model"], sort=True)["error"]
    summary = grouped.agg(n_pairs="size", median_error="median", mean_error="mean")
    summary["mse"] = grouped.apply(lambda e: float(np.mean(np.square(e))))
    return summary.reset_index()


def tabulate_training_history(fits: Fits) -> pd.DataFrame:
    """Every epoch of every run: ``model, window, epoch, train_loss, val_mse, val_mae, seconds, best``."""
    rows = []
    for kind, by_window in fits.items():
        for window, fit in by_window.items():
            for record in fit.training.history:
                rows.append({"model": kind, "window": window, **record, "best": record["epoch"] == fit.training.best_epoch})
    return pd.DataFrame(rows)


def plot_error_boxplot(errors: pd.DataFrame) -> Figure:
    """Fig. 1: box plots of the test errors per window and model."""
    return dtw_error_boxplot(errors)


def plot_importance_maps(fits: Fits, pairs: Mapping[str, np.ndarray], options: Mapping[str, Any]) -> Figure:
    """Fig. 4: ResNet2D pixel-importance maps of random test pairs, with the true warping path in red.

    ``options``: ``n_pairs`` (per window), ``windows`` (list, or null for every trained window),
    ``patch`` (1), ``baseline`` (0.0), ``seed`` (which test pairs), ``batch_size`` (256: perturbed matrices per forward pass).
    """
    if "resnet2d" not in fits:
        raise ValueError("importance maps need the resnet2d model; add it to dtw_approximation.models")
    trained = fits["resnet2d"]
    windows = [float(w) for w in (options.get("windows") or trained)]
    missing = [w for w in windows if w not in trained]
    if missing:
        raise ValueError(f"importance windows {missing} were not trained (trained: {sorted(trained)})")
    test = pairs["test"]
    n_pairs = min(int(options.get("n_pairs", 4)), len(test))
    chosen = np.sort(np.random.default_rng(int(options.get("seed", 0))).choice(len(test), size=n_pairs, replace=False))
    maps, paths, titles = [], [], []
    for window in windows:
        model = trained[window].model
        window_paths = dtw_warping_paths(test[chosen], window)
        for index, path in zip(chosen, window_paths, strict=True):
            maps.append(
                pixel_perturbation_importance(
                    model,
                    test[index, 0],
                    test[index, 1],
                    patch=int(options.get("patch", 1)),
                    baseline=float(options.get("baseline", 0.0)),
                    batch_size=int(options.get("batch_size", 256)),
                )
            )
            paths.append(path)
            label = "no window" if window >= 1.0 else f"window {window:g}"
            titles.append(f"{MODEL_LABELS['resnet2d']}, {label}, test pair {index}")
    return importance_maps_figure(maps, paths, titles, ncols=n_pairs)
