"""The ResNet2D paper's Table I experiment as data: methods from config, run over task groups.

A method is one YAML entry (ResNet2D paper, Sec. IV-B; the five of Table I are five entries)::

    - {id: 1nn_dtw, name: 1NN-DTW, kind: 1nn_dtw, params: {window: null, n_jobs: -1}}
    - {id: resnet1d, name: ResNet1D, backbone: resnet1d, multitask: false}
    - {id: resnet2d_mtl, name: ResNet2D w/ MTL, backbone: resnet2d, multitask: true,
       sharing: hard, weighting: equal}

``kind: network`` (the default) trains a model from the registries: ``backbone`` (its
parameters from the experiment's ``backbones`` block, overridable per method with
``backbone_params``), ``sharing`` and ``weighting`` (with ``sharing_params`` and
``weighting_params``). ``multitask: false`` fits one model per task (standard mini-batch
training); ``true`` fits one model per group with the paper's Algorithm 2. ``kind: 1nn_dtw`` is
1NN-DTW (:mod:`tsmtl.models.dtw_1nn`, aeon's predictions exactly, faster). A sixth method -- another backbone, sharing or weighting -- is one more entry.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation.metrics import accuracy
from tsmtl.models.baselines import one_nn_dtw
from tsmtl.training.fit import MethodConfig, MultiTaskFit, TrainingConfig, fit_task_group
from tsmtl.training.multitask import extract_features
from tsmtl.training.tensors import to_tensors

log = logging.getLogger(__name__)

#: ``{group: {task: {"train", "val", "test"}}}``
Groups = dict[str, dict[str, dict[str, TimeSeriesData]]]

METHOD_KINDS = ("network", "1nn_dtw")
#: `fit` names the training run a row comes from (the task, or the group for MTL); `seconds` is
#: that run's wall time; `epochs_run` is 0 when a finished checkpoint was resumed.
RESULT_COLUMNS = [
    "group", "task", "method", "fit", "accuracy", "val_accuracy", "best_epoch", "epochs_run",
    "seconds_per_epoch", "seconds", "n_train",
]  # fmt: skip


@dataclass(frozen=True)
class UCRMethod:
    """One column of the Table I experiment (see the module docstring)."""

    id: str
    name: str
    kind: str = "network"
    multitask: bool = False
    config: MethodConfig | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """Checkpoint sub-folder: the id, made filesystem-safe."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.id)


def parse_methods(entries: Sequence[Mapping[str, Any]], backbones: Mapping[str, Any] | None = None) -> list[UCRMethod]:
    """:class:`UCRMethod` of every YAML entry; ``backbones`` holds each backbone's default parameters.

    Raises
    ------
    ValueError
        A duplicate id or name, an unknown kind or key, or a network method without a backbone.
    """
    backbones = dict(backbones or {})
    methods, seen = [], set()
    for entry in entries:
        if isinstance(entry, str):
            raise ValueError(f"method {entry!r}: methods are mappings {{id, name, ...}} (see conf/base/parameters_ucr_mtl.yml)")
        entry = dict(entry)
        kind = entry.pop("kind", "network")
        if kind not in METHOD_KINDS:
            raise ValueError(f"method {entry.get('name')!r}: unknown kind {kind!r}; use one of {METHOD_KINDS}")
        name = str(entry.pop("name", "") or entry.get("id", ""))
        method_id = str(entry.pop("id", "") or name)
        if not name or not method_id:
            raise ValueError(f"a method needs a name or an id, got {entry}")
        if method_id in seen or name in seen:
            raise ValueError(f"method {name!r} ({method_id}) is listed twice")
        seen.update({method_id, name})
        multitask = bool(entry.pop("multitask", False))
        params = dict(entry.pop("params", {}) or {})
        config = None
        if kind == "network":
            if "backbone" not in entry:
                raise ValueError(f"method {name!r}: a network method needs a backbone")
            entry.setdefault("backbone_params", backbones.get(entry["backbone"], {}))
            try:
                config = MethodConfig.from_params(entry)
            except ValueError as error:
                raise ValueError(f"method {name!r}: {error}") from error
        elif entry:
            raise ValueError(f"method {name!r}: unknown keys {sorted(entry)} for kind {kind}")
        methods.append(UCRMethod(id=method_id, name=name, kind=kind, multitask=multitask, config=config, params=params))
    if not methods:
        raise ValueError("no methods given")
    return methods


def select_methods(methods: Sequence[UCRMethod], select: Sequence[str] | str | None) -> list[UCRMethod]:
    """The methods whose id or name is in ``select`` (None: all), in the configured order.

    ``select`` may be a list, or one string of ids separated by spaces (Kedro's ``--params``
    splits its value at commas, so ``--params "ucr_mtl.select=1nn_dtw resnet2d_mtl"``).
    """
    if not select:
        return list(methods)
    if isinstance(select, str):
        select = select.split()
    known = {m.id for m in methods} | {m.name for m in methods}
    unknown = [s for s in select if s not in known]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; configured: {[m.id for m in methods]}")
    return [m for m in methods if m.id in select or m.name in select]


def _row(group: str, task: str, method: UCRMethod, fit: str, **values: Any) -> dict[str, Any]:
    return {"group": group, "task": task, "method": method.name, "fit": fit, **values}


def run_one_nn_dtw(groups: Groups, method: UCRMethod) -> pd.DataFrame:
    """1NN-DTW (:func:`tsmtl.models.baselines.one_nn_dtw`, the project's kernel with aeon's predictions) on every task (train split as the reference set), scored on test and val."""
    window, n_jobs = method.params.get("window"), int(method.params.get("n_jobs", 1))
    unknown = sorted(set(method.params) - {"window", "n_jobs"})
    if unknown:
        raise ValueError(f"method {method.name!r}: unknown 1nn_dtw params {unknown}; use window, n_jobs")
    rows = []
    for group, tasks in groups.items():
        for task, split in tasks.items():
            started = time.perf_counter()
            test_pred = one_nn_dtw(split["train"], split["test"], window=window, n_jobs=n_jobs)
            val_pred = one_nn_dtw(split["train"], split["val"], window=window, n_jobs=n_jobs)
            rows.append(
                _row(
                    group, task, method, task,
                    accuracy=accuracy(split["test"].y, test_pred),
                    val_accuracy=accuracy(split["val"].y, val_pred),
                    best_epoch=np.nan, epochs_run=0, seconds_per_epoch=np.nan,
                    seconds=time.perf_counter() - started, n_train=split["train"].n_cases,
                )
            )  # fmt: skip
            log.info("%s %s/%s: %.3f", method.name, group, task, rows[-1]["accuracy"])
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _fit_rows(group: str, method: UCRMethod, fit: MultiTaskFit, seconds: float, tasks: Mapping[str, Any], run: str) -> list[dict[str, Any]]:
    return [
        _row(
            group, task, method, run,
            accuracy=fit.score("test", "accuracy", task), val_accuracy=fit.score("val", "accuracy", task),
            best_epoch=fit.best_epoch, epochs_run=fit.epochs_run, seconds_per_epoch=fit.seconds_per_epoch,
            seconds=seconds, n_train=tasks[task]["train"].n_cases,
        )
        for task in tasks
    ]  # fmt: skip


def run_network(
    groups: Groups,
    method: UCRMethod,
    training: TrainingConfig,
    *,
    device: str,
    seed: int,
    checkpoint_dir: str | Path | None,
    resume: bool,
    features_group: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit ``method`` on every task (``multitask: false``) or every group (``true``) and score it.

    Returns
    -------
    results : DataFrame with :data:`RESULT_COLUMNS`
    features : dict
        For a multitask method, the shared test-split features of ``features_group``:
        ``{"group", "method", "tasks": {task: {"features": (n, D), "labels": (n,)}}}``; else {}.
    """
    rows, features = [], {}
    runs = [(group, {task: split}, task) for group, tasks in groups.items() for task, split in tasks.items()]
    if method.multitask:
        runs = [(group, tasks, group) for group, tasks in groups.items()]
    for group, tasks, run in runs:
        started = time.perf_counter()
        fit = fit_task_group(
            tasks,
            method.config,
            training,
            device=device,
            seed=seed,
            checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir) / method.folder / run,
            resume=resume,
        )
        seconds = time.perf_counter() - started
        rows += _fit_rows(group, method, fit, seconds, tasks, run)
        log.info(
            "%s %s: test %s (best epoch %d, %.2fs/epoch)",
            method.name, run, {t: round(fit.score("test", "accuracy", t), 3) for t in tasks}, fit.best_epoch, fit.seconds_per_epoch,
        )  # fmt: skip
        if method.multitask and group == features_group:
            features = {
                "group": group,
                "method": method.name,
                "tasks": {
                    t: {"features": extract_features(fit.model, to_tensors(s["test"]), task=t, batch_size=training.eval_batch_size), "labels": s["test"].y}
                    for t, s in tasks.items()
                },
            }
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), features


__all__ = ["METHOD_KINDS", "RESULT_COLUMNS", "UCRMethod", "parse_methods", "run_network", "run_one_nn_dtw", "select_methods"]
