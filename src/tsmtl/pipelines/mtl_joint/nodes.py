"""Nodes of ``mtl_joint``: thin wrappers over tsmtl.data.joint and tsmtl.experiments.mtl_joint.

Two datasets, one experiment each (same nodes): PhysioNet 2019 set A hourly (sepsis label +
next-hour vital signs) and ETTh1 (every column forecast at several horizons).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tsmtl.data.ett import split_ett
from tsmtl.data.joint import (
    ETT_JOINT_TARGETS,
    HOURLY_FEATURES,
    NEXT_HOUR_VARIABLES,
    JointTaskData,
    describe_joint,
    ett_joint_windows,
    physionet_hourly_windows,
    split_by_group,
    standardise_joint,
)
from tsmtl.experiments.mtl_joint import (
    best_model,
    grid_methods,
    joint_report,
    plot_task_weights,
    pretrain_trunk,
    pretrained_trunk_methods,
    report_header,
    run_grid,
)
from tsmtl.tasks import TaskSpec, specs_from_params
from tsmtl.training.fit import MethodConfig, TrainingConfig

log = logging.getLogger(__name__)

Splits = dict[str, JointTaskData]


def prepare_physionet(frame: pd.DataFrame, options: Mapping[str, Any]) -> Splits:
    """Hourly windows of the forward-filled features, a patient-level split, train-fitted scaling.

    ``options``: ``window`` (hours, 12), ``stride`` (1), ``features`` (null: the library's
    19), ``max_patients`` (null: all; else a random sample of that many patients, seeded by
    ``sample_seed``), ``split: {fractions, seed}``.
    """
    max_patients = options.get("max_patients")
    if max_patients:
        patients = np.sort(frame["patient_id"].unique())
        if int(max_patients) < len(patients):
            keep = np.random.default_rng(int(options.get("sample_seed", 0))).choice(patients, int(max_patients), replace=False)
            frame = frame[frame["patient_id"].isin(set(keep))]
            log.info("PhysioNet: %d of %d patients sampled (seed %s)", int(max_patients), len(patients), options.get("sample_seed", 0))
    data = physionet_hourly_windows(
        frame,
        window=int(options.get("window", 12)),
        features=tuple(options.get("features") or HOURLY_FEATURES),
        next_hour=tuple(options.get("next_hour") or NEXT_HOUR_VARIABLES),
        stride=int(options.get("stride", 1)),
    )
    split = dict(options.get("split") or {})
    splits = split_by_group(data, fractions=tuple(split.get("fractions", (0.6, 0.2, 0.2))), seed=int(split.get("seed", 0)))
    return standardise_joint(splits, regression_tasks=[f"{v}_next" for v in (options.get("next_hour") or NEXT_HOUR_VARIABLES)])


def prepare_etth1(archive: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> Splits:
    """ETTh1 windows on Informer's 12/4/4-month split (train-fitted scaler): every column x horizon.

    ``options``: ``dataset`` (ETTh1), ``lookback`` (96), ``targets`` (null: all 7 columns),
    ``horizons`` ([24]), ``stride`` (1).
    """
    name = options.get("dataset", "ETTh1")
    lookback = int(options.get("lookback", 96))
    splits = split_ett(archive[name], name, lookback=lookback)
    return ett_joint_windows(
        splits,
        lookback=lookback,
        targets=tuple(options.get("targets") or ETT_JOINT_TARGETS),
        horizons=tuple(int(h) for h in options.get("horizons", (24,))),
        stride=int(options.get("stride", 1)),
        name=name,
    )


def describe_splits(splits: Splits) -> pd.DataFrame:
    """Cases, groups, label coverage and positive rate per (split, task)."""
    return describe_joint(splits)


def task_specs(splits: Splits, options: Mapping[str, Any]) -> dict[str, TaskSpec]:
    """The tasks of the experiment: ``options["tasks"]`` (YAML), or one regression task per
    target of the data (``targets_type: regression``; ETT's ``<column>@<horizon>``)."""
    if options.get("tasks"):
        return specs_from_params(options["tasks"])
    train = splits["train"]
    metrics = tuple(options.get("regression_metrics") or ("mse", "mae"))
    return {
        task: TaskSpec(task, "regression", int(np.asarray(values).reshape(len(values), -1).shape[1]), metrics=metrics)
        for task, values in train.targets.items()
    }


def run_experiment(splits: Splits, options: Mapping[str, Any], experiment: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Single-task models and every sharing x weighting of the grid, over the seeds.

    ``options``: the dataset's block (``backbone``, ``backbone_params``, ``tasks``, ``monitor``,
    ``mode``, ``units``, ``training`` overrides, ``pretrained``: a self-supervised trunk, see
    :func:`~tsmtl.experiments.mtl_joint.pretrain_trunk`); ``experiment``: the shared block
    (``seeds``, ``grid``, ``training``, ``checkpoint_dir``, ``resume``).
    """
    specs = task_specs(splits, options)
    training = TrainingConfig.from_params({**dict(experiment.get("training") or {}), **dict(options.get("training") or {})})
    grid = experiment["grid"]
    methods = grid_methods(options["backbone"], options.get("backbone_params") or {}, grid["sharings"], grid["weightings"], grid.get("combinations"))
    single = None
    if grid.get("single_task", True):
        single = MethodConfig.from_params({"backbone": options["backbone"], "backbone_params": dict(options.get("backbone_params") or {})})
    checkpoint_dir = experiment.get("checkpoint_dir")
    pretrained = options.get("pretrained")
    if pretrained:
        folder = Path(checkpoint_dir or tempfile.mkdtemp(prefix="tsmtl_pretrained_")) / options["name"] / "pretrained"
        path, encoder_params = pretrain_trunk(splits["train"].X, pretrained, folder, device=device)
        methods += pretrained_trunk_methods(path, pretrained.get("method", "trep"), encoder_params, pretrained)
    return run_grid(
        splits,
        specs,
        methods,
        training,
        seeds=[int(s) for s in experiment["seeds"]],
        single_task=single,
        device=device,
        checkpoint_dir=None if checkpoint_dir is None else f"{checkpoint_dir}/{options['name']}",
        resume=bool(experiment.get("resume", True)),
        monitor=options.get("monitor", "val_loss"),
        mode=options.get("mode", "min"),
        units=options.get("units", "original"),
    )


def build_report(results: pd.DataFrame, splits: Splits, options: Mapping[str, Any], experiment: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """The comparison table (CSV) and its Markdown with the settings above it and the winner below."""
    specs = task_specs(splits, options)
    table, body = joint_report(results, specs, decimals=int(options.get("decimals", 3)))
    training = {**dict(experiment.get("training") or {}), **dict(options.get("training") or {})}
    notes = list(experiment.get("notes") or []) + list(options.get("notes") or [])
    header = report_header(
        options.get("title", f"MTL joint prediction: {options['name']}"),
        str(experiment.get("profile", "paper")),
        splits,
        specs,
        training,
        experiment["seeds"],
        notes + [f"backbone {options['backbone']} {dict(options.get('backbone_params') or {})}; best epoch by {options.get('monitor', 'val_loss')}"],
        options.get("units", "original"),
    )
    winner = best_model(table)
    footer = [f"Best multitask model by Δm: **{winner}** ({table.loc[winner, 'delta_m']:+.2f} %)." if winner else "No single-task baseline: Δm not computed."]
    markdown = "\n".join(header) + "\n\n" + body + "\n" + "\n".join(footer) + "\n"
    log.info("%s\n%s", options["name"], body)
    return table.reset_index(), markdown


def plot_weights(history: pd.DataFrame) -> Figure:
    """The per-task loss weights of every weighting over the epochs (hard sharing, mean over seeds)."""
    return plot_task_weights(history)
