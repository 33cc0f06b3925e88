"""Nodes of ``foreclassnet_stocks``: thin wrappers over tsmtl.data.earnings and
tsmtl.experiments.foreclassnet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.earnings import earnings_move_windows
from tsmtl.data.preprocessing.splits import observed_future_split
from tsmtl.data.tasks import split_task
from tsmtl.evaluation.paper_tables import foreclassnet_table
from tsmtl.experiments.foreclassnet import (
    RESULT_COLUMNS,
    chronological_split,
    evaluate_methods,
    normalise_by_last_observed,
    summarise,
    table_markdown,
)

log = logging.getLogger(__name__)

SPLITS = {
    "random": "the paper's random split: stratified 80/20, 10 % of train as validation (windows of the same ticker and days can be in train and test)",
    "chronological": "train on earlier releases, test on the latest 20 % (by date), no trading day in both (embargo), validation the latest 10 % of train",
}


def prepare_stock_moves(prices: pd.DataFrame, earnings: pd.DataFrame, options: Mapping[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    """The 40 closes before every release and the first close after it, split both ways.

    Returns ``{split kind: {split: {"observed", "future"}}}`` and a balance table (per split
    kind and split: series, class-1 share, date range).
    """
    lookback = int(options.get("lookback", 40))
    data, events = earnings_move_windows(prices, earnings, lookback=lookback, threshold=float(options.get("threshold", 0.05)))
    log.info("earnings moves: %d windows, skipped %s", data.n_cases, events.attrs.get("skipped"))
    if options.get("normalise", "last_close") == "last_close":
        data = normalise_by_last_observed(data, lookback)
    seed = int(options.get("seed", 0))
    kinds = list(options.get("splits") or SPLITS)
    prepared, rows = {}, []
    for kind in kinds:
        if kind == "random":
            splits = split_task({"all": data}, "holdout_80_20_val10", seed=seed)
            dates = {split: events["date"].to_numpy()[np.asarray(part.meta.get("source_index", []), dtype=int)] if "source_index" in part.meta else None for split, part in splits.items()}
        elif kind == "chronological":
            splits = chronological_split(data, events["date"].to_numpy(), embargo_days=int(options.get("embargo_days", 70)))
            dates = {split: None for split in splits}
        else:
            raise ValueError(f"unknown split kind {kind!r}; choose from {list(SPLITS)}")
        prepared[kind] = {}
        for split, part in splits.items():
            observed, future = observed_future_split(part, 1)
            prepared[kind][split] = {"observed": observed, "future": future}
            rows.append(
                {
                    "split_kind": kind, "split": split, "n_series": part.n_cases, "class_1_share": float(np.mean(part.y == 1)),
                    "first_date": part.meta.get("first_date", "" if dates[split] is None else str(pd.Timestamp(dates[split].min()).date())),
                    "last_date": part.meta.get("last_date", "" if dates[split] is None else str(pd.Timestamp(dates[split].max()).date())),
                }
            )  # fmt: skip
    return prepared, pd.DataFrame(rows)


def compare_on_stocks(prepared: Mapping[str, Any], options: Mapping[str, Any], device: str) -> pd.DataFrame:
    """Every method (trained on the 40 observed closes only) and the majority class, both splits."""
    settings = {**dict(options), "inputs": ["observed"]}  # the full series would hold the answer
    frames = [evaluate_methods(f"11-{kind}", data, settings, device=device, checkpoint_dir=options.get("checkpoint_dir"))[0] for kind, data in prepared.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)


def _paper_table_11() -> pd.DataFrame:
    """Table 11 on our one column: the 80,000-series number where the paper has it, else the 10,000 subset's."""
    paper = foreclassnet_table("11")
    out = pd.DataFrame(index=paper.index)
    for metric in ("accuracy", "f1_macro"):
        out[("observed", metric)] = paper[("all", metric)].fillna(paper[("subset", metric)])
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["column", "metric"])
    return out


def report_stocks(results: pd.DataFrame, balance: pd.DataFrame, options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """Table 11 for both splits, with the class balance and the majority-class baseline."""
    results = results.copy()
    results["table"] = results["table"].astype(str)
    kinds = [t.split("-", 1)[1] for t in dict.fromkeys(results["table"])]
    summary = summarise(results, {f"11-{kind}": _paper_table_11() for kind in kinds})
    total = balance[balance["split"].isin(["train", "val", "test"])].groupby("split_kind")["n_series"].sum()
    lines = [
        "# ForeClassNet, Section 5.2: stock moves after quarterly earnings (Table 11)",
        "",
        f"- profile: {options.get('profile', 'paper')}; seeds {list(options.get('seeds', [0]))}; {options.get('lookback', 40)} daily adjusted closes before each release, class 1 when the first close after it is >= {100 * float(options.get('threshold', 0.05)):g} % above the last close (before/after-market release times respected)",
        "- data: the shared S&P 500 prices (505 tickers, 2013-2018) with their earnings dates, not the paper's 7,786 stocks; every window divided by its last observed close (our choice)",
        *[f"- {kind} split ({SPLITS[kind]}): {int(total.get(kind, 0)):,} series; " + ", ".join(f"{r['split']} {r['n_series']:,} ({100 * r['class_1_share']:.1f} % class 1{', ' + r['first_date'] + ' to ' + r['last_date'] if r['first_date'] else ''})" for _, r in balance[balance['split_kind'] == kind].iterrows()) for kind in kinds],
        "- every method sees only the 40 observed closes; cells: test mean ± std over seeds [the paper's number: ForeClassNet and Inception trained on 80,000 series, the others on a balanced 10,000]",
        *[f"- {note}" for note in options.get("notes") or []],
        "",
    ]
    body = [table_markdown(summary, f"11-{kind}", f"Stock moves after earnings, {kind} split.", {"observed": "(40 closes)"}) for kind in kinds]
    return summary, "\n".join(lines) + "\n" + "\n".join(body)
