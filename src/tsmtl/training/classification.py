"""Fitting classifiers on one task or a group of tasks (ResNet2D paper, Sec. III-C, IV-B).

One function, :func:`fit_classifier`, serves the four deep methods of Table I:
``ResNet1D``/``ResNet2D`` are a group of one task (Algorithm 2 with one task is
standard mini-batch SGD); ``... w/ MTL`` are the whole group, trunk shared,
one linear head per task (hard parameter sharing), batches from Algorithm 2.
The best epoch is chosen by the validation accuracy (mean over the group's
tasks), as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.multitask import MultiTaskClassifier
from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.resnet2d import TemplateResNet2D
from tsmtl.training.device import choose_device, seed_everything
from tsmtl.training.fingerprint import data_digest, run_fingerprint
from tsmtl.training.loop import Trainer, classification_step, evaluate_classifier, model_device
from tsmtl.training.tensors import ScheduledBatches, SeriesTensors, to_tensors

ARCHITECTURES = ("resnet1d", "resnet2d")
#: Part of every checkpoint fingerprint; bumped when a model's training maths changes, so a
#: checkpoint trained under the old maths is never resumed (2: batch norm ignores padding).
MODEL_REVISION = 2


@dataclass(frozen=True)
class ClassifierTrainingConfig:
    """Optimisation settings (paper, Sec. IV-B: 400 epochs, batch 40, lr 1e-4, AdamW)."""

    epochs: int = 400
    batch_size: int = 40
    lr: float = 1e-4
    weight_decay: float = 1e-2
    eval_batch_size: int = 128
    patience: int | None = None
    amp_dtype: str | None = None
    progress: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> ClassifierTrainingConfig:
        return cls(**(params or {}))


def build_trunk(architecture: str, in_channels: int, params: Mapping[str, Any] | None = None) -> nn.Module:
    """The shared trunk: ``ResNet1D`` (Fig. 2b) or the template ``ResNet2D`` (Fig. 3d).

    ``params`` are the trunk's keyword arguments (e.g. ``widths`` for ResNet1D;
    ``n_templates``, ``template_length``, ``width``, ``n_blocks`` for ResNet2D).
    """
    params = dict(params or {})
    if architecture == "resnet1d":
        return ResNet1D(in_channels=in_channels, **params)
    if architecture == "resnet2d":
        return TemplateResNet2D(in_channels=in_channels, **params)
    raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")


@dataclass
class ClassifierFit:
    """What :func:`fit_classifier` returns.

    Attributes
    ----------
    model : MultiTaskClassifier
        Best-epoch weights, in eval mode, on the training device.
    val_accuracy, test_accuracy : dict task -> float
    best_epoch : int
    seconds_per_epoch : float
    classes : dict task -> np.ndarray (label of each class index)
    checkpoint_dir : Path or None
    history : list of per-epoch records
    epochs_run : int
        Epochs trained by this call (0: a finished checkpoint was resumed and only scored).
    """

    model: MultiTaskClassifier
    val_accuracy: dict[str, float]
    test_accuracy: dict[str, float]
    best_epoch: int
    seconds_per_epoch: float
    classes: dict[str, np.ndarray]
    checkpoint_dir: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_run: int = 0


def fit_classifier(
    tasks: Mapping[str, Mapping[str, TimeSeriesData]],
    architecture: str,
    model_params: Mapping[str, Any] | None,
    config: ClassifierTrainingConfig,
    *,
    device: str | torch.device | None = "auto",
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
) -> ClassifierFit:
    """Train one shared trunk with a head per task on ``tasks`` and score it.

    Parameters
    ----------
    tasks : mapping task -> {"train", "val", "test"} TimeSeriesData
        Already fed (gap-free, normalised as chosen). All tasks must have the
        same number of channels; lengths may differ between and within tasks.
    architecture : {"resnet1d", "resnet2d"}
    model_params : mapping
        Keyword arguments of the trunk (see :func:`build_trunk`).
    config : ClassifierTrainingConfig
    device : str
        ``"auto"`` picks cuda when present (:func:`~tsmtl.training.device.choose_device`).
    seed : int
        Seeds the weights and the batch schedule.
    checkpoint_dir : path, optional
        Parent folder; the run writes to ``<checkpoint_dir>/<fingerprint>/``
        (``last.pt`` each epoch, ``best.pt``) and resumes from it when
        ``resume`` and it exists. The fingerprint hashes the content of every
        split (train, val, test: values, labels, lengths, names) and every setting,
        so other data of the same shape gets another folder; the checkpoints record
        the data digest and a mismatch is refused (see :mod:`tsmtl.training.fingerprint`).
    """
    if not tasks:
        raise ValueError("no tasks to train on")
    channels = {name: split["train"].n_channels for name, split in tasks.items()}
    if len(set(channels.values())) != 1:
        raise ValueError(f"tasks of one model need the same number of channels, got {channels}")
    device = choose_device(str(device) if isinstance(device, torch.device) else device)
    seed_everything(seed)

    train: dict[str, SeriesTensors] = {}
    val: dict[str, SeriesTensors] = {}
    test: dict[str, SeriesTensors] = {}
    for name, split in tasks.items():
        train[name] = to_tensors(split["train"])
        val[name] = to_tensors(split["val"], classes=train[name].classes)
        test[name] = to_tensors(split["test"], classes=train[name].classes)

    trunk = build_trunk(architecture, next(iter(channels.values())), model_params)
    model = MultiTaskClassifier(trunk, trunk.out_features, {name: t.n_classes for name, t in train.items()})
    digest = data_digest(tasks)
    run_dir = None
    if checkpoint_dir is not None:
        run_dir = Path(checkpoint_dir) / run_fingerprint(
            digest, architecture, dict(model_params or {}), config, seed, MODEL_REVISION
        )
    trainer = Trainer(
        model,
        classification_step,
        ScheduledBatches.build(train, config.batch_size, seed=seed),
        partial(evaluate_classifier, datasets_by_task=val, batch_size=config.eval_batch_size),
        epochs=config.epochs,
        lr=config.lr,
        weight_decay=config.weight_decay,
        device=device,
        monitor="val_accuracy",
        mode="max",
        patience=config.patience,
        checkpoint_dir=run_dir,
        resume=resume and run_dir is not None,
        data_digest=digest,
        seed=seed,
        progress=config.progress,
        amp_dtype=config.amp_dtype,
    )
    result = trainer.fit()
    best = result.model.eval()
    val_scores = evaluate_classifier(best, val, batch_size=config.eval_batch_size, prefix="")
    test_scores = evaluate_classifier(best, test, batch_size=config.eval_batch_size, prefix="")
    # mean over the epochs this call ran (none when a finished run was resumed)
    seconds = float(np.mean(result.seconds_per_epoch)) if result.seconds_per_epoch else float("nan")
    return ClassifierFit(
        model=best,
        val_accuracy={name: val_scores[f"accuracy/{name}"] for name in tasks},
        test_accuracy={name: test_scores[f"accuracy/{name}"] for name in tasks},
        best_epoch=int(result.best_epoch) if result.best_epoch is not None else -1,
        seconds_per_epoch=float(seconds),
        classes={name: t.classes for name, t in train.items()},
        checkpoint_dir=run_dir,
        history=list(result.history),
        epochs_run=result.epochs_run,
    )


@torch.no_grad()
def extract_features(model: MultiTaskClassifier, data: TimeSeriesData, batch_size: int = 128) -> np.ndarray:
    """Shared-trunk features of every case of ``data``: (n_cases, feature_dim), float32."""
    tensors = to_tensors(data)
    device = model_device(model)
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(tensors), batch_size):
            x, lengths, _ = tensors.batch(np.arange(start, min(start + batch_size, len(tensors))))
            out.append(model.features(x.to(device), lengths.to(device)).float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.empty((0, 0), dtype=np.float32)
