"""Nodes of ``ucr_mtl``: thin wrappers over tsmtl.data.feeding, tsmtl.models.baselines,
tsmtl.training.classification and tsmtl.evaluation."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

from tsmtl.data.feeding import FeedingOptions, feed_task_splits  # noqa: E402
from tsmtl.data.tasks import describe_protocol  # noqa: E402
from tsmtl.evaluation.metrics import accuracy  # noqa: E402
from tsmtl.evaluation.paper_tables import METHODS, resnet2d_table_i  # noqa: E402
from tsmtl.evaluation.reports import accuracy_markdown, accuracy_rank_table  # noqa: E402
from tsmtl.models.baselines import one_nn_dtw  # noqa: E402
from tsmtl.training.classification import ClassifierTrainingConfig, extract_features, fit_classifier  # noqa: E402

log = logging.getLogger(__name__)

METHOD_NAMES = {
    "1nn_dtw": "1NN-DTW",
    "resnet1d": "ResNet1D",
    "resnet2d": "ResNet2D",
    "resnet1d_mtl": "ResNet1D w/ MTL",
    "resnet2d_mtl": "ResNet2D w/ MTL",
}
# `fit` names the training run a row comes from (the task, or the group for MTL); `seconds` is that run's wall time.
RESULT_COLUMNS = ["group", "task", "method", "fit", "accuracy", "val_accuracy", "best_epoch", "seconds_per_epoch", "seconds", "n_train"]

Groups = dict[str, dict[str, dict[str, Any]]]


def select_groups(splits: Mapping[str, Any], groups: Mapping[str, list[str]], options: Mapping[str, Any]) -> Groups:
    """``{group: {task: split}}`` for the groups in ``options["groups"]`` (None: all), tasks present only."""
    chosen = options.get("groups") or list(groups)
    unknown = [g for g in chosen if g not in groups]
    if unknown:
        raise ValueError(f"unknown groups {unknown}; the groups are {list(groups)}")
    out: Groups = {}
    for group in chosen:
        present = {task: splits[task] for task in groups[group] if task in splits}
        missing = [task for task in groups[group] if task not in splits]
        if missing:
            log.warning("group %s: tasks %s are not in the ingested data (skipped)", group, missing)
        if present:
            out[group] = present
        else:
            log.warning("group %s: no task present, group skipped", group)
    if not out:
        raise ValueError(f"none of the groups {chosen} has a task in the ingested data ({sorted(splits)})")
    return out


def feed_groups(groups: Groups, feeding: Mapping[str, Any] | None) -> Groups:
    """Apply the feeding options (gaps, z-normalisation, length policy) to every split."""
    options = FeedingOptions.from_params(feeding)
    log.info("feeding: %s", options.describe())
    return {group: feed_task_splits(tasks, options) for group, tasks in groups.items()}


def _enabled(options: Mapping[str, Any], method: str) -> bool:
    return method in options.get("methods", list(METHOD_NAMES))


def evaluate_one_nn_dtw(groups: Groups, options: Mapping[str, Any]) -> pd.DataFrame:
    """1NN-DTW (aeon) on every task's train split, scored on test and validation."""
    rows = []
    if not _enabled(options, "1nn_dtw"):
        return pd.DataFrame(columns=RESULT_COLUMNS)
    settings = options.get("one_nn_dtw", {}) or {}
    for group, tasks in groups.items():
        for task, split in tasks.items():
            started = time.perf_counter()
            test_pred = one_nn_dtw(split["train"], split["test"], window=settings.get("window"), n_jobs=int(settings.get("n_jobs", 1)))
            val_pred = one_nn_dtw(split["train"], split["val"], window=settings.get("window"), n_jobs=int(settings.get("n_jobs", 1)))
            rows.append(
                {
                    "group": group,
                    "task": task,
                    "method": METHOD_NAMES["1nn_dtw"],
                    "fit": task,
                    "accuracy": accuracy(split["test"].y, test_pred),
                    "val_accuracy": accuracy(split["val"].y, val_pred),
                    "best_epoch": np.nan,
                    "seconds_per_epoch": np.nan,
                    "seconds": time.perf_counter() - started,
                    "n_train": split["train"].n_cases,
                }
            )
            log.info("1NN-DTW %s/%s: %.3f", group, task, rows[-1]["accuracy"])
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _fit(tasks, architecture: str, options: Mapping[str, Any], device: str, run_name: str):
    config = ClassifierTrainingConfig.from_params(options.get("training"))
    started = time.perf_counter()
    fit = fit_classifier(
        tasks,
        architecture,
        options.get(architecture),
        config,
        device=device,
        seed=int(options.get("seed", 0)),
        checkpoint_dir=Path(options.get("checkpoint_dir", "data/06_models/ucr_mtl")) / run_name,
        resume=bool(options.get("resume", True)),
    )
    return fit, time.perf_counter() - started


def _rows(group: str, method: str, fit, seconds: float, tasks, run: str) -> list[dict[str, Any]]:
    return [
        {
            "group": group,
            "task": task,
            "method": method,
            "fit": run,
            "accuracy": fit.test_accuracy[task],
            "val_accuracy": fit.val_accuracy[task],
            "best_epoch": fit.best_epoch,
            "seconds_per_epoch": fit.seconds_per_epoch,
            "seconds": seconds,
            "n_train": tasks[task]["train"].n_cases,
        }
        for task in tasks
    ]


def train_single_task_models(groups: Groups, options: Mapping[str, Any], device: str, architecture: str) -> pd.DataFrame:
    """``ResNet1D`` / ``ResNet2D`` without MTL: one model per task (standard mini-batch SGD)."""
    method = architecture
    if not _enabled(options, method):
        return pd.DataFrame(columns=RESULT_COLUMNS)
    rows = []
    for group, tasks in groups.items():
        for task, split in tasks.items():
            fit, seconds = _fit({task: split}, architecture, options, device, f"{method}/{task}")
            rows += _rows(group, METHOD_NAMES[method], fit, seconds, {task: split}, task)
            log.info("%s %s: test %.3f (best epoch %d, %.2fs/epoch)", METHOD_NAMES[method], task, fit.test_accuracy[task], fit.best_epoch, fit.seconds_per_epoch)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _tsne_group(groups: Groups, options: Mapping[str, Any]) -> str | None:
    """The group whose features are plotted: ``tsne.group`` (paper: SemgHand) or the first with >1 task."""
    wanted = (options.get("tsne") or {}).get("group", "SemgHand")
    if wanted in groups:
        return wanted
    fallback = next((g for g, tasks in groups.items() if len(tasks) > 1), next(iter(groups), None))
    log.info("t-SNE: group %s not run, plotting %s instead", wanted, fallback)
    return fallback


def train_multitask_models(
    groups: Groups, options: Mapping[str, Any], device: str, architecture: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``ResNet1D w/ MTL`` / ``ResNet2D w/ MTL``: one shared trunk per group, Algorithm 2 batches.

    Also returns the test-split features of the t-SNE group:
    ``{"group", "method", "tasks": {task: {"features", "labels"}}}``.
    """
    method = f"{architecture}_mtl"
    if not _enabled(options, method):
        return pd.DataFrame(columns=RESULT_COLUMNS), {}
    rows, features = [], {}
    tsne_group = _tsne_group(groups, options)
    for group, tasks in groups.items():
        fit, seconds = _fit(tasks, architecture, options, device, f"{method}/{group}")
        rows += _rows(group, METHOD_NAMES[method], fit, seconds, tasks, group)
        log.info("%s %s: test %s (best epoch %d, %.2fs/epoch)", METHOD_NAMES[method], group, {t: round(a, 3) for t, a in fit.test_accuracy.items()}, fit.best_epoch, fit.seconds_per_epoch)
        if group == tsne_group:
            features = {
                "group": group,
                "method": METHOD_NAMES[method],
                "tasks": {t: {"features": extract_features(fit.model, s["test"]), "labels": s["test"].y} for t, s in tasks.items()},
            }
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), features


def build_accuracy_report(
    one_nn_dtw_results: pd.DataFrame,
    resnet1d_results: pd.DataFrame,
    resnet2d_results: pd.DataFrame,
    resnet1d_mtl_results: pd.DataFrame,
    resnet2d_mtl_results: pd.DataFrame,
    groups: Groups,
    options: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Table I for the groups run: accuracy, per-task rank, average rank, the paper's numbers.

    Returns the long results (all methods), the wide table (CSV) and the
    Markdown text; both tables state the feeding options and the profile, the Markdown
    also the split protocol and seed recorded in the splits (``groups``).
    """
    frames = [f for f in (one_nn_dtw_results, resnet1d_results, resnet2d_results, resnet1d_mtl_results, resnet2d_mtl_results) if len(f)]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    if results.empty:
        raise ValueError("no method produced results (check ucr_mtl.methods)")
    feeding = FeedingOptions.from_params(options.get("feeding")).describe()
    training = options.get("training", {})
    table, average, paper_average = accuracy_rank_table(results, METHODS, resnet2d_table_i(), options.get("rank_decimals", 2))
    table = table.reset_index()
    table.insert(0, "feeding", feeding)
    header = [
        f"# {options.get('title', 'ResNet2D multitask TSC: test accuracy')}",
        "",
        f"- profile: {options.get('profile', 'paper')}; training: {dict(training)}",
        f"- feeding: {feeding}",
        f"- split: {describe_protocol({t: sp for tasks in groups.values() for t, sp in tasks.items()})}; "
        f"training seed {options.get('seed', 0)}; best epoch by validation accuracy",
        f"- ranks on accuracies rounded to {options.get('rank_decimals', 2)} decimals (as the paper's table)",
        f"- wall time (s) per method in this run (a fit resumed from a finished checkpoint only evaluates): {results.drop_duplicates(['method', 'fit']).groupby('method')['seconds'].sum().round(1).to_dict()}",
    ]
    markdown = accuracy_markdown(table.set_index(["group", "task"]), average, paper_average, METHODS, header)
    return results, table, markdown


def plot_tsne_features(resnet1d_features: dict[str, Any], resnet2d_features: dict[str, Any], options: Mapping[str, Any]):
    """Paper Fig. 5: t-SNE of the shared features of both MTL models, one panel per task."""
    models = [f for f in (resnet1d_features, resnet2d_features) if f]
    if not models:
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.text(0.5, 0.5, "no MTL model was run", ha="center", va="center")
        ax.axis("off")
        return fig
    n_tasks = max(len(m["tasks"]) for m in models)
    fig, axes = plt.subplots(len(models), n_tasks, figsize=(4 * n_tasks, 4 * len(models)), squeeze=False)
    seed = int(options.get("seed", 0))
    for row, model in enumerate(models):
        for col, (task, item) in enumerate(model["tasks"].items()):
            feats = item["features"]
            perplexity = float(min(30, max(2, len(feats) - 1) / 3))
            embedded = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(feats)
            ax = axes[row, col]
            labels = np.asarray(item["labels"])
            colours = plt.get_cmap("tab20" if len(np.unique(labels)) > 10 else "tab10")
            for index, label in enumerate(np.unique(labels)):
                sel = labels == label
                ax.scatter(embedded[sel, 0], embedded[sel, 1], s=8, label=str(label), color=colours(index % colours.N))
            ax.set_title(f"{model['method']}: {task}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            if len(np.unique(labels)) <= 12:
                ax.legend(fontsize=6, markerscale=1.5, loc="best")
        for col in range(len(model["tasks"]), n_tasks):
            axes[row, col].axis("off")
    fig.suptitle(f"t-SNE of the shared MTL features, test split ({models[0]['group']})")
    fig.tight_layout()
    return fig


# Named nodes for the graph (kedro-viz shows these names).
def train_resnet1d(groups: Groups, options: Mapping[str, Any], device: str) -> pd.DataFrame:
    """ResNet1D without MTL (Table I, column 2)."""
    return train_single_task_models(groups, options, device, "resnet1d")


def train_resnet2d(groups: Groups, options: Mapping[str, Any], device: str) -> pd.DataFrame:
    """ResNet2D without MTL (Table I, column 3)."""
    return train_single_task_models(groups, options, device, "resnet2d")


def train_resnet1d_mtl(groups: Groups, options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """ResNet1D w/ MTL (Table I, column 4)."""
    return train_multitask_models(groups, options, device, "resnet1d")


def train_resnet2d_mtl(groups: Groups, options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """ResNet2D w/ MTL (Table I, column 5)."""
    return train_multitask_models(groups, options, device, "resnet2d")
