"""The multitask step, evaluation and feature extraction shared by every multitask fit.

* :func:`multitask_step` -- the ``step_fn`` of the :class:`~tsmtl.training.loop.Trainer` for a
  :class:`~tsmtl.models.sharing.MultiTaskModel`: the outputs of the tasks in the batch, their
  masked losses (:func:`tsmtl.tasks.task_loss`) and the model's regulariser, returned as a
  :class:`~tsmtl.training.loop.StepOutput` for the task weighting.
* :func:`evaluate_tasks` -- every task's metrics (:func:`tsmtl.evaluation.metrics.task_metrics`)
  and loss on evaluation sets, and their means over tasks.
* :func:`predict_outputs`, :func:`extract_features` -- batched inference through
  :func:`~tsmtl.training.loop.predict_batched`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from tsmtl.evaluation.metrics import task_metrics
from tsmtl.tasks import TaskSpec, task_loss, task_loss_denominator
from tsmtl.training.loop import StepOutput, predict_batched
from tsmtl.training.tensors import TaskBatch

#: One evaluation set: tensors with ``x``, ``lengths`` and ``batch(index)`` (``SeriesTensors``
#: or ``JointTensors``), and the targets of the tasks scored on them.
EvalSet = tuple[Any, Mapping[str, torch.Tensor]]


def multitask_step(specs: Mapping[str, TaskSpec]) -> Callable[[nn.Module, TaskBatch], StepOutput]:
    """The step of a multitask model on a :class:`~tsmtl.training.tensors.TaskBatch`.

    The model computes only the tasks whose targets the batch carries (one with Algorithm 2,
    all with joint batches); each task's loss is masked over its missing labels. The step's
    ``denominators`` are each task's labelled weight in the batch
    (:func:`tsmtl.tasks.task_loss_denominator`, 0-d float64): with several processes (issue #10)
    they make the shards' masked losses combine into exactly the global batch's (PhysioNet's
    partial labels in ``mtl_joint``); one process does not use them.
    """

    def step(model: nn.Module, batch: TaskBatch) -> StepOutput:
        x, lengths, targets = batch
        outputs = model(x, lengths, tasks=list(targets))
        losses = {task: task_loss(specs[task], outputs[task], target) for task, target in targets.items()}
        denominators = {task: task_loss_denominator(specs[task], target) for task, target in targets.items()}
        return StepOutput(losses=losses, extra=model.regularisation(), denominators=denominators)

    return step


def _length_order(tensors: Any) -> np.ndarray:
    # Batches of similar length carry little padding; the models mask it, so order does not
    # change the outputs.
    return np.argsort(tensors.lengths.numpy(), kind="stable")


def predict_outputs(model: nn.Module, tensors: Any, tasks: Sequence[str], batch_size: int = 256) -> dict[str, np.ndarray]:
    """Raw outputs ``{task: (N, ...)}`` of ``model`` for every case of ``tensors`` (eval mode)."""
    tasks = list(tasks)
    return predict_batched(
        model,
        lambda m, x, lengths: m(x, lengths, tasks=tasks),
        len(tensors),
        lambda index: tuple(tensors.batch(index)[:2]),
        batch_size,
        order=_length_order(tensors),
    )


def extract_features(model: nn.Module, tensors: Any, task: str | None = None, batch_size: int = 256) -> np.ndarray:
    """``model.features`` of every case of ``tensors``: ``(N, D)`` float32 (``task=None``: shared)."""
    return predict_batched(
        model,
        lambda m, x, lengths: m.features(x, lengths, task=task),
        len(tensors),
        lambda index: tuple(tensors.batch(index)[:2]),
        batch_size,
        order=_length_order(tensors),
    )


def _metric_targets(target: torch.Tensor) -> np.ndarray:
    """Targets as the metrics module reads them (class indices with -1 missing, NaN missing)."""
    return target.numpy()


def evaluate_tasks(
    model: nn.Module,
    sets: Sequence[EvalSet],
    specs: Mapping[str, TaskSpec],
    batch_size: int = 256,
    prefix: str = "val_",
) -> dict[str, float]:
    """Every task's metrics and loss on its evaluation set, and their means over the tasks.

    Parameters
    ----------
    model : MultiTaskModel
    sets : sequence of (tensors, {task: target})
        Algorithm 2 data: one set per task (each task has its own series); joint data: one set
        with every task's target.
    specs : mapping task -> TaskSpec
        The metrics of each task (``spec.metrics``) and its loss.
    batch_size : int
    prefix : str

    Returns
    -------
    dict
        ``{prefix}{metric}/{task}`` for every task and metric, ``{prefix}loss/{task}`` (the
        training loss on the set, masked like in training), ``{prefix}{metric}`` the
        unweighted mean over the tasks that have the metric, and ``{prefix}loss`` the mean task
        loss.
    """
    scores: dict[str, float] = {}
    by_metric: dict[str, list[float]] = {}
    for tensors, targets in sets:
        outputs = predict_outputs(model, tensors, list(targets), batch_size)
        for task, target in targets.items():
            spec = specs[task]
            output = outputs[task]
            values = task_metrics(spec.type, _metric_targets(target), output, spec.metrics, output_is_logit=True)
            values["loss"] = float(task_loss(spec, torch.from_numpy(output), target))
            for metric, value in values.items():
                scores[f"{prefix}{metric}/{task}"] = value
                by_metric.setdefault(metric, []).append(value)
    for metric, values in by_metric.items():
        scores[f"{prefix}{metric}"] = float(np.mean(values))
    return scores


__all__ = ["EvalSet", "evaluate_tasks", "extract_features", "multitask_step", "predict_outputs"]
