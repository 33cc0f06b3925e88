"""Nodes of ``ucr_mtl``: thin wrappers over tsmtl.data, tsmtl.experiments.ucr_mtl and
tsmtl.evaluation. The methods (Table I's columns) come from ``ucr_mtl.methods`` in YAML, the split
seeds from ``ucr_mtl.split_seeds``, the parallelism from ``ucr_mtl.fanout``."""

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
from tsmtl.data.tasks import describe_protocol, split_tasks  # noqa: E402
from tsmtl.evaluation.paper_tables import resnet2d_table_i  # noqa: E402
from tsmtl.evaluation.plots import critical_difference_figure, message_figure  # noqa: E402
from tsmtl.evaluation.reports import (  # noqa: E402
    accuracy_markdown,
    pairwise_wilcoxon_holm,
    repeated_accuracy_table,
)
from tsmtl.experiments.ucr_mtl import (  # noqa: E402
    Groups,
    UCRMethod,
    parse_methods,
    plan_runs,
    run_experiment,
    select_methods,
)
from tsmtl.parallel import FanOut  # noqa: E402
from tsmtl.training.fit import TrainingConfig  # noqa: E402

log = logging.getLogger(__name__)

def _methods(options: Mapping[str, Any]) -> list[UCRMethod]:
    return select_methods(parse_methods(options["methods"], options.get("backbones")), options.get("select"))


def select_groups(tasks: Mapping[str, Any], groups: Mapping[str, list[str]], options: Mapping[str, Any]) -> Groups:
    """``{group: {task: raw parts}}`` for the groups in ``options["groups"]`` (None: all), tasks present only."""
    _methods(options)  # fail before any work on a bad method list
    FanOut.from_params(options.get("fanout"))
    split_seeds(options, {})
    chosen = options.get("groups") or list(groups)
    unknown = [g for g in chosen if g not in groups]
    if unknown:
        raise ValueError(f"unknown groups {unknown}; the groups are {list(groups)}")
    out: Groups = {}
    for group in chosen:
        present = {task: tasks[task] for task in groups[group] if task in tasks}
        missing = [task for task in groups[group] if task not in tasks]
        if missing:
            log.warning("group %s: tasks %s are not in the ingested data (skipped)", group, missing)
        if present:
            out[group] = present
        else:
            log.warning("group %s: no task present, group skipped", group)
    if not out:
        raise ValueError(f"none of the groups {chosen} has a task in the ingested data ({sorted(tasks)})")
    return out


def split_seeds(options: Mapping[str, Any], split: Mapping[str, Any]) -> list[int]:
    """``options["split_seeds"]`` (a list of distinct ints), or the one seed of the ingest's ``split``."""
    seeds = options.get("split_seeds")
    if seeds is None:
        return [int(split.get("seed", 0))]
    if isinstance(seeds, (int, str)) or not len(seeds):
        raise ValueError(f"split_seeds must be a non-empty list of ints (or null), got {seeds!r}")
    seeds = [int(seed) for seed in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"split_seeds are repeated: {seeds}")
    return seeds


def split_groups(groups: Groups, split: Mapping[str, Any], options: Mapping[str, Any]) -> dict[int, Groups]:
    """``{split_seed: {group: {task: {"train", "val", "test"}}}}``: the ingest's protocol (``ucr.split``) once per seed."""
    protocol, val_fraction = split.get("protocol", "merge_60_20_20"), float(split.get("val_fraction", 0.0))
    return {
        seed: {group: split_tasks(tasks, protocol=protocol, seed=seed, val_fraction=val_fraction) for group, tasks in groups.items()}
        for seed in split_seeds(options, split)
    }


def feed_groups(groups_by_seed: Mapping[int, Groups], feeding: Mapping[str, Any] | None) -> dict[int, Groups]:
    """Apply the feeding options (gaps, z-normalisation, length policy) to every split of every seed."""
    options = FeedingOptions.from_params(feeding)
    log.info("feeding: %s", options.describe())
    return {
        seed: {group: feed_task_splits(tasks, options) for group, tasks in groups.items()}
        for seed, groups in groups_by_seed.items()
    }


def _tsne_group(groups: Groups, options: Mapping[str, Any]) -> str | None:
    """The group whose features are plotted: ``tsne.group`` (paper: SemgHand) or the first with >1 task."""
    wanted = (options.get("tsne") or {}).get("group", "SemgHand")
    if wanted in groups:
        return wanted
    fallback = next((g for g, tasks in groups.items() if len(tasks) > 1), next(iter(groups), None))
    log.info("t-SNE: group %s not run, plotting %s instead", wanted, fallback)
    return fallback


def run_methods(
    groups_by_seed: Mapping[int, Groups], options: Mapping[str, Any], device: str
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """Every method (1NN-DTW, ResNet1D/2D with and without MTL, any added in YAML) on every split seed.

    The fits are fanned out as ``options["fanout"]`` says (:mod:`tsmtl.parallel`). Returns the
    long results; for every multitask method, the test-split features of the t-SNE group on the
    first split seed (paper Fig. 5); and the fitted multitask models of the first split seed,
    ``{method: {group: record}}`` (best weights and what rebuilds each model,
    :func:`tsmtl.training.saved_models.model_record`; saved as ``ucr_mtl_state_dicts``).
    """
    first = next(iter(groups_by_seed.values()))
    runs = plan_runs(
        groups_by_seed,
        _methods(options),
        TrainingConfig.from_params(options.get("training")),
        device=device,
        seed=int(options.get("seed", 0)),
        checkpoint_dir=options.get("checkpoint_dir", "data/06_models/ucr_mtl"),
        resume=bool(options.get("resume", True)),
        features_group=_tsne_group(first, options),
    )
    return run_experiment(runs, FanOut.from_params(options.get("fanout")))


def _mean_scores(results: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Tasks x methods: the mean test accuracy over split seeds, methods in configured order."""
    wide = results.pivot_table(index=["group", "task"], columns="method", values="accuracy", aggfunc="mean")
    return wide[[m.name for m in _methods(options) if m.name in wide.columns]]


def build_accuracy_report(
    results: pd.DataFrame, groups_by_seed: Mapping[int, Groups], options: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Table I for the groups run: mean ± std over split seeds, ranks, their spread, the paper's numbers.

    Returns the long results (all methods, all split seeds), the wide table (CSV) and the
    Markdown text; both tables state the feeding options and the profile, the Markdown also the
    split protocol and seeds recorded in the splits, the average rank of every split (mean ±
    std) and the pairwise Wilcoxon signed-rank tests with Holm's correction over the tasks.
    Columns follow the order of ``methods``; a method named like a Table I column is printed
    beside the paper's numbers.
    """
    if results.empty:
        raise ValueError("no method produced results (check ucr_mtl.methods)")
    methods = [m.name for m in _methods(options)]
    feeding = FeedingOptions.from_params(options.get("feeding")).describe()
    training = options.get("training", {})
    decimals = options.get("rank_decimals", 2)
    alpha = float(options.get("alpha", 0.05))
    table, ranks, paper_average = repeated_accuracy_table(results, methods, resnet2d_table_i(), decimals)
    seeds = sorted(groups_by_seed)
    first = groups_by_seed[seeds[0]]
    table = table.reset_index()
    table.insert(0, "feeding", feeding)
    seconds = results.drop_duplicates(["split_seed", "method", "fit"]).groupby("method")["seconds"].sum().round(1).to_dict()
    header = [
        f"# {options.get('title', 'ResNet2D multitask TSC: test accuracy')}",
        "",
        f"- profile: {options.get('profile', 'paper')}; training: {dict(training)}",
        f"- feeding: {feeding}",
        f"- split: {describe_protocol({t: sp for tasks in first.values() for t, sp in tasks.items()})}; split seeds {seeds} "
        f"(training seed {int(options.get('seed', 0))} + split seed); best epoch by validation accuracy",
        f"- ranks on accuracies rounded to {decimals} decimals (as the paper's table)"
        + ("; the average rank is the mean ± std over split seeds of each split's average rank" if len(seeds) > 1 else ""),
        f"- fit time (s) per method, summed over the fits (a fit resumed from a finished checkpoint only evaluates): {seconds}",
    ]
    average_std = ranks["std"] if len(seeds) > 1 else None
    markdown = accuracy_markdown(table.set_index(["group", "task"]), ranks["mean"], paper_average, methods, header, average_std)
    markdown += _significance_markdown(_mean_scores(results, options), alpha)
    return results, table, markdown


def _significance_markdown(scores: pd.DataFrame, alpha: float) -> str:
    complete = scores.dropna()
    if complete.shape[0] < 2 or complete.shape[1] < 2:
        return "\nNo significance test: it needs at least two tasks and two methods.\n"
    tests = pairwise_wilcoxon_holm(complete, alpha)
    lines = [
        "",
        f"## Pairwise Wilcoxon signed-rank tests over the {len(complete)} tasks (mean accuracy per task), Holm-corrected",
        "",
        "| A | B | wins A | wins B | p | p (Holm) | A ≠ B at α = " + f"{alpha:g} |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in tests.itertuples():
        lines.append(
            f"| {row.method_a} | {row.method_b} | {row.wins_a} | {row.wins_b} | {row.p_value:.3f} | {row.p_holm:.3f} | "
            f"{'yes' if row.significant else 'no'} |"
        )
    if len(complete) < 6:
        lines += ["", f"With {len(complete)} tasks the two-sided test cannot reach p < 0.05 (its smallest p is 2/2^n)."]
    return "\n".join(lines) + "\n"


def plot_significance(results: pd.DataFrame, options: Mapping[str, Any]):
    """Critical-difference diagram of the methods over the tasks (mean accuracy over split seeds), beside Table I."""
    scores = _mean_scores(results, options)
    seeds = results["split_seed"].nunique()
    alpha = float(options.get("alpha", 0.05))
    return critical_difference_figure(
        scores, alpha, title=f"Average rank over {len(scores.dropna())} tasks, mean accuracy of {seeds} splits "
        f"(bars: no significant difference, Wilcoxon-Holm, alpha {alpha:g})",
    )  # fmt: skip


def plot_tsne_features(features: list[dict[str, Any]], seed: int):
    """Paper Fig. 5: t-SNE of the shared features of every MTL method, one panel per task (``seed``: ``ucr_mtl.seed``)."""
    models = [f for f in features if f]
    if not models:
        return message_figure("no MTL model was run")
    n_tasks = max(len(m["tasks"]) for m in models)
    fig, axes = plt.subplots(len(models), n_tasks, figsize=(4 * n_tasks, 4 * len(models)), squeeze=False)
    seed = int(seed)
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
