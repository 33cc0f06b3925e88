"""Split protocols of tsmtl.data.tasks: sizes, and the protocol recorded in every split."""

from __future__ import annotations

import numpy as np

from tsmtl.data.tasks import describe_protocol, split_task
from tsmtl.data.types import TimeSeriesData


def _data(name: str, n_per_class: int, seed: int) -> TimeSeriesData:
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b"], n_per_class)
    return TimeSeriesData(X=rng.normal(size=(len(y), 1, 8)), y=y, lengths=np.full(len(y), 8), name=name)


def test_merge_60_20_20_sizes_and_recorded_protocol():
    parts = {"train": _data("T", 10, 0), "test": _data("T", 15, 1)}  # 50 cases merged
    split = split_task(parts, "merge_60_20_20", seed=3)
    assert [split[k].n_cases for k in ("train", "val", "test")] == [30, 10, 10]
    assert all(part.meta["split_protocol"] == "merge_60_20_20" and part.meta["split_seed"] == 3 for part in split.values())
    assert describe_protocol({"T": split}) == "TRAIN+TEST merged, stratified 60/20/20, seed 3"


def test_official_protocol_keeps_test_and_leaves_the_input_untouched():
    parts = {"train": _data("T", 10, 0), "test": _data("T", 5, 1)}
    split = split_task(parts, "official", seed=0, val_fraction=0.2)
    assert [split[k].n_cases for k in ("train", "val", "test")] == [16, 4, 10]
    np.testing.assert_array_equal(split["test"].X, parts["test"].X)
    assert split["test"].meta["split_protocol"] == "official"
    assert "split_protocol" not in parts["test"].meta  # the caller's data is not tagged in place


def test_describe_protocol_lists_every_protocol_and_unrecorded_splits():
    a = split_task({"all": _data("A", 10, 0)}, "merge_60_20_20", seed=0)
    b = split_task({"all": _data("B", 10, 1)}, "holdout_80_20_val10", seed=1)
    untagged = {"train": _data("C", 5, 2)}
    text = describe_protocol({"A": a, "B": b, "C": untagged})
    assert "60/20/20, seed 0" in text and "80/20" in text and "seed 1" in text and "protocol not recorded" in text
