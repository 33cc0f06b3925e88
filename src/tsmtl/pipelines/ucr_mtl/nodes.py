"""Nodes of ``ucr_mtl``: thin wrappers over tsmtl.data.feeding, tsmtl.experiments.ucr_mtl and
tsmtl.evaluation. The methods (Table I's columns) come from ``ucr_mtl.methods`` in YAML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

from tsmtl.data.feeding import FeedingOptions, feed_task_splits  # noqa: E402
from tsmtl.data.tasks import describe_protocol  # noqa: E402
from tsmtl.evaluation.paper_tables import resnet2d_table_i  # noqa: E402
from tsmtl.evaluation.plots import message_figure  # noqa: E402
from tsmtl.evaluation.reports import accuracy_markdown, accuracy_rank_table  # noqa: E402
from tsmtl.experiments.ucr_mtl import (  # noqa: E402
    RESULT_COLUMNS,
    Groups,
    UCRMethod,
    parse_methods,
    run_network,
    run_one_nn_dtw,
    select_methods,
)
from tsmtl.training.fit import TrainingConfig  # noqa: E402

log = logging.getLogger(__name__)

def _methods(options: Mapping[str, Any]) -> list[UCRMethod]:
    return select_methods(parse_methods(options["methods"], options.get("backbones")), options.get("select"))


def select_groups(splits: Mapping[str, Any], groups: Mapping[str, list[str]], options: Mapping[str, Any]) -> Groups:
    """``{group: {task: split}}`` for the groups in ``options["groups"]`` (None: all), tasks present only."""
    _methods(options)  # fail before any work on a bad method list
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


def evaluate_distance_baselines(groups: Groups, options: Mapping[str, Any]) -> pd.DataFrame:
    """Every ``kind: 1nn_dtw`` method (the project's exact 1NN-DTW kernel, Table I column 1) on every task."""
    frames = [run_one_nn_dtw(groups, m) for m in _methods(options) if m.kind == "1nn_dtw"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)


def _tsne_group(groups: Groups, options: Mapping[str, Any]) -> str | None:
    """The group whose features are plotted: ``tsne.group`` (paper: SemgHand) or the first with >1 task."""
    wanted = (options.get("tsne") or {}).get("group", "SemgHand")
    if wanted in groups:
        return wanted
    fallback = next((g for g, tasks in groups.items() if len(tasks) > 1), next(iter(groups), None))
    log.info("t-SNE: group %s not run, plotting %s instead", wanted, fallback)
    return fallback


def train_networks(groups: Groups, options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every network method (ResNet1D/2D with and without MTL, and any added in YAML).

    Returns the long results and, for every multitask method, the test-split features of the
    t-SNE group (paper Fig. 5).
    """
    training = TrainingConfig.from_params(options.get("training"))
    frames, features = [], []
    for method in _methods(options):
        if method.kind != "network":
            continue
        results, method_features = run_network(
            groups,
            method,
            training,
            device=device,
            seed=int(options.get("seed", 0)),
            checkpoint_dir=options.get("checkpoint_dir", "data/06_models/ucr_mtl"),
            resume=bool(options.get("resume", True)),
            features_group=_tsne_group(groups, options),
        )
        frames.append(results)
        if method_features:
            features.append(method_features)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)), features


def build_accuracy_report(
    baseline_results: pd.DataFrame, network_results: pd.DataFrame, groups: Groups, options: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Table I for the groups run: accuracy, per-task rank, average rank, the paper's numbers.

    Returns the long results (all methods), the wide table (CSV) and the Markdown text; both
    tables state the feeding options and the profile, the Markdown also the split protocol and
    seed recorded in the splits (``groups``). Columns follow the order of ``methods``; a method
    named like a Table I column is printed beside the paper's numbers.
    """
    frames = [f for f in (baseline_results, network_results) if len(f)]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    if results.empty:
        raise ValueError("no method produced results (check ucr_mtl.methods)")
    methods = [m.name for m in _methods(options)]
    feeding = FeedingOptions.from_params(options.get("feeding")).describe()
    training = options.get("training", {})
    table, average, paper_average = accuracy_rank_table(results, methods, resnet2d_table_i(), options.get("rank_decimals", 2))
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
    markdown = accuracy_markdown(table.set_index(["group", "task"]), average, paper_average, methods, header)
    return results, table, markdown


def plot_tsne_features(features: list[dict[str, Any]], options: Mapping[str, Any]):
    """Paper Fig. 5: t-SNE of the shared features of every MTL method, one panel per task."""
    models = [f for f in features if f]
    if not models:
        return message_figure("no MTL model was run")
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
