"""Split protocols of tsmtl.data.tasks: sizes, and the protocol recorded in every split."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.data.tasks import describe_protocol, split_task, split_tasks
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


# ------------------------------------------------------------------ errors name the task (#11 "Bad input, one more pass")
def test_too_few_cases_for_a_stratified_split_names_the_task_and_class():
    """An unnamed part takes its task's name from the group, so the error says which task."""
    rng = np.random.default_rng(0)
    y = np.array(["a"] * 6 + ["rare"] * 2)
    unnamed = TimeSeriesData(X=rng.normal(size=(8, 1, 4)), y=y, lengths=np.full(8, 4))
    with pytest.raises(ValueError, match=r"^ECGTiny: class 'rare' \(2 cases\) has too few members to stratify"):
        split_tasks({"ECGTiny": {"train": unnamed}}, "merge_60_20_20")


@pytest.mark.parametrize(
    ("parts", "options", "message"),
    [
        (
            {"train": "T"},
            {"protocol": "official"},
            r"^Beef: protocol 'official' needs the archive's TRAIN and TEST, got \['train'\]",
        ),
        (
            {"train": "T", "test": "T"},
            {"protocol": "official", "val_fraction": 1.5},
            r"^Beef: val_fraction must lie in \[0, 1\), got 1.5",
        ),
        ({"train": "T"}, {"protocol": "random"}, r"^Beef: unknown split protocol 'random'"),
    ],
)
def test_protocol_errors_name_the_task(parts, options, message):
    group = {"Beef": {key: _data(name, 10, 0) for key, name in parts.items()}}
    with pytest.raises(ValueError, match=message):
        split_tasks(group, **options)


def test_no_parts_names_the_task():
    with pytest.raises(ValueError, match=r"^Beef: no splits to work on"):
        split_task({}, name="Beef")
