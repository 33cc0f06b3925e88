"""Fitting multitask models: the one fit of the project, for both kinds of multitask data.

* :func:`fit_task_group` -- a group of classification tasks with *different inputs* (a group of
  UCR datasets), trained with the ResNet2D paper's Algorithm 2 (one task per batch; Sec.
  III-C). A group of one task is standard mini-batch training (the paper's single-task
  ResNet1D/ResNet2D). The best epoch is chosen by the mean validation accuracy (Sec. IV-B).
* :func:`fit_joint` -- same-input, several-output data (:class:`~tsmtl.data.joint.JointTaskData`:
  a classification, binary or regression target per task, labels possibly missing), trained
  with joint batches so every step sees the vector of task losses (the MTL joint-prediction
  overview). The best epoch is chosen by the mean validation task loss by default.

Both build the model from a :class:`MethodConfig` (backbone x sharing x task weighting, all
from registries), hand it to the one :class:`~tsmtl.training.loop.Trainer` (which seeds, picks
the device and checkpoints), and score the best epoch with
:func:`~tsmtl.training.multitask.evaluate_tasks`.

Checkpoints go to ``<checkpoint_dir>/<fingerprint>/``; the fingerprint hashes the content of
every split the fit sees and every setting (:mod:`tsmtl.training.fingerprint`), so other data
or settings never resume a stale run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsmtl.config import plain
from tsmtl.data.types import TimeSeriesData
from tsmtl.models.sharing import ModelConfig, MultiTaskModel, build_multitask_model
from tsmtl.tasks import TaskSpec
from tsmtl.training.fingerprint import data_digest, run_fingerprint
from tsmtl.training.loop import Trainer
from tsmtl.training.multitask import EvalSet, evaluate_tasks, multitask_step
from tsmtl.training.tensors import JointBatches, ScheduledBatches, joint_tensors, to_tensors
from tsmtl.training.weighting import build_weighting

#: Part of every checkpoint fingerprint; bumped when a model's training maths or its state-dict
#: layout changes, so such checkpoints are never resumed (2: batch norm ignores padding;
#: 3: models built from the backbone/sharing registries, heads are TaskHead modules).
MODEL_REVISION = 3
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class TrainingConfig:
    """How a model is optimised (ResNet2D paper, Sec. IV-B: 400 epochs, batch 40, lr 1e-4, AdamW).

    Frozen; :meth:`from_params` refuses unknown keys (a typo in YAML must not be ignored).
    """

    epochs: int = 400
    batch_size: int = 40
    lr: float = 1e-4
    weight_decay: float = 1e-2
    eval_batch_size: int = 128
    patience: int | None = None
    amp_dtype: str | None = None
    progress: bool = True
    grad_clip_norm: float | None = None
    optimizer: str = "adamw"

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> TrainingConfig:
        params = dict(params or {})
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; allowed: {sorted(allowed)}")
        return cls(**params)

    def trainer_kwargs(self) -> dict[str, Any]:
        """The :class:`~tsmtl.training.loop.Trainer` keyword arguments these settings fix."""
        names = ("epochs", "lr", "weight_decay", "optimizer", "grad_clip_norm", "patience", "progress", "amp_dtype")
        return {name: getattr(self, name) for name in names}

    def fingerprint_settings(self) -> dict[str, Any]:
        """The settings that change what is trained (not the progress bar or eval batch size)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("progress", "eval_batch_size")}


@dataclass(frozen=True)
class MethodConfig:
    """One multitask method: a model (backbone x sharing) and a task weighting.

    ``{backbone: resnet1d, backbone_params: {...}, sharing: hard, sharing_params: {...},
    weighting: uncertainty, weighting_params: {...}}``.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    weighting: str = "equal"
    weighting_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MethodConfig:
        params = dict(params)
        allowed = {"backbone", "backbone_params", "sharing", "sharing_params", "weighting", "weighting_params"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValueError(f"unknown method settings {unknown}; allowed: {sorted(allowed)}")
        model = ModelConfig(
            backbone=params.get("backbone", "resnet1d"),
            backbone_params=plain(params.get("backbone_params") or {}),
            sharing=params.get("sharing", "hard"),
            sharing_params=plain(params.get("sharing_params") or {}),
        )
        return cls(model=model, weighting=params.get("weighting", "equal"), weighting_params=plain(params.get("weighting_params") or {}))


@dataclass
class MultiTaskFit:
    """What a fit returns.

    Attributes
    ----------
    model : MultiTaskModel
        Best-epoch weights, in eval mode, on the training device.
    tasks : dict task -> TaskSpec
        With concrete class weights and classes.
    scores : dict split -> dict
        ``{"val": ..., "test": ...}``, each :func:`~tsmtl.training.multitask.evaluate_tasks`'s
        keys without prefix: ``"accuracy/CricketX"``, ``"auprc/sepsis"``, ``"loss/HR_next"``,
        ``"accuracy"`` (mean over tasks), ...
    best_epoch : int
    epochs_run : int
        Epochs trained by this call (0: a finished checkpoint was resumed and only scored).
    seconds_per_epoch : float
        Mean wall time of the epochs in the history.
    history : list of dict
        Every epoch's record (``train_loss``, ``train_loss/<task>``, ``train_weight/<task>``,
        validation metrics, ``seconds``).
    checkpoint_dir : Path or None
    """

    model: MultiTaskModel
    tasks: dict[str, TaskSpec]
    scores: dict[str, dict[str, float]]
    best_epoch: int
    epochs_run: int
    seconds_per_epoch: float
    history: list[dict[str, Any]]
    checkpoint_dir: Path | None

    def score(self, split: str, metric: str, task: str | None = None) -> float:
        """One score, e.g. ``fit.score("test", "accuracy", "CricketX")``."""
        return self.scores[split][metric if task is None else f"{metric}/{task}"]


def _fit(
    make_model,
    specs: Mapping[str, TaskSpec],
    batches,
    eval_sets: Mapping[str, list[EvalSet]],
    method: MethodConfig,
    training: TrainingConfig,
    *,
    task_sizes: Mapping[str, int],
    monitor: str,
    mode: str,
    digest: str,
    batching: str,
    device: str | torch.device | None,
    seed: int,
    checkpoint_dir: str | Path | None,
    resume: bool,
) -> MultiTaskFit:
    weighting = build_weighting(method.weighting, list(specs), task_sizes=dict(task_sizes), **method.weighting_params)
    if getattr(weighting, "needs_joint_batches", False) and batching != "joint" and len(specs) > 1:
        raise ValueError(
            f"the {method.weighting!r} weighting combines the gradients of several tasks on one step, "
            "but Algorithm 2 batches hold one task each; use equal, size, uncertainty or dwa"
        )
    run_dir = None
    if checkpoint_dir is not None:
        settings = (method, training.fingerprint_settings(), sorted(specs.values(), key=lambda s: s.name), batching, seed, MODEL_REVISION)
        run_dir = Path(checkpoint_dir) / run_fingerprint(digest, *settings)
    trainer = Trainer(
        make_model,
        multitask_step(specs),
        batches,
        lambda model: evaluate_tasks(model, eval_sets["val"], specs, batch_size=training.eval_batch_size),
        device=device,
        monitor=monitor,
        mode=mode,
        checkpoint_dir=run_dir,
        resume=resume and run_dir is not None,
        data_digest=digest,
        seed=seed,
        weighting=weighting,
        **training.trainer_kwargs(),
    )
    result = trainer.fit()
    model = result.model.eval()
    scores = {split: evaluate_tasks(model, sets, specs, batch_size=training.eval_batch_size, prefix="") for split, sets in eval_sets.items()}
    return MultiTaskFit(
        model=model,
        tasks=dict(specs),
        scores=scores,
        best_epoch=-1 if result.best_epoch is None else int(result.best_epoch),
        epochs_run=result.epochs_run,
        seconds_per_epoch=float(np.mean(result.seconds_per_epoch)) if result.seconds_per_epoch else float("nan"),
        history=list(result.history),
        checkpoint_dir=run_dir,
    )


def fit_task_group(
    tasks: Mapping[str, Mapping[str, TimeSeriesData]],
    method: MethodConfig,
    training: TrainingConfig,
    *,
    device: str | torch.device | None = "auto",
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
) -> MultiTaskFit:
    """Train one model on a group of classification tasks with Algorithm 2 and score it.

    Parameters
    ----------
    tasks : mapping task -> {"train", "val", "test"} TimeSeriesData
        Already fed (gap-free, normalised as chosen). All tasks must have the same number of
        channels; lengths may differ between and within tasks.
    method : MethodConfig
        ``sharing: hard`` with one task is the paper's single-task ResNet; with the group's
        tasks, "w/ MTL".
    training : TrainingConfig
    device : str
        ``"auto"``: cuda when present (:func:`~tsmtl.training.device.choose_device`).
    seed : int
        Seeds the initial weights, the batch schedule and the training run.
    checkpoint_dir : path, optional
        Parent of the run folder ``<checkpoint_dir>/<fingerprint>/``; resumed when ``resume``.

    Returns
    -------
    MultiTaskFit
        ``scores["val"|"test"]["accuracy/<task>"]``; the best epoch by ``val_accuracy``.
    """
    if not tasks:
        raise ValueError("no tasks to train on")
    channels = {name: split["train"].n_channels for name, split in tasks.items()}
    if len(set(channels.values())) != 1:
        raise ValueError(f"tasks of one model need the same number of channels, got {channels}")
    tensors = {split: {} for split in SPLITS}
    specs: dict[str, TaskSpec] = {}
    for name, split in tasks.items():
        missing = [s for s in SPLITS if s not in split]
        if missing:
            raise KeyError(f"task {name!r} lacks the splits {missing}")
        train = to_tensors(split["train"])
        tensors["train"][name] = train
        for other in ("val", "test"):
            tensors[other][name] = to_tensors(split[other], classes=train.classes)
        specs[name] = TaskSpec(name=name, type="classification", n_outputs=max(2, train.n_classes), metrics=("accuracy",), classes=tuple(train.classes.tolist()))
    in_channels = next(iter(channels.values()))
    eval_sets = {split: [(t, {name: t.y}) for name, t in tensors[split].items()] for split in ("val", "test")}
    return _fit(
        lambda: build_multitask_model(method.model, in_channels, specs),
        specs,
        ScheduledBatches.build(tensors["train"], training.batch_size, seed=seed),
        eval_sets,
        method,
        training,
        task_sizes={name: len(t) for name, t in tensors["train"].items()},
        monitor="val_accuracy",
        mode="max",
        digest=data_digest(tasks),
        batching="algorithm2",
        device=device,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
    )


def fit_joint(
    splits: Mapping[str, Any],
    specs: Mapping[str, TaskSpec],
    method: MethodConfig,
    training: TrainingConfig,
    *,
    monitor: str = "val_loss",
    mode: str = "min",
    device: str | torch.device | None = "auto",
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
) -> MultiTaskFit:
    """Train one model on same-input multi-output data with joint batches and score it.

    Parameters
    ----------
    splits : mapping "train", "val", "test" -> JointTaskData
        ``X`` (N, C, T), ``lengths`` (N,), ``targets`` {task: (N,) or (N, H)}, NaN = missing
        label (classification targets are class indices).
    specs : mapping task -> TaskSpec
        The tasks to train (a subset of the data's targets: one task is single-task learning).
        ``class_weights: balanced`` is resolved from the training targets.
    method, training : MethodConfig, TrainingConfig
    monitor, mode : str
        The validation record that picks the best epoch (default the mean task loss, lower is
        better; e.g. ``val_auprc/sepsis`` with ``max``).

    Returns
    -------
    MultiTaskFit
    """
    missing = [s for s in SPLITS if s not in splits]
    if missing:
        raise KeyError(f"joint data lacks the splits {missing}")
    train_data = splits["train"]
    specs = {name: spec.resolve_class_weights(train_data.targets[name]) if name in train_data.targets else spec for name, spec in specs.items()}
    tensors = {split: joint_tensors(splits[split], specs) for split in SPLITS}
    batches = JointBatches(tensors["train"], training.batch_size, seed=seed)
    eval_sets = {split: [(tensors[split], tensors[split].targets)] for split in ("val", "test")}
    in_channels = int(tensors["train"].x.shape[1])
    digest = data_digest({split: {"X": splits[split].X, "lengths": splits[split].lengths, "targets": {t: splits[split].targets[t] for t in specs}} for split in SPLITS})
    return _fit(
        lambda: build_multitask_model(method.model, in_channels, specs),
        specs,
        batches,
        eval_sets,
        method,
        training,
        task_sizes=batches.task_sizes,
        monitor=monitor,
        mode=mode,
        digest=digest,
        batching="joint",
        device=device,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
    )


def single_task_specs(specs: Mapping[str, TaskSpec], task: str) -> dict[str, TaskSpec]:
    """``{task: specs[task]}``: the single-task baseline of one task of a multitask problem."""
    if task not in specs:
        raise KeyError(f"unknown task {task!r}; tasks: {list(specs)}")
    return {task: replace(specs[task])}


__all__ = ["MODEL_REVISION", "MethodConfig", "MultiTaskFit", "TrainingConfig", "fit_joint", "fit_task_group", "single_task_specs"]
