"""Thin nodes shared by several pipelines (each one calls the library)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.recipes import random_missing, smote_oversample
from tsmtl.data.preprocessing.splits import observed_future_split
from tsmtl.data.tasks import describe_splits, split_tasks
from tsmtl.data.types import TimeSeriesData

log = logging.getLogger(__name__)


def select_tasks(archive: Mapping[str, Any], names: Collection[str]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Load the ``names`` present in ``archive``; report (and log) the absent ones.

    ``names`` is a list, or ``{group: [names]}`` (the ResNet2D paper's groups). It is annotated
    ``Collection[str]`` (both are) rather than a union, which Kedro's parameter validation warns
    about on every run (issue #11).
    Returns the loaded ``{name: {"train", "test"}}`` and a table
    ``group, task, present, splits`` so a run says what it could not find.
    """
    groups = dict(names) if isinstance(names, Mapping) else {"": list(names)}
    group_of = {name: group for group, members in groups.items() for name in members}
    names = list(group_of)
    available = set(archive.names) if hasattr(archive, "names") else set(archive)
    tasks, rows = {}, []
    for name in names:
        present = name in available
        if present:
            tasks[name] = archive[name]
        else:
            log.warning("dataset %s is not in %s: skipped (see the download pipelines)", name, getattr(archive, "root", "the archive"))
        rows.append({"group": group_of[name], "task": name, "present": present, "splits": ",".join(sorted(tasks[name])) if present else ""})
    if not tasks:
        raise FileNotFoundError(f"none of {names} found in {getattr(archive, 'root', archive)}")
    return tasks, pd.DataFrame(rows)


def split_task_group(tasks: Mapping[str, Mapping[str, TimeSeriesData]], split: dict[str, Any]) -> dict:
    """Apply a split protocol (``split: {protocol, seed, val_fraction}``) to every task."""
    return split_tasks(
        tasks,
        protocol=split.get("protocol", "merge_60_20_20"),
        seed=int(split.get("seed", 0)),
        val_fraction=float(split.get("val_fraction", 0.0)),
    )


def report_splits(splits: Mapping[str, Mapping[str, TimeSeriesData]]) -> pd.DataFrame:
    """The per-(task, split) summary table written to 08_reporting."""
    return describe_splits(splits)


def prepare_forecast_classify(
    splits: Mapping[str, Mapping[str, TimeSeriesData]], options: dict[str, Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """ForeClassNet input: optional SMOTE on train only, then observed/future split.

    ``options``: ``horizon`` (points moved to the forecast target), ``smote``
    (bool), ``seed``. Returns ``{task: {split: {"observed": TimeSeriesData,
    "future": ndarray (n_cases, n_channels, horizon)}}}``.
    """
    horizon = int(options["horizon"])
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for task, parts in splits.items():
        out[task] = {}
        for split, data in parts.items():
            if split == "train" and options.get("smote", False):
                before = np.unique(data.y, return_counts=True)
                data = smote_oversample(data, seed=int(options.get("seed", 0)))
                log.info("%s: SMOTE on train %s -> %s", task, dict(zip(*before)), dict(zip(*np.unique(data.y, return_counts=True))))
            observed, future = observed_future_split(data, horizon)
            out[task][split] = {"observed": observed, "future": future}
    return out


def report_forecast_classify(prepared: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> pd.DataFrame:
    """Summary of a forecast-then-classify dataset: observed length, horizon, class counts."""
    rows = []
    for task, parts in prepared.items():
        for split, item in parts.items():
            observed, future = item["observed"], item["future"]
            labels, counts = np.unique(observed.y, return_counts=True)
            rows.append(
                {
                    "task": task,
                    "split": split,
                    "n_cases": observed.n_cases,
                    "observed_length": observed.n_timepoints,
                    "horizon": future.shape[-1],
                    "class_counts": ";".join(f"{label}:{count}" for label, count in zip(labels, counts)),
                }
            )
    return pd.DataFrame(rows)


def make_missing_variants(
    splits: Mapping[str, Mapping[str, TimeSeriesData]], options: dict[str, Any]
) -> dict[str, dict[str, TimeSeriesData]]:
    """T-Rep's robustness-to-missing-data inputs (Sec. 4.4): every task at every missing rate.

    ``options``: ``datasets`` (tasks to degrade; default all), ``rates`` (fractions in
    [0, 1)), ``unit`` (``"timestep"`` as T-Rep, or ``"value"``), ``seed``. Every split of
    a task is degraded (T-Rep drops data in train and test alike). Returns
    ``{"<task>@<rate>": {split: TimeSeriesData}}``.
    """
    names = options.get("datasets") or list(splits)
    seed = int(options.get("seed", 0))
    out: dict[str, dict[str, TimeSeriesData]] = {}
    for task in names:
        for rate in options.get("rates", []):
            out[f"{task}@{float(rate):g}"] = {
                split: random_missing(data, float(rate), seed=seed, unit=options.get("unit", "timestep"))
                for split, data in splits[task].items()
            }
    return out
