"""tsmtl.kedro_datasets.TorchStateDictDataset: trained weights as versioned, weights-only torch files (issue #11)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from kedro.io import DatasetError, Version

from tsmtl.kedro_datasets import TorchStateDictDataset
from tsmtl.tasks import TaskSpec


class Marker:
    """A class a weights-only load must not instantiate."""

    def __reduce__(self):
        return (print, ("code ran on load",))


def test_a_dict_of_state_dicts_round_trips_with_plain_values(tmp_path):
    layer = torch.nn.Linear(3, 2)
    data = {
        "ResNet1D w/ MTL": {
            "Cricket": {
                "state_dict": layer.state_dict(),
                "classes": np.array([1, 2, 3]),  # numpy labels -> a list of ints
                "best_epoch": np.int64(4),
                "shape": (2, 3),
                "scores": {"accuracy/CricketX": np.float32(0.5)},
                "head": None,
            }
        }
    }
    dataset = TorchStateDictDataset(filepath=str(tmp_path / "models.pt"))
    dataset.save(data)
    loaded = dataset.load()["ResNet1D w/ MTL"]["Cricket"]
    assert loaded["classes"] == [1, 2, 3] and type(loaded["classes"][0]) is int
    assert loaded["best_epoch"] == 4 and type(loaded["best_epoch"]) is int
    assert loaded["shape"] == [2, 3] and loaded["scores"] == {"accuracy/CricketX": 0.5} and loaded["head"] is None
    other = torch.nn.Linear(3, 2)
    other.load_state_dict(loaded["state_dict"])
    x = torch.randn(5, 3)
    assert torch.equal(other(x), layer(x))


def test_a_module_is_saved_as_its_state_dict(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.BatchNorm1d(4))
    model(torch.randn(8, 1, 10))  # moves the batch-norm running statistics (buffers)
    dataset = TorchStateDictDataset(filepath=str(tmp_path / "model.pt"))
    dataset.save(model)
    loaded = dataset.load()
    assert loaded.keys() == model.state_dict().keys()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())
    assert loaded["1.running_mean"].abs().sum() > 0


def test_anything_but_tensors_and_plain_values_is_refused_on_save_naming_where(tmp_path):
    dataset = TorchStateDictDataset(filepath=str(tmp_path / "models.pt"))
    spec = TaskSpec(name="A", type="classification", n_outputs=2)
    with pytest.raises(DatasetError, match=r"data\['m'\]\['G'\]\['tasks'\]\[0\] is a TaskSpec"):
        dataset.save({"m": {"G": {"tasks": [spec]}}})
    assert not (tmp_path / "models.pt").exists()


def test_loading_runs_no_pickled_code(tmp_path):
    path = tmp_path / "unsafe.pt"
    torch.save({"w": torch.ones(1), "payload": Marker()}, path)
    with pytest.raises(DatasetError, match="Weights only load failed|weights_only"):
        TorchStateDictDataset(filepath=str(path)).load()
    with pytest.raises(DatasetError, match="weights_only=True only"):
        TorchStateDictDataset(filepath=str(path), load_args={"weights_only": False})
    with pytest.raises(pickle.UnpicklingError):  # what the dataset guards against: plain torch.load(weights_only=True)
        torch.load(path, weights_only=True)


def test_versions_and_fsspec_paths(tmp_path):
    first, second = {"w": torch.zeros(2)}, {"w": torch.ones(2)}
    TorchStateDictDataset(filepath=str(tmp_path / "m.pt"), version=Version(None, "2026-01-01T00.00.00.000Z")).save(first)
    latest = TorchStateDictDataset(filepath=str(tmp_path / "m.pt"), version=Version(None, None))
    assert latest.exists()
    latest.save(second)
    assert sorted(p.parent.name for p in (tmp_path / "m.pt").glob("*/m.pt"))[0] == "2026-01-01T00.00.00.000Z"
    newest = TorchStateDictDataset(filepath=str(tmp_path / "m.pt"), version=Version(None, None)).load()
    assert torch.equal(newest["w"], second["w"])
    old = TorchStateDictDataset(filepath=str(tmp_path / "m.pt"), version=Version("2026-01-01T00.00.00.000Z", None)).load()
    assert torch.equal(old["w"], first["w"])
    in_memory = TorchStateDictDataset(filepath="memory://tsmtl-test/models.pt")  # any fsspec file system
    assert not in_memory.exists()
    in_memory.save(first)
    assert in_memory.exists() and torch.equal(in_memory.load()["w"], first["w"])
