"""Result tables: per-task accuracy, ranks and average rank beside a paper's numbers.

* :func:`accuracy_rank_table` -- one score per (task, method): Table I of the ResNet2D paper.
* :func:`repeated_accuracy_table` -- several split seeds per (task, method): mean +- std per
  cell, the average rank of every split and its spread (issue #10).
* :func:`pairwise_wilcoxon_holm` -- which methods differ over the tasks: Wilcoxon signed-rank
  p-values with Holm's step-down correction (the test behind a critical-difference diagram).
* :func:`accuracy_markdown` -- any of these tables as Markdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsmtl.evaluation.metrics import average_ranks


def accuracy_rank_table(
    results: pd.DataFrame,
    methods: list[str] | tuple[str, ...],
    paper: pd.DataFrame | None = None,
    rank_decimals: int | None = 2,
) -> tuple[pd.DataFrame, pd.Series, pd.Series | None]:
    """Per-task accuracy and rank of every method, and the average rank.

    Parameters
    ----------
    results : DataFrame
        Long rows with columns ``group``, ``task``, ``method``, ``accuracy``.
    methods : sequence of str
        Column order; methods with no result are left out.
    paper : DataFrame, optional
        Published accuracies indexed by (group, task), one column per method
        (e.g. :func:`tsmtl.evaluation.paper_tables.resnet2d_table_i`).
    rank_decimals : int or None
        Round accuracies to this many decimals before ranking, as the paper's
        table does (its ties, e.g. 0.80 and 0.80, share the average rank).

    Returns
    -------
    table : DataFrame indexed by (group, task)
        Columns ``<method>`` (accuracy), ``<method> rank`` and, where the paper
        has the task, ``<method> (paper)``.
    average_rank : Series indexed by method
        Over the tasks where every listed method has a result.
    paper_average_rank : Series or None
        The paper's average rank recomputed on the same tasks and methods
        (so the two rank rows compare like with like).
    """
    wide = results.pivot_table(index=["group", "task"], columns="method", values="accuracy", aggfunc="first")
    methods = [m for m in methods if m in wide.columns]
    wide = wide[methods]
    complete = wide.dropna()
    scored = complete.round(rank_decimals) if rank_decimals is not None else complete
    ranks, average = average_ranks(scored) if len(complete) else (pd.DataFrame(), pd.Series(dtype=float))
    table = wide.copy()
    for method in methods:
        table[f"{method} rank"] = ranks[method] if len(ranks) else np.nan
    paper_average = None
    if paper is not None:
        for method in methods:
            if method in paper.columns:
                table[f"{method} (paper)"] = paper[method].reindex(table.index)
        shared = [m for m in methods if m in paper.columns]
        on_tasks = paper.reindex(complete.index)[shared].dropna()
        if len(on_tasks) and shared:
            paper_average = average_ranks(on_tasks)[1]
    return table, average, paper_average


def repeated_accuracy_table(
    results: pd.DataFrame,
    methods: list[str] | tuple[str, ...],
    paper: pd.DataFrame | None = None,
    rank_decimals: int | None = 2,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None]:
    """Table I over repeated splits: mean and std of every cell, and the spread of the average rank.

    Parameters
    ----------
    results : DataFrame
        Long rows with ``split_seed``, ``group``, ``task``, ``method``, ``accuracy``.
    methods, paper, rank_decimals
        As :func:`accuracy_rank_table`.

    Returns
    -------
    table : DataFrame indexed by (group, task)
        :func:`accuracy_rank_table` of the mean accuracies (``<method>`` the mean over split
        seeds, ``<method> rank`` its rank, ``<method> (paper)``) plus ``<method> std`` (sample
        std over split seeds, NaN with one seed) and ``n_splits``.
    ranks : DataFrame indexed by method
        ``of_means`` (the average rank of the mean accuracies), ``mean`` and ``std`` of the
        per-split average ranks (each split ranks the methods on its own accuracies, over the
        tasks where every method has a result), and ``per_split`` (a dict seed -> rank).
    paper_average_rank : Series or None
    """
    if "split_seed" not in results:
        results = results.assign(split_seed=0)
    keys = ["group", "task", "method"]
    means = results.groupby(keys, as_index=False)["accuracy"].mean()
    table, of_means, paper_average = accuracy_rank_table(means, methods, paper, rank_decimals)
    methods = [m for m in methods if m in table.columns]
    spread = results.pivot_table(index=["group", "task"], columns="method", values="accuracy", aggfunc="std")
    for method in methods:
        table[f"{method} std"] = spread[method].reindex(table.index) if method in spread else np.nan
    table["n_splits"] = results.groupby(["group", "task"])["split_seed"].nunique().reindex(table.index)
    per_split = {}
    for seed, rows in results.groupby("split_seed"):
        wide = rows.pivot_table(index=["group", "task"], columns="method", values="accuracy", aggfunc="first")
        complete = wide.reindex(columns=methods).dropna()
        if len(complete):
            scored = complete.round(rank_decimals) if rank_decimals is not None else complete
            per_split[seed] = average_ranks(scored)[1]
    split_ranks = pd.DataFrame(per_split).T.reindex(columns=methods)
    ranks = pd.DataFrame(
        {
            "of_means": of_means.reindex(methods),
            "mean": split_ranks.mean(axis=0),
            "std": split_ranks.std(axis=0, ddof=1) if len(split_ranks) > 1 else np.nan,
        }
    )
    ranks["per_split"] = [split_ranks[m].round(3).to_dict() for m in methods]
    return table, ranks, paper_average


def pairwise_wilcoxon_holm(scores: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Two-sided Wilcoxon signed-rank test of every pair of methods over the tasks, Holm-corrected.

    The test the field uses to compare classifiers over many datasets (Demsar 2006; Benavoli et
    al. 2016): the tasks are the samples. ``scipy.stats.wilcoxon`` per pair, then Holm's
    step-down adjustment over all pairs (``statsmodels``' ``multipletests``; the adjusted p-values are the ones to compare with
    ``alpha``).

    Parameters
    ----------
    scores : DataFrame, tasks x methods
        One score per task and method (e.g. the mean accuracy over split seeds); tasks with a
        missing score are dropped.
    alpha : float

    Returns
    -------
    DataFrame with columns ``method_a``, ``method_b``, ``n_tasks``, ``wins_a``, ``wins_b``,
    ``p_value``, ``p_holm``, ``significant`` (``p_holm < alpha``); one row per pair.
    """
    from scipy.stats import wilcoxon
    from statsmodels.stats.multitest import multipletests

    scores = scores.dropna()
    methods = list(scores.columns)
    rows = []
    for i, a in enumerate(methods):
        for b in methods[i + 1 :]:
            diff = scores[a].to_numpy() - scores[b].to_numpy()
            p = 1.0 if not np.any(diff != 0) else float(wilcoxon(scores[a], scores[b], zero_method="wilcox").pvalue)
            rows.append({"method_a": a, "method_b": b, "n_tasks": len(diff), "wins_a": int((diff > 0).sum()),
                         "wins_b": int((diff < 0).sum()), "p_value": p})  # fmt: skip
    out = pd.DataFrame(rows, columns=["method_a", "method_b", "n_tasks", "wins_a", "wins_b", "p_value"])
    out["p_holm"] = multipletests(out["p_value"], method="holm")[1] if len(out) else []
    out["significant"] = out["p_holm"] < alpha
    return out


def accuracy_markdown(
    table: pd.DataFrame,
    average: pd.Series,
    paper_average: pd.Series | None,
    methods: list[str] | tuple[str, ...],
    header_lines: list[str] | None = None,
    average_std: pd.Series | None = None,
) -> str:
    """The table as Markdown: ``acc (rank) [paper acc]`` per cell, then the average ranks.

    With ``<method> std`` columns (:func:`repeated_accuracy_table`) a cell reads
    ``mean ± std (rank) [paper]``; ``average_std`` adds ``± std`` to the average ranks.
    """
    methods = [m for m in methods if m in table.columns]
    lines = list(header_lines or [])
    if lines:
        lines.append("")
    lines.append("| Group | Task | " + " | ".join(methods) + " |")
    lines.append("|---|---|" + "---|" * len(methods))
    for (group, task), row in table.iterrows():
        cells = []
        for method in methods:
            value = row[method]
            cell = "—" if pd.isna(value) else f"{value:.2f}"
            std = row.get(f"{method} std")
            if std is not None and not pd.isna(std) and not pd.isna(value):
                cell += f" ± {std:.2f}"
            rank = row.get(f"{method} rank")
            if rank is not None and not pd.isna(rank):
                cell += f" ({rank:.1f})"
            paper = row.get(f"{method} (paper)")
            if paper is not None and not pd.isna(paper):
                cell += f" [{paper:.2f}]"
            cells.append(cell)
        lines.append(f"| {group} | {task} | " + " | ".join(cells) + " |")
    def rank_cell(method: str) -> str:
        text = f"{average.get(method, np.nan):.2f}"
        if average_std is not None and not pd.isna(average_std.get(method, np.nan)):
            text += f" ± {average_std[method]:.2f}"
        return f"**{text}**"

    lines.append("| **Average rank** | | " + " | ".join(rank_cell(m) for m in methods) + " |")
    if paper_average is not None:
        lines.append(
            "| Average rank (paper, same tasks) | | "
            + " | ".join("—" if m not in paper_average else f"{paper_average[m]:.2f}" for m in methods)
            + " |"
        )
    lines.append("")
    has_paper = any(f"{m} (paper)" in table.columns and table[f"{m} (paper)"].notna().any() for m in methods)
    legend = "Cells: test accuracy (rank among the methods on that task)"
    if any(f"{m} std" in table.columns and table[f"{m} std"].notna().any() for m in methods):
        legend = "Cells: mean ± std of the test accuracy over the split seeds (rank of the mean among the methods)"
    lines.append(legend + (" [the paper's Table I accuracy]." if has_paper else "; these tasks are not in the paper's Table I."))
    return "\n".join(lines) + "\n"
