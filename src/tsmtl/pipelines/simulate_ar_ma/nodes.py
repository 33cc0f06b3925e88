"""Nodes of ``simulate_ar_ma`` (ForeClassNet, Sec. 4: simulated AR / MA classification data)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.synthetic import FORECLASSNET_KINDS, foreclassnet_simulation
from tsmtl.data.types import TimeSeriesData

log = logging.getLogger(__name__)


def simulate_foreclassnet(options: Mapping[str, Any]) -> tuple[dict[str, dict[str, TimeSeriesData]], pd.DataFrame]:
    """Simulate every experiment in ``options["kinds"]`` (ForeClassNet Sec. 4.1-4.4).

    Parameters
    ----------
    options : mapping
        ``params:simulate_ar_ma``: ``kinds`` (keys of
        :data:`tsmtl.data.synthetic.FORECLASSNET_KINDS`), ``n_series`` (paper: 10,000; each of
        the ``k`` classes gets ``n_series // k`` series, so 3,333 per class for the 3-class
        ``ar_mixture``), ``length`` (paper: 50), ``seed``, ``burnin``.
        Every kind uses the same ``seed``, so ``ar_vs_ar_mislabelled`` holds exactly the
        ``ar_vs_ar`` series (the paper's Sec. 4.3 reuses the 4.2 data) plus noisy labels.

    Returns
    -------
    (tasks, report)
        ``tasks``: ``{kind: {"all": TimeSeriesData}}``, ``X`` (n_series, 1, length);
        ``report``: one row per kind (section, processes, n_per_class, n_cases, length).
    """
    kinds = list(options["kinds"])
    unknown = [k for k in kinds if k not in FORECLASSNET_KINDS]
    if unknown:
        raise ValueError(f"unknown simulation kinds {unknown}; choose from {list(FORECLASSNET_KINDS)}")
    n_series = int(options["n_series"])
    tasks, rows = {}, []
    for kind in kinds:
        n_classes = len(FORECLASSNET_KINDS[kind]["classes"])
        n_per_class = n_series // n_classes
        data = foreclassnet_simulation(
            kind,
            n_per_class=n_per_class,
            length=int(options.get("length", 50)),
            seed=int(options.get("seed", 0)),
            burnin=int(options.get("burnin", 100)),
        )
        tasks[kind] = {"all": data}
        rows.append(
            {
                "kind": kind,
                "section": data.meta["section"],
                "class_processes": ";".join(data.meta["class_processes"]),
                "n_per_class": n_per_class,
                "n_cases": data.n_cases,
                "length": data.n_timepoints,
                "mislabel_fraction": data.meta.get("mislabel_fraction", 0.0),
            }
        )
        log.info("%s (Sec. %s): %d series of length %d", kind, data.meta["section"], data.n_cases, data.n_timepoints)
    return tasks, pd.DataFrame(rows)


def use_mislabelled_train_labels(
    tasks: Mapping[str, Mapping[str, TimeSeriesData]],
    splits: Mapping[str, Mapping[str, TimeSeriesData]],
) -> tuple[dict[str, dict[str, TimeSeriesData]], pd.DataFrame]:
    """Train on the noisy labels, validate and test on the clean ones (ForeClassNet Sec. 4.3).

    For every task whose simulated data carries ``meta["y_mislabelled"]`` (the
    ``ar_vs_ar_mislabelled`` experiment: 20 % of all labels switched), the *train* split's
    ``y`` becomes ``y_mislabelled[source_index]``; its clean labels are kept in
    ``meta["y_clean"]``. ``val`` and ``test`` keep the clean labels. Other tasks pass through.

    The splitting protocol drops array-valued meta (``merge_splits`` keeps only plain
    values), so the noisy labels are taken from ``tasks`` and mapped with each split's
    ``meta["source_index"]`` (indices into the single ``"all"`` part); the mapping is checked
    by comparing the series themselves.

    Returns
    -------
    (splits, report)
        The splits with noisy training labels; a table ``task, split, n_cases,
        n_labels_switched`` (0 for clean splits).
    """
    out: dict[str, dict[str, TimeSeriesData]] = {}
    rows = []
    for task, parts in splits.items():
        out[task] = dict(parts)
        raw_parts = tasks[task]
        noisy = next(iter(raw_parts.values())).meta.get("y_mislabelled") if len(raw_parts) == 1 else None
        if noisy is None and any("y_mislabelled" in p.meta for p in raw_parts.values()):
            raise ValueError(f"{task}: noisy labels need a single simulated part, got {sorted(raw_parts)}")
        if noisy is not None:
            raw = next(iter(raw_parts.values()))
            train = parts["train"]
            index = np.asarray(train.meta["source_index"])
            if not np.array_equal(raw.X[index], train.X, equal_nan=True) or not np.array_equal(raw.y[index], train.y):
                raise ValueError(f"{task}: train meta['source_index'] does not point at the simulated cases")
            y_noisy = np.asarray(noisy)[index]
            out[task]["train"] = dataclasses.replace(
                train,
                y=y_noisy,
                meta={**train.meta, "y_clean": train.y.copy(), "label_noise": "ForeClassNet Sec. 4.3: y_mislabelled"},
            )
            log.info("%s: %d of %d training labels switched", task, int((y_noisy != train.y).sum()), train.n_cases)
        for split, data in out[task].items():
            clean = data.meta.get("y_clean", data.y)
            rows.append({"task": task, "split": split, "n_cases": data.n_cases, "n_labels_switched": int((data.y != clean).sum())})
    return out, pd.DataFrame(rows)
