"""Classification tasks: from raw splits to the papers' train/val/test protocols.

A *task* is one labelled dataset (``"CricketX"``); a *task split* is
``{"train": TimeSeriesData, "val": ..., "test": ...}``. Multitask groups are
``{task_name: task_split}``.

Protocols
---------
``"merge_60_20_20"``
    ResNet2D paper Sec. IV-B: merge the archive's TRAIN and TEST, then a
    stratified 60 % / 20 % / 20 % train/validation/test split.
``"holdout_80_20_val10"``
    ForeClassNet Sec. 4: 80 % / 20 % train/test, 10 % of train held out for
    validation (stratified).
``"official"``
    Keep the archive's TRAIN/TEST (T-Rep's UEA protocol); validation is a
    stratified ``val_fraction`` of TRAIN (0 → no validation split).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tsmtl.data.preprocessing.splits import (
    holdout_validation_split,
    merge_splits,
    stratified_split,
)
from tsmtl.data.types import TimeSeriesData

PROTOCOLS = ("merge_60_20_20", "holdout_80_20_val10", "official")

#: What each protocol does, in words (report headers print it).
PROTOCOL_DESCRIPTIONS = {
    "merge_60_20_20": "TRAIN+TEST merged, stratified 60/20/20",
    "holdout_80_20_val10": "merged, stratified 80/20 train/test, 10 % of train as validation",
    "official": "the archive's TRAIN/TEST, validation a stratified part of TRAIN",
}

TaskSplit = dict[str, TimeSeriesData]


def split_task(
    parts: Mapping[str, TimeSeriesData],
    protocol: str = "merge_60_20_20",
    seed: int = 0,
    val_fraction: float = 0.0,
    name: str | None = None,
) -> TaskSplit:
    """Apply ``protocol`` to a task's raw ``{"train": ..., "test": ...}`` parts.

    Parameters
    ----------
    parts : mapping of str to TimeSeriesData
        The archive splits (any keys: ``"train"``, ``"test"``, ``"all"``); the
        merging protocols merge whatever is there, so a missing ``"test"``
        (UWaveGestureLibraryX here has TRAIN only) is fine.
    protocol : str
        One of :data:`PROTOCOLS`.
    seed : int
        Seed of the stratified splits.
    val_fraction : float
        Only for ``"official"``: fraction of TRAIN held out for validation.
    name : str, optional
        The task's name (e.g. the key in a multitask group): the name every error message
        starts with, and the name given to parts that have none. Default: the first
        part's name.

    Returns
    -------
    dict split name -> TimeSeriesData
        Each split's ``meta`` records ``split_protocol`` and ``split_seed``.

    Raises
    ------
    ValueError
        Naming the task: an unknown protocol, no parts, ``"official"`` without TRAIN and
        TEST, a ``val_fraction`` outside [0, 1), and what the stratified splits refuse (a
        class with too few cases, one class only; see
        :func:`~tsmtl.data.preprocessing.splits.stratified_split`).
    """
    label = name or next((part.name for part in parts.values() if part.name), "") or "<unnamed task>"
    if protocol not in PROTOCOLS:
        raise ValueError(f"{label}: unknown split protocol {protocol!r}; choose one of {PROTOCOLS}")
    if not parts:
        raise ValueError(f"{label}: no splits to work on")
    if not 0 <= val_fraction < 1:
        raise ValueError(f"{label}: val_fraction must lie in [0, 1), got {val_fraction}")
    parts = {key: part if part.name else dataclasses.replace(part, name=label) for key, part in parts.items()}
    tag = {"split_protocol": protocol, "split_seed": int(seed)}
    made = _apply_protocol(parts, protocol, seed, val_fraction, label)
    return {key: dataclasses.replace(part, meta={**part.meta, **tag}) for key, part in made.items()}


def _apply_protocol(
    parts: Mapping[str, TimeSeriesData], protocol: str, seed: int, val_fraction: float, label: str
) -> TaskSplit:
    """The splits of :func:`split_task`, before they are tagged with the protocol and seed."""
    name = next(iter(parts.values())).name
    if protocol == "official":
        if "train" not in parts or "test" not in parts:
            raise ValueError(f"{label}: protocol 'official' needs the archive's TRAIN and TEST, got {sorted(parts)}")
        out = {"train": parts["train"], "test": parts["test"]}
        if val_fraction > 0:
            inner = stratified_split(
                parts["train"], fractions=(1 - val_fraction, val_fraction), seed=seed, names=("train", "val")
            )
            out = {"train": inner["train"], "val": inner["val"], "test": parts["test"]}
        return out
    merged = merge_splits(*parts.values(), name=name)
    merged.meta["merged_from"] = list(parts)
    if protocol == "merge_60_20_20":
        return stratified_split(merged, fractions=(0.6, 0.2, 0.2), seed=seed)
    return holdout_validation_split(merged, test_size=0.2, val_size=0.1, seed=seed)


def split_tasks(
    tasks: Mapping[str, Mapping[str, TimeSeriesData]],
    protocol: str = "merge_60_20_20",
    seed: int = 0,
    val_fraction: float = 0.0,
) -> dict[str, TaskSplit]:
    """:func:`split_task` for every task of a group (same protocol and seed); errors name the task."""
    return {name: split_task(parts, protocol, seed, val_fraction, name=name) for name, parts in tasks.items()}


def describe_protocol(splits: Mapping[str, Mapping[str, TimeSeriesData]]) -> str:
    """One line naming the protocol(s) and seed(s) that made ``splits`` (from each split's ``meta``)."""
    made = sorted(
        {(part.meta.get("split_protocol"), part.meta.get("split_seed")) for task in splits.values() for part in task.values()},
        key=str,
    )
    words = []
    for protocol, seed in made:
        if protocol is None:
            words.append("protocol not recorded")
        else:
            words.append(f"{PROTOCOL_DESCRIPTIONS.get(protocol, protocol)}, seed {seed}")
    return "; ".join(words) if words else "no splits"


def describe_splits(splits: Mapping[str, Mapping[str, TimeSeriesData]]) -> pd.DataFrame:
    """One row per (task, split): counts, channels, length range, classes, gaps.

    Columns: task, split, n_cases, n_channels, min_length, max_length,
    equal_length, n_classes, has_gaps (NaN inside a case's true length).
    """
    rows = []
    for task, parts in splits.items():
        for split, data in parts.items():
            inside = np.arange(data.n_timepoints)[None, :] < data.lengths[:, None]
            gaps = bool((~np.isfinite(data.X) & inside[:, None, :]).any())
            rows.append(
                {
                    "task": task,
                    "split": split,
                    "n_cases": data.n_cases,
                    "n_channels": data.n_channels,
                    "min_length": int(data.lengths.min()) if data.n_cases else 0,
                    "max_length": int(data.lengths.max()) if data.n_cases else 0,
                    "equal_length": data.equal_length,
                    "n_classes": int(len(np.unique(data.y))) if data.y is not None else 0,
                    "has_gaps": gaps,
                }
            )
    return pd.DataFrame(rows)
