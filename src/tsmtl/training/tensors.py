"""From the data types to the float32 tensors the models take, and the two batch providers.

Convention: any preprocessing (e.g. per-series z-normalisation, imputation) is done upstream on
the ``TimeSeriesData`` / ``JointTaskData``; here every non-finite input value -- the NaN padding
after a series' true length *and* any remaining gap inside it -- becomes ``0.0``, and the true
lengths travel with the values so the models can mask the padding (see ``ResNet1D``/
``ResNet2D``). Labels become class indices ``0..K-1`` in the order of the sorted training
classes.

Both batch providers yield the one batch type of the project's multitask training,
:class:`TaskBatch` ``(x, lengths, targets={task: target})``:

* :class:`ScheduledBatches` -- the ResNet2D paper's Algorithm 2: every batch holds ONE task's
  series (tasks with different inputs, e.g. a group of UCR datasets);
* :class:`JointBatches` -- joint batches: one input, every task's target on the same step
  (same-input multi-output problems), so a task weighting sees the vector of task losses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from tsmtl.data.types import TimeSeriesData
from tsmtl.training.schedule import MultiTaskBatchSchedule


def encode_labels(labels: np.ndarray, classes: np.ndarray, name: str = "") -> np.ndarray:
    """Class index of every label: ``classes[index] == label``.

    Parameters
    ----------
    labels : array, shape (N,)
    classes : array, shape (K,), sorted and unique (e.g. ``TimeSeriesData.classes`` of the training split)
    name : str
        Dataset name for the error message.

    Returns
    -------
    np.ndarray, int64, shape (N,)

    Raises
    ------
    ValueError
        If a label is not among ``classes`` (e.g. a test class never seen in training).
    """
    # np.searchsorted on the sorted classes; sklearn's LabelEncoder would refit the classes
    # on every split, while the class order must be the training split's.
    labels = np.asarray(labels)
    classes = np.asarray(classes)
    index = np.searchsorted(classes, labels)
    index = np.clip(index, 0, len(classes) - 1)
    unknown = classes[index] != labels
    if unknown.any():
        missing = np.unique(labels[unknown])[:5].tolist()
        raise ValueError(f"{name}: labels {missing} are not among the classes {classes.tolist()}")
    return index.astype(np.int64)


@dataclass
class SeriesTensors:
    """One dataset as tensors.

    Attributes
    ----------
    x : Tensor, float32, shape (N, C, T)
        Values, non-finite (padding and gaps) replaced by 0.
    lengths : Tensor, int64, shape (N,)
        True length of every series.
    y : Tensor, int64, shape (N,), or None
        Class indices into ``classes``.
    classes : np.ndarray or None
        The label of each class index.
    name : str
    """

    x: torch.Tensor
    lengths: torch.Tensor
    y: torch.Tensor | None
    classes: np.ndarray | None
    name: str = ""

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_classes(self) -> int:
        if self.classes is None:
            raise ValueError(f"{self.name}: unlabelled tensors have no classes")
        return len(self.classes)

    def batch(self, index: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(x, lengths, y)`` of the cases ``index``; ``x`` is cut to the longest selected length.

        Returns
        -------
        x : (b, C, T_b) with ``T_b = max(lengths[index])`` (at least 1)
        lengths : (b,)
        y : (b,) or None
        """
        index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        lengths = self.lengths[index]
        width = max(1, int(lengths.max())) if len(index) else 1
        x = self.x[index, :, :width]
        y = None if self.y is None else self.y[index]
        return x, lengths, y


def to_tensors(data: TimeSeriesData, classes: np.ndarray | None = None) -> SeriesTensors:
    """Tensors of ``data``: NaN -> 0 float32 values, lengths and (if labelled) class indices.

    Parameters
    ----------
    data : TimeSeriesData
    classes : array, optional
        Class order to encode ``data.y`` with -- pass the training split's ``classes`` when
        converting validation/test splits. Default: ``data.classes`` (sorted unique labels).
    """
    x = np.nan_to_num(np.asarray(data.X, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    y = None
    if data.y is not None:
        classes = data.classes if classes is None else np.asarray(classes)
        y = torch.from_numpy(encode_labels(data.y, classes, data.name))
    return SeriesTensors(
        x=torch.from_numpy(x),
        lengths=torch.from_numpy(np.asarray(data.lengths, dtype=np.int64)),
        y=y,
        classes=None if data.y is None else classes,
        name=data.name,
    )


class TaskBatch(NamedTuple):
    """One mini-batch: ``x`` (b, C, T), ``lengths`` (b,), ``targets`` {task: target of the b cases}.

    Target shapes and missing-label codes as in :mod:`tsmtl.tasks`.
    """

    x: torch.Tensor
    lengths: torch.Tensor
    targets: dict[str, torch.Tensor]


@dataclass
class JointTensors:
    """Same-input multi-output data as tensors (one input per case, a target per task).

    Attributes
    ----------
    x : Tensor, float32, (N, C, T)
        Values, non-finite (padding and gaps) replaced by 0.
    lengths : Tensor, int64, (N,)
    targets : dict task -> Tensor
        ``(N,)`` int64 class indices with ``-1`` missing (classification), ``(N,)`` float32 with
        NaN missing (binary), ``(N, H)`` float32 with NaN missing (regression).
    name : str
    """

    x: torch.Tensor
    lengths: torch.Tensor
    targets: dict[str, torch.Tensor]
    name: str = ""

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def batch(self, index: np.ndarray | torch.Tensor) -> TaskBatch:
        """The cases ``index``, ``x`` cut to the longest selected length (at least 1)."""
        index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        lengths = self.lengths[index]
        width = max(1, int(lengths.max())) if len(index) else 1
        return TaskBatch(self.x[index, :, :width], lengths, {task: t[index] for task, t in self.targets.items()})


def target_tensor(values: np.ndarray, task_type: str, n_outputs: int, name: str = "") -> torch.Tensor:
    """One task's targets as the tensor :func:`tsmtl.tasks.task_loss` takes.

    Parameters
    ----------
    values : array (N,) or (N, H), float, NaN = missing
        Classification: class indices ``0..K-1`` (as numbers); binary: 0/1; regression: values.
    task_type : {"classification", "binary", "regression"}
    n_outputs : int
        K, 1 or H (checked).
    """
    values = np.asarray(values, dtype=np.float64)
    if task_type == "classification":
        finite = np.isfinite(values)
        labels = values[finite]
        if values.ndim != 1 or (labels != np.round(labels)).any() or (labels < 0).any() or (labels >= n_outputs).any():
            raise ValueError(f"{name}: classification targets must be class indices in [0, {n_outputs}) or NaN, shape (N,)")
        return torch.from_numpy(np.where(finite, values, -1).astype(np.int64))
    if task_type == "binary":
        labels = values[np.isfinite(values)]
        if values.ndim != 1 or not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError(f"{name}: binary targets must be 0, 1 or NaN, shape (N,)")
        return torch.from_numpy(values.astype(np.float32))
    values = values.reshape(len(values), -1)
    if values.shape[1] != n_outputs:
        raise ValueError(f"{name}: regression targets have {values.shape[1]} outputs, the task {n_outputs}")
    return torch.from_numpy(values.astype(np.float32))


def joint_tensors(data: Any, specs: Mapping[str, Any]) -> JointTensors:
    """:class:`JointTensors` of a ``JointTaskData`` (``X``, ``lengths``, ``targets``) for ``specs``.

    Every task of ``specs`` must have a target in ``data.targets``; other targets are ignored.
    """
    missing = [task for task in specs if task not in data.targets]
    if missing:
        raise KeyError(f"{data.name}: no targets for tasks {missing}; the data has {sorted(data.targets)}")
    x = np.nan_to_num(np.asarray(data.X, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    targets = {
        task: target_tensor(data.targets[task], spec.type, spec.n_outputs, f"{data.name}/{task}") for task, spec in specs.items()
    }
    return JointTensors(torch.from_numpy(x), torch.from_numpy(np.asarray(data.lengths, dtype=np.int64)), targets, data.name)


def batch_bounds(n_items: int, batch_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each mini-batch over ``n_items`` shuffled items.

    The last incomplete batch is kept, except a single leftover item, which joins the previous
    batch: batch norm in training mode needs more than one value per channel, and the ResNet2D
    trunk's last feature maps are 1 x 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    starts = list(range(0, n_items, batch_size))
    bounds = [(start, min(start + batch_size, n_items)) for start in starts]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2] = (bounds[-2][0], n_items)
        bounds.pop()
    return bounds


class _EpochBatches:
    """The batches of one epoch: iterable, with a length (for progress bars)."""

    def __init__(self, provider: ScheduledBatches, epoch: int) -> None:
        self.provider = provider
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.provider.schedule)

    def __iter__(self) -> Iterator[TaskBatch]:
        for task, index in self.provider.schedule.epoch(self.epoch):
            x, lengths, y = self.provider.tensors[task].batch(index)
            yield TaskBatch(x, lengths, {task: y})


class ScheduledBatches:
    """The ``batches`` provider of :class:`~tsmtl.training.loop.Trainer` for classification.

    ``provider(epoch)`` iterates over the :class:`TaskBatch` es of ``epoch`` -- each with the
    targets of one task only -- in the order of ``schedule.epoch(epoch)`` (Algorithm 2).

    Parameters
    ----------
    tensors : mapping task -> SeriesTensors
        Labelled training tensors of every task in ``schedule``.
    schedule : MultiTaskBatchSchedule
    """

    def __init__(self, tensors: Mapping[str, SeriesTensors], schedule: MultiTaskBatchSchedule) -> None:
        for task, size in schedule.task_sizes.items():
            if task not in tensors:
                raise KeyError(f"schedule task {task!r} has no tensors")
            if len(tensors[task]) != size or tensors[task].y is None:
                raise ValueError(f"task {task!r}: schedule expects {size} labelled examples, tensors have {len(tensors[task])}")
        self.tensors = dict(tensors)
        self.schedule = schedule

    @classmethod
    def build(
        cls, tensors: Mapping[str, SeriesTensors], batch_size: int, seed: int = 0, drop_last: bool = False
    ) -> ScheduledBatches:
        """Provider with a :class:`MultiTaskBatchSchedule` over ``tensors``' sizes."""
        sizes = {task: len(t) for task, t in tensors.items()}
        return cls(tensors, MultiTaskBatchSchedule(sizes, batch_size, seed=seed, drop_last=drop_last))

    def __call__(self, epoch: int) -> _EpochBatches:
        return _EpochBatches(self, epoch)


class _EpochJointBatches:
    """The joint batches of one epoch: iterable, with a length (for progress bars)."""

    def __init__(self, provider: JointBatches, epoch: int) -> None:
        self.provider = provider
        self.order = np.random.default_rng([provider.seed, epoch]).permutation(len(provider.tensors))
        self.bounds = batch_bounds(len(self.order), provider.batch_size)

    def __len__(self) -> int:
        return len(self.bounds)

    def __iter__(self) -> Iterator[TaskBatch]:
        for start, stop in self.bounds:
            yield self.provider.tensors.batch(self.order[start:stop])


class JointBatches:
    """The ``batches`` provider for joint batches: every task's target on every step.

    ``provider(epoch)`` shuffles the cases with ``numpy.random.default_rng([seed, epoch])``
    (so a resumed run replays the batches of an uninterrupted one) and cuts them into batches
    of ``batch_size`` (:func:`batch_bounds`).

    Parameters
    ----------
    tensors : JointTensors
    batch_size : int
    seed : int
    """

    def __init__(self, tensors: JointTensors, batch_size: int, seed: int = 0) -> None:
        if len(tensors) == 0:
            raise ValueError(f"{tensors.name}: no training cases")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.seed = int(seed)

    @property
    def task_sizes(self) -> dict[str, int]:
        """Labelled cases of every task (a case counts when any of its target entries is present)."""
        sizes = {}
        for task, target in self.tensors.targets.items():
            present = target >= 0 if target.dtype == torch.long else torch.isfinite(target)
            sizes[task] = int(present.reshape(len(target), -1).any(dim=1).sum())
        return sizes

    def __call__(self, epoch: int) -> _EpochJointBatches:
        return _EpochJointBatches(self, epoch)
