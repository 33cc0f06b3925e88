"""The multitask mini-batch schedule: Algorithm 2 of the ResNet2D paper (Sec. III-C).

Per epoch:

1. every task's examples are shuffled and its mini-batch counter restarts (lines 7-8);
2. ``n_iter = max over tasks of ceil(|D| / n_batch)`` iterations run (lines 3-5);
3. each iteration shuffles the order of the tasks (line 10) and yields ONE mini-batch of EACH
   task (lines 11-16); all examples of a batch come from one task, so they share a length;
4. a task that reaches the end of its (shuffled) examples is reshuffled and its counter
   restarts (lines 13-15), so smaller tasks are sampled more than once per epoch.

``ceil`` versus ``floor``: the paper writes ``|D| / n_batch``. ``ceil`` (the default,
``drop_last=False``) makes the largest task yield every one of its examples exactly once per
epoch, its last batch possibly short. With ``drop_last=True`` every batch is full
(``floor``, at least 1) and the leftover examples of a pass wait for the next reshuffle; a
task smaller than ``batch_size`` then yields all its examples as one batch.

Determinism: ``epoch(e)`` draws from ``numpy.random.default_rng([seed, e])`` only, so the
batches of epoch ``e`` do not depend on which epochs ran before -- a resumed run replays
exactly the batches an uninterrupted run would have seen. Single-task training (standard
mini-batch SGD) is the same schedule with one task.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np


class MultiTaskBatchSchedule:
    """Which examples of which task form each mini-batch of an epoch (Algorithm 2).

    Parameters
    ----------
    task_sizes : mapping str -> int
        Number of training examples of each task (in a fixed order: the task order is permuted
        from this order each iteration).
    batch_size : int
        ``n_batch``.
    seed : int
        Base seed; epoch ``e`` uses ``default_rng([seed, e])``.
    drop_last : bool
        False: ``ceil`` iterations and possibly short final batches; True: ``floor`` and full
        batches (see the module docstring).
    """

    def __init__(self, task_sizes: Mapping[str, int], batch_size: int, seed: int = 0, drop_last: bool = False) -> None:
        if not task_sizes:
            raise ValueError("MultiTaskBatchSchedule needs at least one task")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for task, size in task_sizes.items():
            if int(size) < 1:
                raise ValueError(f"task {task!r} has no training examples (size {size})")
        self.task_sizes = {str(task): int(size) for task, size in task_sizes.items()}
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)

    def _batches_per_pass(self, size: int) -> int:
        if self.drop_last:
            return max(1, size // self.batch_size)
        return math.ceil(size / self.batch_size)

    @property
    def iterations_per_epoch(self) -> int:
        """``n_iter``: the largest task's number of batches per pass over its data."""
        return max(self._batches_per_pass(size) for size in self.task_sizes.values())

    def __len__(self) -> int:
        """Batches per epoch: ``iterations_per_epoch * number of tasks``."""
        return self.iterations_per_epoch * len(self.task_sizes)

    def epoch(self, epoch: int) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(task, indices)`` for every mini-batch of ``epoch``.

        ``indices`` is an int64 array of positions into that task's training examples.
        """
        rng = np.random.default_rng([self.seed, int(epoch)])
        tasks = list(self.task_sizes)
        order = {task: rng.permutation(self.task_sizes[task]) for task in tasks}
        cursor = dict.fromkeys(tasks, 0)
        for _ in range(self.iterations_per_epoch):
            for position in rng.permutation(len(tasks)):
                task = tasks[position]
                size, start = self.task_sizes[task], cursor[task]
                stop = min(start + self.batch_size, size)
                yield task, order[task][start:stop].astype(np.int64)
                remaining = size - stop
                at_end = remaining == 0 or (self.drop_last and remaining < self.batch_size)
                if at_end:
                    order[task] = rng.permutation(size)
                    cursor[task] = 0
                else:
                    cursor[task] = stop
