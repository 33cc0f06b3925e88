"""Checkpoint identity: run folders and resume checks follow the data's content, not its shape."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.data.tasks import split_task
from tsmtl.data.types import TimeSeriesData
from tsmtl.training.fingerprint import (
    StaleCheckpointError,
    check_resumable,
    data_digest,
    run_fingerprint,
)


def _splits(seed: int, n_per_class: int = 10, length: int = 12, data_seed: int = 0):
    rng = np.random.default_rng(data_seed)
    y = np.repeat([0, 1], n_per_class)
    X = rng.normal(size=(len(y), 1, length)) + y[:, None, None]
    data = TimeSeriesData(X=X, y=y, lengths=np.full(len(y), length), name="a")
    return {"a": split_task({"all": data}, "merge_60_20_20", seed=seed)}


def test_digest_is_stable_and_order_independent():
    first, again = _splits(0), _splits(0)
    assert data_digest(first) == data_digest(again)
    reordered = {"a": {k: first["a"][k] for k in ("test", "val", "train")}}
    assert data_digest(reordered) == data_digest(first)
    assert len(data_digest(first)) == 32


def test_digest_sees_another_split_of_the_same_sizes():
    seed0, seed1 = _splits(0), _splits(1)
    for split in ("train", "val", "test"):  # same shapes, so a shape-only hash would collide
        assert seed0["a"][split].X.shape == seed1["a"][split].X.shape
    assert data_digest(seed0) != data_digest(seed1)


@pytest.mark.parametrize("change", ["value", "label", "length", "name", "test_only"])
def test_digest_sees_every_kind_of_change(change):
    base = _splits(0)
    changed = _splits(0)
    train = changed["a"]["train"]
    if change == "value":
        train.X[3, 0, 5] += 1e-9
    elif change == "label":
        train.y[0] = 1 - train.y[0]
    elif change == "length":
        train.X[0, 0, -1] = np.nan
        train.lengths[0] -= 1
    elif change == "name":
        train.name = "b"
    else:  # the test split is part of the digest too: a fit is scored on it
        changed["a"]["test"].X[0, 0, 0] += 1.0
    assert data_digest(changed) != data_digest(base)


def test_digest_of_nan_padding_and_string_labels():
    X = np.array([[[1.0, 2.0, np.nan]], [[1.0, 2.0, 3.0]]])
    a = TimeSeriesData(X=X, y=np.array(["x", "y"]), lengths=[2, 3], name="s")
    b = TimeSeriesData(X=X.copy(), y=np.array(["x", "y"]), lengths=[2, 3], name="s")
    assert data_digest(a) == data_digest(b)
    b.y[1] = "z"
    assert data_digest(a) != data_digest(b)
    with pytest.raises(TypeError, match="cannot hash"):
        data_digest(object())


def test_run_fingerprint_covers_digest_and_settings():
    digest = data_digest(_splits(0))
    base = run_fingerprint(digest, "resnet1d", {"widths": [4]}, 0)
    assert base == run_fingerprint(digest, "resnet1d", {"widths": [4]}, 0)
    assert base != run_fingerprint(data_digest(_splits(1)), "resnet1d", {"widths": [4]}, 0)
    assert base != run_fingerprint(digest, "resnet1d", {"widths": [8]}, 0)
    assert base != run_fingerprint(digest, "resnet1d", {"widths": [4]}, 1)


def test_check_resumable_names_both_digests():
    check_resumable("abc", "abc", "last.pt")
    with pytest.raises(StaleCheckpointError, match="digest abc.*digest def"):
        check_resumable("abc", "def", "last.pt")
    with pytest.raises(StaleCheckpointError, match="records no data digest"):
        check_resumable(None, "def", "last.pt")
