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
1NN-DTW (:mod:`tsmtl.models.dtw_1nn`, aeon's predictions exactly, faster). A sixth method --
another backbone, sharing or weighting -- is one more entry.

Repeated splits (issue #10): the experiment runs every method on every split seed
(``split_seeds``); one split moves accuracy on the paper's small tasks by 0.03-0.05, as much as
most gaps between methods in Table I. The fits -- split seeds x methods x tasks (groups for MTL)
-- are independent :class:`UCRRun` s that :func:`run_experiment` fans out over processes or a Dask
cluster (:mod:`tsmtl.parallel`).
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
from tsmtl.parallel import FanOut, run_jobs
from tsmtl.training.fit import MethodConfig, TrainingConfig, fit_task_group
from tsmtl.training.multitask import extract_features
from tsmtl.training.saved_models import model_record
from tsmtl.training.tensors import to_tensors

log = logging.getLogger(__name__)

#: ``{group: {task: {"train", "val", "test"}}}``
Groups = dict[str, dict[str, dict[str, TimeSeriesData]]]

METHOD_KINDS = ("network", "1nn_dtw")
#: `split_seed` is the seed of the split the row was scored on; `fit` names the training run (the
#: task, or the group for MTL); `seconds` is that run's wall time; `epochs_run` is 0 when a
#: finished checkpoint was resumed.
RESULT_COLUMNS = [
    "split_seed", "group", "task", "method", "fit", "accuracy", "val_accuracy", "best_epoch", "epochs_run",
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


@dataclass(frozen=True)
class UCRRun:
    """One independent fit of the experiment: a method on one task (one group for MTL), one split.

    The unit of the fan-out (:func:`tsmtl.parallel.run_jobs`): picklable, and
    :func:`execute_run` needs nothing else.

    Attributes
    ----------
    split_seed : int
        Seed of the split the tasks come from.
    group, run : str
        The group, and the fit's name: the task, or the group for a multitask method.
    tasks : dict task -> {"train", "val", "test"} TimeSeriesData
        Fed splits of the run's tasks.
    method : UCRMethod
    training : TrainingConfig or None
        None for 1NN-DTW.
    device : str
    seed : int
        Training seed of the fit: ``seed + split_seed`` of the experiment's ``seed``.
    checkpoint_dir : str or None
        ``<checkpoint_dir>/split_<split_seed>/<method.folder>/<run>``.
    resume : bool
    features : bool
        Return the shared test-split features (t-SNE, paper Fig. 5).
    weights : bool
        Return the best weights and what rebuilds the model
        (:func:`tsmtl.training.saved_models.model_record`; the ``ucr_mtl_state_dicts`` dataset).
    """

    split_seed: int
    group: str
    run: str
    tasks: dict[str, dict[str, TimeSeriesData]]
    method: UCRMethod
    training: TrainingConfig | None
    device: str = "auto"
    seed: int = 0
    checkpoint_dir: str | None = None
    resume: bool = True
    features: bool = False
    weights: bool = False

    def describe(self) -> str:
        return f"{self.method.name} on {self.run} (split seed {self.split_seed})"

    @property
    def cost(self) -> float:
        """Relative cost, to start the longest fits first: series x length (x epochs for a network)."""
        size = sum(split["train"].n_cases * split["train"].n_timepoints for split in self.tasks.values())
        if self.method.kind == "1nn_dtw":
            return float(size * max(split["test"].n_timepoints for split in self.tasks.values()) / 64)
        return float(size * (self.training.epochs if self.training else 1))


def _row(run: UCRRun, task: str, **values: Any) -> dict[str, Any]:
    return {"split_seed": run.split_seed, "group": run.group, "task": task, "method": run.method.name, "fit": run.run, **values}


def _run_one_nn_dtw(run: UCRRun) -> list[dict[str, Any]]:
    method = run.method
    window, n_jobs = method.params.get("window"), int(method.params.get("n_jobs", 1))
    unknown = sorted(set(method.params) - {"window", "n_jobs"})
    if unknown:
        raise ValueError(f"method {method.name!r}: unknown 1nn_dtw params {unknown}; use window, n_jobs")
    ((task, split),) = run.tasks.items()
    started = time.perf_counter()
    test_pred = one_nn_dtw(split["train"], split["test"], window=window, n_jobs=n_jobs)
    val_pred = one_nn_dtw(split["train"], split["val"], window=window, n_jobs=n_jobs)
    return [
        _row(
            run, task,
            accuracy=accuracy(split["test"].y, test_pred), val_accuracy=accuracy(split["val"].y, val_pred),
            best_epoch=np.nan, epochs_run=0, seconds_per_epoch=np.nan,
            seconds=time.perf_counter() - started, n_train=split["train"].n_cases,
        )
    ]  # fmt: skip


def _run_network(run: UCRRun) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    started = time.perf_counter()
    fit = fit_task_group(
        run.tasks, run.method.config, run.training,
        device=run.device, seed=run.seed, checkpoint_dir=run.checkpoint_dir, resume=run.resume,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    rows = [
        _row(
            run, task,
            accuracy=fit.score("test", "accuracy", task), val_accuracy=fit.score("val", "accuracy", task),
            best_epoch=fit.best_epoch, epochs_run=fit.epochs_run, seconds_per_epoch=fit.seconds_per_epoch,
            seconds=seconds, n_train=split["train"].n_cases,
        )
        for task, split in run.tasks.items()
    ]  # fmt: skip
    features = {}
    if run.features:
        features = {
            "group": run.group,
            "method": run.method.name,
            "split_seed": run.split_seed,
            "tasks": {
                t: {
                    "features": extract_features(fit.model, to_tensors(s["test"]), task=t, batch_size=run.training.eval_batch_size),
                    "labels": s["test"].y,
                }
                for t, s in run.tasks.items()
            },
        }
    record = {}
    if run.weights:
        in_channels = next(iter(run.tasks.values()))["train"].n_channels
        record = model_record(
            fit, run.method.config.model, in_channels,
            method=run.method.name, method_id=run.method.id, group=run.group, split_seed=run.split_seed, seed=run.seed,
        )  # fmt: skip
    return rows, features, record


def execute_run(run: UCRRun) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Fit and score one :class:`UCRRun`: its rows (:data:`RESULT_COLUMNS`), its features and its model record.

    The features ({} unless ``run.features``) and the record ({} unless ``run.weights``; the best
    weights and what rebuilds the model, :func:`tsmtl.training.saved_models.model_record`).

    A network run is :func:`tsmtl.training.fit.fit_task_group` (Algorithm 2 for a group, standard
    mini-batches for one task); 1NN-DTW is the project's exact kernel (aeon's predictions), with
    the train split as the reference set, scored on test and val.
    """
    if run.method.kind == "1nn_dtw":
        rows, features, record = _run_one_nn_dtw(run), {}, {}
    else:
        rows, features, record = _run_network(run)
    scores = {row["task"]: round(row["accuracy"], 3) for row in rows}
    log.info("%s: test accuracy %s", run.describe(), scores)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), features, record


def plan_runs(
    groups_by_seed: Mapping[int, Groups],
    methods: Sequence[UCRMethod],
    training: TrainingConfig,
    *,
    device: str,
    seed: int,
    checkpoint_dir: str | Path | None,
    resume: bool,
    features_group: str | None = None,
) -> list[UCRRun]:
    """Every independent fit: split seeds x methods x (tasks, or groups for multitask methods).

    The t-SNE features come from the multitask methods' fits of ``features_group`` on the
    first split seed; the weights (model records) from every multitask fit of the first split seed.
    """
    runs = []
    first_seed = next(iter(groups_by_seed), None)
    for split_seed, groups in groups_by_seed.items():
        for method in methods:
            by_group = method.kind == "network" and method.multitask
            for group, tasks in groups.items():
                units = [(group, tasks)] if by_group else [(task, {task: split}) for task, split in tasks.items()]
                for run_name, run_tasks in units:
                    folder = None
                    if checkpoint_dir is not None and method.kind == "network":
                        folder = str(Path(checkpoint_dir) / f"split_{split_seed}" / method.folder / run_name)
                    runs.append(
                        UCRRun(
                            split_seed=int(split_seed), group=group, run=run_name, tasks=dict(run_tasks), method=method,
                            training=training if method.kind == "network" else None, device=device,
                            seed=int(seed) + int(split_seed), checkpoint_dir=folder, resume=resume,
                            features=by_group and group == features_group and split_seed == first_seed,
                            weights=by_group and split_seed == first_seed,
                        )
                    )  # fmt: skip
    return runs


def run_experiment(
    runs: Sequence[UCRRun], fanout: FanOut | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """Execute ``runs`` (in parallel as ``fanout`` says, longest first).

    Returns
    -------
    results : DataFrame
        The rows of every run (:data:`RESULT_COLUMNS`), in plan order.
    features : list of dict
        The t-SNE features of the runs flagged ``features``.
    models : dict method name -> group -> record
        The model record (:func:`tsmtl.training.saved_models.model_record`) of every run flagged
        ``weights``; a second record for one method and group is refused.
    """
    order = sorted(range(len(runs)), key=lambda i: -runs[i].cost)
    outputs = run_jobs(execute_run, [runs[i] for i in order], fanout, describe=UCRRun.describe)
    by_plan = [None] * len(runs)
    for position, output in zip(order, outputs):
        by_plan[position] = output
    frames = [frame for frame, _, _ in by_plan if len(frame)]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    models: dict[str, dict[str, dict[str, Any]]] = {}
    for run, (_, _, record) in zip(runs, by_plan):
        if record:
            by_group = models.setdefault(run.method.name, {})
            if run.group in by_group:
                raise ValueError(f"two model records for {run.method.name} on {run.group}: flag one split seed's runs only")
            by_group[run.group] = record
    return results, [features for _, features, _ in by_plan if features], models


__all__ = [
    "METHOD_KINDS", "RESULT_COLUMNS", "UCRMethod", "UCRRun", "execute_run", "parse_methods", "plan_runs", "run_experiment",
    "select_methods",
]  # fmt: skip
