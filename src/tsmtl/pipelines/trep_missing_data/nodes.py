"""Nodes of ``trep_missing_data``: thin wrappers over tsmtl.experiments.trep_classification."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from tsmtl.data.uea import available_uea_datasets
from tsmtl.experiments.trep_classification import (
    PUBLISHED_MISSING_DATA,
    PUBLISHED_MISSING_DATA_RUNS,
    TREP,
    TS2VEC,
    gather_datasets,
    heatmap_encoders,
    heatmap_figure,
    latent_heatmap,
    missing_curve_figure,
    missing_data_experiment,
    missing_markdown,
    summarise_missing,
)

log = logging.getLogger(__name__)


def select_dataset(archive: Any, dataset: str) -> dict[str, Any]:
    """``{"train", "test"}`` of ``dataset`` (``trep_missing_data.dataset``, ArticularyWordRecognition) from the UEA
    folder (or aeon's embedded sets)."""
    root = getattr(archive, "root", None)
    names = available_uea_datasets(root) if root is not None else list(archive)
    datasets, _ = gather_datasets(archive, names, [], [dataset])
    return next(iter(datasets.values()))["parts"]


def evaluate_missing_data(parts: Mapping[str, Any], options: Mapping[str, Any], device: str) -> pd.DataFrame:
    """T-Rep and TS2Vec accuracy at every missing rate and seed."""
    return missing_data_experiment(parts, options, device=device)


def report_missing_data(results: pd.DataFrame, options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """The summary per (rate, method) and the Markdown report."""
    summary = summarise_missing(results)
    seconds = results.groupby("method", sort=False)[["fit_seconds", "evaluate_seconds"]].sum().sum(axis=1)
    published = "; ".join(f"{m}: " + ", ".join(f"{100 * r:g} % -> {v:.3f}" for r, v in points.items()) for m, points in PUBLISHED_MISSING_DATA.items())
    lines = [
        f"# T-Rep, Sec. 4.4 (Fig. 4b): accuracy against missing data, {options.get('dataset', 'ArticularyWordRecognition')}",
        "",
        f"- profile: {options.get('profile', 'paper')}; seeds {list(options.get('seeds', [0]))}; rates {[float(r) for r in options.get('rates', [])]}",
        f"- missing data: `random_missing` (unit {options.get('unit', 'timestep')}): that fraction of the time steps set to NaN in every channel, in TRAIN and TEST, a new draw per seed (seed {options.get('missing_seed', 0)} + run seed)",
        f"- {TREP}: TimeDim protocol; {TS2VEC}: instance-level; RBF SVC with the cross-validated C grid, as in `trep_classification`",
        f"- {TREP} settings: " + ", ".join(f"{k}={v}" for k, v in dict(options.get("trep") or {}).items()),
        f"- {TS2VEC} settings: " + ", ".join(f"{k}={v}" for k, v in dict(options.get("ts2vec") or {}).items()),
        f"- cells: test accuracy, mean ± std over seeds [published, T-Rep paper Sec. 4.4 text; the paper's error bars are over {PUBLISHED_MISSING_DATA_RUNS} runs]",
        f"- published points (the only ones the text gives; Fig. 4b's other points are in an image): {published}",
        f"- wall time (fit + evaluate, summed): {', '.join(f'{m} {s:.0f} s' for m, s in seconds.items())}",
        *[f"- {note}" for note in options.get("notes") or []],
    ]
    return summary, missing_markdown(summary, lines)


def plot_missing_data_curve(summary: pd.DataFrame, options: Mapping[str, Any]) -> Figure:
    """Fig. 4b: accuracy against % missing, this run beside the paper's points."""
    return missing_curve_figure(summary, f"{options.get('dataset', 'ArticularyWordRecognition')}: accuracy against missing data ({options.get('profile', 'paper')} profile)")


def fit_heatmap_encoders(ucr_archive: Any, parts: Mapping[str, Any], options: Mapping[str, Any], device: str) -> dict[str, Any]:
    """T-Rep and TS2Vec for Fig. 4a on ``options["heatmap"]["dataset"]`` (DodgerLoopGame, whose
    series have real missing segments) from the UCR folder; without it, on the missing-data
    dataset with an artificial missing segment."""
    name = (options.get("heatmap") or {}).get("dataset", "DodgerLoopGame")
    names = getattr(ucr_archive, "names", None) or list(ucr_archive)
    if name in names:
        source = ucr_archive[name]
    else:
        log.warning("%s is not in the UCR folder: the heatmap uses %s with a masked segment", name, parts["train"].name)
        source = parts
    return heatmap_encoders(source, options, device=device)


def plot_latent_heatmap(fitted: Mapping[str, Any], heatmap: Mapping[str, Any] | None) -> Figure:
    """Fig. 4a: the series and the 15 most varying representation dimensions of T-Rep and TS2Vec.

    ``heatmap``: ``trep_missing_data.heatmap`` (its ``n_dims``, default 15).
    """
    n_dims = int((heatmap or {}).get("n_dims", 15))
    heats = {name: latent_heatmap(model, fitted["series"], n_dims)[0] for name, model in fitted["encoders"].items()}
    start, length = fitted["gap"]
    how = "masked here" if fitted["masked_here"] else "missing in the data"
    title = f"{fitted['dataset']} {fitted['split']} series {fitted['index']}: steps {start}-{start + length - 1} {how}; {n_dims} most varying dimensions"
    return heatmap_figure(fitted["series"], fitted["gap"], heats, title)
