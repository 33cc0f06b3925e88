"""What a task is: its type, output size, loss and metrics (one record per task, from YAML).

A multitask model has one output per task (MTL joint-prediction overview: "a single model is
trained to predict multiple outputs, each corresponding to a different task"). Every task is
described by a :class:`TaskSpec`::

    {name: sepsis, type: binary, loss: bce, metrics: [auprc, auroc, f1], class_weights: balanced}
    {name: HR_next, type: regression, loss: mse, metrics: [mae, mse]}
    {name: CricketX, type: classification, n_outputs: 12}

Task types, the model output they expect and their targets:

========================  =======================  ======================================
type                      output of the head       target (``-1`` / NaN = label missing)
========================  =======================  ======================================
``classification``        logits ``(B, K)``        class index ``(B,)`` int64, ``-1`` missing
``binary``                one logit ``(B,)``       ``(B,)`` float 0/1, NaN missing
``regression``            ``(B, H)`` (H outputs)   ``(B, H)`` float, NaN missing (elementwise)
========================  =======================  ======================================

**Partial labels.** A case may lack the label of some tasks (PhysioNet's next-hour temperature
is often unmeasured). Its loss for that task is *masked*, never imputed: :func:`task_loss` is
the mean over the labelled entries only, and ``0`` (with zero gradient) when a batch holds no
label of the task; :func:`task_loss_denominator` is what that mean divides by (several
processes combine their shards' masked losses with it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

TASK_TYPES = ("classification", "binary", "regression")
#: Allowed losses per task type; the first is the default.
LOSSES: dict[str, tuple[str, ...]] = {
    "classification": ("cross_entropy",),
    "binary": ("bce",),
    "regression": ("mse", "mae"),
}
#: Default metrics per task type; the first is the task's primary metric (e.g. for Delta_m).
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1"),
    "binary": ("auprc", "auroc", "f1"),
    "regression": ("mae", "mse"),
}
#: Class index of a missing classification label.
MISSING_CLASS = -1


@dataclass(frozen=True)
class TaskSpec:
    """One task of a multitask model.

    Attributes
    ----------
    name : str
        Unique, non-empty, without ``.`` or ``/`` (it names modules and log keys).
    type : {"classification", "binary", "regression"}
    n_outputs : int
        Classes ``K`` (classification), 1 (binary), horizon ``H`` (regression / multi-step
        forecast).
    loss : str
        ``cross_entropy`` | ``bce`` | ``mse`` | ``mae`` (see :data:`LOSSES`).
    metrics : tuple of str
        Names from :data:`tsmtl.evaluation.metrics.METRICS`; the first is the primary one.
    class_weights : tuple of float, float, "balanced" or None
        Classification: one weight per class for the cross-entropy. Binary: the positive
        weight (``pos_weight`` of ``BCEWithLogitsLoss``); ``"balanced"`` is resolved from the
        training labels by :meth:`resolve_class_weights` (negatives / positives).
    head : dict
        The task's output layer: ``{"hidden": [64], "dropout": 0.0}`` adds hidden layers;
        default ``{}`` is one linear layer.
    classes : tuple or None
        The label of every class index (from the training split), for reports.
    """

    name: str
    type: str
    n_outputs: int = 1
    loss: str = ""
    metrics: tuple[str, ...] = ()
    class_weights: Any = None
    head: dict[str, Any] = field(default_factory=dict)
    classes: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "." in self.name or "/" in self.name:
            raise ValueError(f"task names must be non-empty strings without '.' or '/', got {self.name!r}")
        if self.type not in TASK_TYPES:
            raise ValueError(f"task {self.name!r}: type must be one of {TASK_TYPES}, got {self.type!r}")
        n_outputs = int(self.n_outputs)
        if self.type == "binary" and n_outputs != 1:
            raise ValueError(f"task {self.name!r}: a binary task has one output, got n_outputs={n_outputs}")
        if n_outputs < 1 or (self.type == "classification" and n_outputs < 2):
            raise ValueError(f"task {self.name!r}: n_outputs={n_outputs} is too small for a {self.type} task")
        object.__setattr__(self, "n_outputs", n_outputs)
        loss = self.loss or LOSSES[self.type][0]
        if loss not in LOSSES[self.type]:
            raise ValueError(f"task {self.name!r}: loss {loss!r} does not fit a {self.type} task; use one of {LOSSES[self.type]}")
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "metrics", tuple(self.metrics) or DEFAULT_METRICS[self.type])
        object.__setattr__(self, "head", dict(self.head or {}))
        weights = self.class_weights
        if isinstance(weights, (list, tuple)):
            if self.type != "classification" or len(weights) != n_outputs:
                raise ValueError(f"task {self.name!r}: class_weights needs one weight per class ({n_outputs}), got {weights}")
            object.__setattr__(self, "class_weights", tuple(float(w) for w in weights))
        elif weights not in (None, "balanced") and not isinstance(weights, (int, float)):
            raise ValueError(f"task {self.name!r}: class_weights must be a list, a number, 'balanced' or null, got {weights!r}")
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes))

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TaskSpec:
        """A spec from a YAML mapping ``{name, type, n_outputs?, loss?, metrics?, class_weights?, head?}``."""
        allowed = {"name", "type", "n_outputs", "loss", "metrics", "class_weights", "head", "classes"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValueError(f"task {params.get('name')!r}: unknown keys {unknown}; allowed: {sorted(allowed)}")
        if "name" not in params or "type" not in params:
            raise ValueError(f"a task needs at least a name and a type, got {dict(params)}")
        return cls(**{key: value for key, value in params.items()})

    def resolve_class_weights(self, train_targets: np.ndarray) -> TaskSpec:
        """``class_weights="balanced"`` made concrete from the training targets.

        Classification: ``n / (K * count_k)`` per class (scikit-learn's "balanced"); binary: the
        positive weight ``negatives / positives``. Missing labels are ignored.
        """
        if self.class_weights != "balanced":
            return self
        targets = np.asarray(train_targets, dtype=np.float64).ravel()
        if self.type == "classification":
            labels = targets[targets >= 0].astype(np.int64)
            counts = np.bincount(labels, minlength=self.n_outputs).astype(np.float64)
            weights = len(labels) / (self.n_outputs * np.maximum(counts, 1.0))
            return replace(self, class_weights=tuple(float(w) for w in weights))
        if self.type == "binary":
            labels = targets[np.isfinite(targets)]
            positives = float((labels > 0.5).sum())
            if positives == 0:
                raise ValueError(f"task {self.name!r}: 'balanced' class weights need positive training labels, found none")
            return replace(self, class_weights=float((len(labels) - positives) / positives))
        raise ValueError(f"task {self.name!r}: class_weights apply to classification and binary tasks, not {self.type}")


def specs_from_params(tasks: Sequence[Mapping[str, Any]]) -> dict[str, TaskSpec]:
    """``{name: TaskSpec}`` from a YAML list of task mappings; duplicate names raise."""
    specs: dict[str, TaskSpec] = {}
    for params in tasks:
        spec = params if isinstance(params, TaskSpec) else TaskSpec.from_params(params)
        if spec.name in specs:
            raise ValueError(f"task {spec.name!r} is listed twice")
        specs[spec.name] = spec
    if not specs:
        raise ValueError("no tasks given")
    return specs


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over ``mask``; 0 (zero gradient) when nothing is labelled."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def task_loss(spec: TaskSpec, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The 0-d loss of one task on one batch, masked over missing labels.

    Parameters
    ----------
    spec : TaskSpec
        ``class_weights`` must be concrete (see :meth:`TaskSpec.resolve_class_weights`).
    output : Tensor
        ``(B, K)`` logits (classification), ``(B,)`` or ``(B, 1)`` logit (binary),
        ``(B, H)`` predictions (regression).
    target : Tensor
        ``(B,)`` int64 class indices with ``-1`` missing (classification); ``(B,)`` float 0/1
        with NaN missing (binary); ``(B, H)`` or ``(B,)`` (H = 1) float with NaN missing,
        elementwise (regression).

    Returns
    -------
    Tensor, 0-d, float32
        Cross-entropy: torch's mean over the labelled cases (exactly ``F.cross_entropy`` when
        every case is labelled). BCE / MSE / MAE: mean over the labelled entries. 0 when the
        batch holds no label of the task.
    """
    output = output.float()
    if spec.type == "classification":
        weight = None
        if isinstance(spec.class_weights, tuple):
            weight = torch.tensor(spec.class_weights, dtype=output.dtype, device=output.device)
        # ignore_index runs torch's own mean over the labelled cases; with no label at all it
        # is 0/0 = NaN with zero gradient, turned into a 0 loss (the gradient stays zero).
        loss = F.cross_entropy(output, target.long(), weight=weight, ignore_index=MISSING_CLASS)
        return torch.nan_to_num(loss, nan=0.0)
    target = target.to(output.dtype)
    if spec.type == "binary":
        output = output.reshape(-1)
        target = target.reshape(-1)
        labelled = torch.isfinite(target)
        pos_weight = None
        if isinstance(spec.class_weights, (int, float)) and not isinstance(spec.class_weights, bool):
            pos_weight = torch.tensor(float(spec.class_weights), dtype=output.dtype, device=output.device)
        losses = F.binary_cross_entropy_with_logits(
            output, torch.where(labelled, target, torch.zeros_like(target)), pos_weight=pos_weight, reduction="none"
        )
        return _masked_mean(losses, labelled)
    target = target.reshape(output.shape)
    labelled = torch.isfinite(target)
    error = output - torch.where(labelled, target, output.detach())
    return _masked_mean(error.square() if spec.loss == "mse" else error.abs(), labelled)


def task_loss_denominator(spec: TaskSpec, target: torch.Tensor) -> torch.Tensor:
    """What :func:`task_loss` divides by on one batch: the total weight of its labelled terms.

    A task's loss is a mean over the labelled entries of the batch (weighted by class for a
    class-weighted cross-entropy), so the loss of a whole batch is the sum over any split of
    the batch into parts of ``d_part / d_batch * loss_part``. Several processes (issue #10,
    :mod:`tsmtl.training.distributed`) weigh their shards' losses with it, which makes a masked
    loss on the global batch exact although the shards hold different numbers of labels.

    Parameters
    ----------
    spec : TaskSpec
        ``class_weights`` concrete (see :meth:`TaskSpec.resolve_class_weights`).
    target : Tensor
        As for :func:`task_loss`: ``(B,)`` class indices with ``-1`` missing, ``(B,)`` 0/1 with
        NaN missing, ``(B, H)`` or ``(B,)`` with NaN missing.

    Returns
    -------
    Tensor, 0-d, float64, on ``target``'s device
        Classification: the number of labelled cases, or with per-class ``class_weights`` the
        sum of their classes' weights (``F.cross_entropy``'s weighted mean divides by it).
        Binary and regression: the number of labelled (finite) entries (the positive weight of
        a binary task scales terms, not the count). 0 when nothing is labelled.
    """
    if spec.type == "classification":
        labels = target.long()
        labelled = labels != MISSING_CLASS
        if isinstance(spec.class_weights, tuple):
            weight = torch.tensor(spec.class_weights, dtype=torch.float64, device=target.device)
            return (weight[labels.clamp_min(0)] * labelled).sum()
        return labelled.sum().to(torch.float64)
    return torch.isfinite(target).sum().to(torch.float64)


__all__ = [
    "DEFAULT_METRICS",
    "LOSSES",
    "MISSING_CLASS",
    "TASK_TYPES",
    "TaskSpec",
    "specs_from_params",
    "task_loss",
    "task_loss_denominator",
]
