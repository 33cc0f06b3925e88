"""Algorithm 2 of the ResNet2D paper: the multitask mini-batch schedule, on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.training.schedule import MultiTaskBatchSchedule


def _batches(schedule, epoch=0):
    return [(task, index.tolist()) for task, index in schedule.epoch(epoch)]


def test_hand_worked_case_a5_b2_batch2():
    schedule = MultiTaskBatchSchedule({"a": 5, "b": 2}, batch_size=2, seed=3)
    # n_iter = max(ceil(5/2), ceil(2/2)) = 3 iterations of 2 batches each
    assert schedule.iterations_per_epoch == 3
    assert len(schedule) == 6
    batches = _batches(schedule)
    assert len(batches) == 6
    # every iteration holds one batch of each task, in a shuffled order
    for iteration in range(3):
        assert sorted(task for task, _ in batches[2 * iteration : 2 * iteration + 2]) == ["a", "b"]
    a_batches = [index for task, index in batches if task == "a"]
    b_batches = [index for task, index in batches if task == "b"]
    # the largest task: every example exactly once, batches of 2, 2, 1
    assert sorted(sum(a_batches, [])) == [0, 1, 2, 3, 4]
    assert [len(index) for index in a_batches] == [2, 2, 1]
    # b reaches its end after every batch: it restarts (all of b again) each iteration
    assert all(sorted(index) == [0, 1] for index in b_batches)


def test_smaller_task_is_reshuffled_when_it_restarts():
    schedule = MultiTaskBatchSchedule({"a": 40, "b": 6}, batch_size=2, seed=0)
    assert schedule.iterations_per_epoch == 20
    b_batches = [index for task, index in _batches(schedule) if task == "b"]
    assert len(b_batches) == 20
    passes = [sum(b_batches[i : i + 3], []) for i in range(0, 18, 3)]  # 3 batches = one pass over b
    assert all(sorted(p) == list(range(6)) for p in passes)
    assert len({tuple(p) for p in passes}) > 1  # the passes are in different (reshuffled) orders


def test_task_order_is_shuffled_per_iteration():
    schedule = MultiTaskBatchSchedule({"a": 20, "b": 20, "c": 20}, batch_size=2, seed=1)
    batches = _batches(schedule)
    orders = [tuple(task for task, _ in batches[i : i + 3]) for i in range(0, len(batches), 3)]
    assert len(orders) == 10
    assert all(sorted(order) == ["a", "b", "c"] for order in orders)
    assert len(set(orders)) > 1


def test_epochs_are_deterministic_and_independent_of_history():
    schedule = MultiTaskBatchSchedule({"a": 7, "b": 3}, batch_size=2, seed=5)
    first = _batches(schedule, epoch=2)
    _batches(schedule, epoch=0)  # consuming another epoch changes nothing
    assert _batches(MultiTaskBatchSchedule({"a": 7, "b": 3}, batch_size=2, seed=5), epoch=2) == first
    assert _batches(schedule, epoch=2) == first
    assert _batches(schedule, epoch=3) != first  # every epoch is shuffled anew
    assert _batches(MultiTaskBatchSchedule({"a": 7, "b": 3}, batch_size=2, seed=6), epoch=2) != first


def test_single_task_is_standard_minibatch_sgd():
    schedule = MultiTaskBatchSchedule({"only": 10}, batch_size=4, seed=0)
    batches = _batches(schedule)
    assert [task for task, _ in batches] == ["only"] * 3
    assert [len(index) for _, index in batches] == [4, 4, 2]
    assert sorted(sum((index for _, index in batches), [])) == list(range(10))


def test_drop_last_uses_floor_and_full_batches():
    schedule = MultiTaskBatchSchedule({"a": 5, "b": 3, "tiny": 1}, batch_size=2, seed=0, drop_last=True)
    assert schedule.iterations_per_epoch == 2  # floor(5/2)
    batches = list(schedule.epoch(0))
    for task, index in batches:
        assert len(index) == (1 if task == "tiny" else 2)  # a task smaller than a batch is one batch
        assert index.dtype == np.int64
    a_seen = np.concatenate([index for task, index in batches if task == "a"])
    assert len(np.unique(a_seen)) == 4  # 4 of a's 5 examples; the 5th waits for the next shuffle


def test_invalid_schedules_raise():
    with pytest.raises(ValueError, match="no training examples"):
        MultiTaskBatchSchedule({"a": 0}, batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        MultiTaskBatchSchedule({"a": 3}, batch_size=0)
    with pytest.raises(ValueError, match="at least one task"):
        MultiTaskBatchSchedule({}, batch_size=2)
