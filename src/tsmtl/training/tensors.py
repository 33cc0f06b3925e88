"""From :class:`~tsmtl.data.types.TimeSeriesData` to the float32 tensors the models take.

Convention: any preprocessing (e.g. per-series z-normalisation, imputation) is done upstream on
the ``TimeSeriesData``; here every non-finite value -- the NaN padding after a series' true
length *and* any remaining gap inside it -- becomes ``0.0``, and the true lengths travel with
the values so the models can mask the padding (see ``ResNet1D``/``ResNet2D``). Labels become
class indices ``0..K-1`` in the order of the sorted training classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

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


class ClassificationBatch(NamedTuple):
    """One mini-batch of one task: ``x`` (b, C, T), ``lengths`` (b,), ``y`` (b,) class indices."""

    task: str
    x: torch.Tensor
    lengths: torch.Tensor
    y: torch.Tensor


class _EpochBatches:
    """The batches of one epoch: iterable, with a length (for progress bars)."""

    def __init__(self, provider: ScheduledBatches, epoch: int) -> None:
        self.provider = provider
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.provider.schedule)

    def __iter__(self) -> Iterator[ClassificationBatch]:
        for task, index in self.provider.schedule.epoch(self.epoch):
            x, lengths, y = self.provider.tensors[task].batch(index)
            yield ClassificationBatch(task, x, lengths, y)


class ScheduledBatches:
    """The ``batches`` provider of :class:`~tsmtl.training.loop.Trainer` for classification.

    ``provider(epoch)`` iterates over the :class:`ClassificationBatch` of ``epoch`` in the order
    of ``schedule.epoch(epoch)`` (Algorithm 2).

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
