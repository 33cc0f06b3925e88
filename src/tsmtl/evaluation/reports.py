"""Result tables: per-task accuracy, ranks and average rank beside a paper's numbers."""

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


def accuracy_markdown(
    table: pd.DataFrame,
    average: pd.Series,
    paper_average: pd.Series | None,
    methods: list[str] | tuple[str, ...],
    header_lines: list[str] | None = None,
) -> str:
    """The table as Markdown: ``acc (rank) [paper acc]`` per cell, then the average ranks."""
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
            rank = row.get(f"{method} rank")
            if rank is not None and not pd.isna(rank):
                cell += f" ({rank:.1f})"
            paper = row.get(f"{method} (paper)")
            if paper is not None and not pd.isna(paper):
                cell += f" [{paper:.2f}]"
            cells.append(cell)
        lines.append(f"| {group} | {task} | " + " | ".join(cells) + " |")
    lines.append("| **Average rank** | | " + " | ".join(f"**{average.get(m, np.nan):.2f}**" for m in methods) + " |")
    if paper_average is not None:
        lines.append(
            "| Average rank (paper, same tasks) | | "
            + " | ".join("—" if m not in paper_average else f"{paper_average[m]:.2f}" for m in methods)
            + " |"
        )
    lines.append("")
    has_paper = any(f"{m} (paper)" in table.columns and table[f"{m} (paper)"].notna().any() for m in methods)
    legend = "Cells: test accuracy (rank among the methods on that task)"
    lines.append(legend + (" [the paper's Table I accuracy]." if has_paper else "; these tasks are not in the paper's Table I."))
    return "\n".join(lines) + "\n"
