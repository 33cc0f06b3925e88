"""DistributedDataParallel for the Trainer (issue #10): two gloo processes on the CPU train to the
weights of one process on the same global batches.

One ``torchrun`` launch (``python -m torch.distributed.run --standalone --nproc-per-node 2`` on this
file, ``OMP_NUM_THREADS=1``) runs every two-process scenario (:func:`_worker`); the tests compare
its results with the same scenarios run here in one process. The global batches hold an odd number
of items (Algorithm 2 batches of 5, joint batches of 7), so the shards are uneven (3 + 2, 4 + 3).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node, pipeline
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset
from torch import nn

from tsmtl.experiments.dtw_approximation import PairBatches, regression_step
from tsmtl.models.masked_norm import MaskedBatchNorm1d
from tsmtl.tasks import TaskSpec, task_loss
from tsmtl.training import distributed, loop
from tsmtl.training.distributed import (
    Shard,
    SyncMaskedBatchNorm1d,
    check_weighting,
    convert_batch_norms,
    shard_batch,
)
from tsmtl.training.loop import StepOutput, Trainer
from tsmtl.training.multitask import multitask_step
from tsmtl.training.tensors import (
    JointBatches,
    JointTensors,
    ScheduledBatches,
    SeriesTensors,
    TaskBatch,
)
from tsmtl.training.weighting import build_weighting

WORLD = 2
EPOCHS = 3
SCHEDULED_SPECS = {"a": TaskSpec("a", "classification", 2), "b": TaskSpec("b", "classification", 3)}
JOINT_SPECS = {"kind": TaskSpec("kind", "classification", 3), "level": TaskSpec("level", "regression", 2)}


# -- the tiny data and models (no batch norm unless asked) -------------------------------------
def _series(n: int, length: int, n_classes: int, seed: int, variable: bool = False) -> SeriesTensors:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    x = (rng.normal(size=(n, 1, length)) + y[:, None, None]).astype(np.float32)
    lengths = rng.integers(length // 2, length + 1, size=n) if variable else np.full(n, length)
    for i, steps in enumerate(lengths):
        x[i, :, steps:] = 0.0
    lengths = torch.from_numpy(lengths.astype(np.int64))
    return SeriesTensors(torch.from_numpy(x), lengths, torch.from_numpy(y), np.arange(n_classes))


def _scheduled_batches(variable: bool = False) -> ScheduledBatches:
    """Algorithm 2 over two tasks of 13 and 9 series, batches of 5 (last batches of 3 and 4)."""
    tensors = {"a": _series(13, 10, 2, 0, variable), "b": _series(9, 7, 3, 1, variable)}
    return ScheduledBatches.build(tensors, batch_size=5, seed=3)


def _joint_tensors(missing: bool) -> JointTensors:
    """23 cases, a 3-class target and a 2-output regression target (some labels missing)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(23, 2, 9)).astype(np.float32)
    kind = torch.from_numpy(rng.integers(0, 3, 23))
    level = torch.from_numpy(np.stack([x[:, 0].mean(1), x[:, 1].std(1)], axis=1).astype(np.float32))
    if missing:
        kind[rng.random(23) < 0.3] = -1
        level[torch.from_numpy(rng.random((23, 2)) < 0.3)] = float("nan")
    return JointTensors(torch.from_numpy(x), torch.full((23,), 9), {"kind": kind, "level": level})


class TinyMultiTask(nn.Module):
    """Conv1d -> (masked batch norm) -> ReLU -> masked mean over time -> one linear head per task."""

    def __init__(self, in_channels: int, specs: dict[str, TaskSpec], batch_norm: bool = False) -> None:
        super().__init__()
        # no bias before a batch norm: its gradient is rounding noise, which Adam would amplify to +-lr steps
        self.conv = nn.Conv1d(in_channels, 4, 3, padding=1, bias=not batch_norm)
        self.norm = MaskedBatchNorm1d(4) if batch_norm else None
        self.heads = nn.ModuleDict({task: nn.Linear(4, spec.n_outputs) for task, spec in specs.items()})

    def forward(self, x, lengths, tasks):
        mask = (torch.arange(x.shape[-1]) < lengths[:, None]).unsqueeze(1)  # (B, 1, T)
        z = self.conv(x)
        if self.norm is not None:
            z = self.norm(z, mask)
        z = torch.relu(z) * mask
        pooled = z.sum(-1) / lengths[:, None]
        return {task: self.heads[task](pooled) for task in tasks}

    def regularisation(self):
        return None


def _masked_step(specs):
    """The multitask step plus each task's denominators: its labelled entries in the batch."""
    step = multitask_step(specs)

    def masked(model, batch: TaskBatch) -> StepOutput:
        output = step(model, batch)
        counts = {}
        for task, target in batch.targets.items():
            counts[task] = (target >= 0).sum() if target.dtype == torch.long else torch.isfinite(target).sum()
        return StepOutput(output.losses, output.extra, output.logs, denominators=counts)

    return masked


def _scheduled_trainer(epochs: int = EPOCHS, batch_norm: bool = False, **kwargs) -> Trainer:
    batches = _scheduled_batches(variable=batch_norm)
    val = _series(8, 10, 2, 9)

    def evaluate(model):
        output = model(val.x, val.lengths, tasks=["a"])["a"]
        return {"val_loss": task_loss(SCHEDULED_SPECS["a"], output, val.y)}

    return Trainer(
        lambda: TinyMultiTask(1, SCHEDULED_SPECS, batch_norm), multitask_step(SCHEDULED_SPECS), batches, evaluate,
        epochs=epochs, lr=1e-2, monitor="val_loss", mode="min", device="cpu", seed=11, progress=False, data_digest="d", **kwargs,
    )


def _joint_trainer(weighting: str, missing: bool) -> Trainer:
    tensors = _joint_tensors(missing)
    step = _masked_step(JOINT_SPECS) if missing else multitask_step(JOINT_SPECS)
    return Trainer(
        lambda: TinyMultiTask(2, JOINT_SPECS), step, JointBatches(tensors, batch_size=7, seed=4),
        epochs=EPOCHS, lr=1e-2, monitor="train_loss", mode="min", device="cpu", seed=12, progress=False,
        weighting=build_weighting(weighting, list(JOINT_SPECS)),
    )


class TinyDistance(nn.Module):
    """``model(a (B, n), b (B, n)) -> (B,)``: a linear map of ``|a - b|`` (a DTW-approximation stand-in)."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.linear = nn.Linear(length, 1)

    def forward(self, a, b):
        return self.linear((a - b).abs()).squeeze(-1)


def _pairs_trainer() -> Trainer:
    """The ``(loss, logs)`` step path: dtw_approximation's PairBatches (17 pairs, batches 7, 7, 3) and regression_step."""
    rng = np.random.default_rng(8)
    pairs = rng.normal(size=(17, 2, 6))
    targets = np.abs(pairs[:, 0] - pairs[:, 1]).sum(axis=1)
    return Trainer(
        lambda: TinyDistance(6), regression_step, PairBatches(pairs, targets, batch_size=7, seed=2),
        epochs=EPOCHS, lr=1e-2, monitor="train_mae", mode="min", device="cpu", seed=13, progress=False,
    )


def _outcome(trainer: Trainer) -> dict:
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.fit()
    weighting = {} if trainer.weighting is None else {k: v.clone() for k, v in trainer.weighting.state_dict().items()}
    model = {k: v.clone() for k, v in result.model.state_dict().items()}
    return {"initial": initial, "model": model, "history": result.history, "weighting": weighting}


def _scenarios(directory: Path) -> dict:
    """Everything the two-process run does; run here in one process it gives the reference."""
    outcomes = {
        "scheduled": _outcome(_scheduled_trainer()),
        "pairs": _outcome(_pairs_trainer()),
        "joint_uncertainty": _outcome(_joint_trainer("uncertainty", missing=False)),
        "joint_dwa_missing": _outcome(_joint_trainer("dwa", missing=True)),
        "masked_batch_norm": _outcome(_scheduled_trainer(batch_norm=True)),
        "uninterrupted": _outcome(_scheduled_trainer(epochs=4, checkpoint_dir=directory / "full")),
    }
    _scheduled_trainer(epochs=2, checkpoint_dir=directory / "part").fit()  # "interrupted" after 2 epochs
    outcomes["resumed"] = _outcome(_scheduled_trainer(epochs=4, checkpoint_dir=directory / "part", resume=True))
    return outcomes


def _worker(directory: Path) -> None:
    """Run under torchrun: every scenario, the checkpoint writes of this rank, the refusals."""
    saves: Counter = Counter()
    atomic_save = loop._atomic_save

    def counting_save(obj, path):
        saves[Path(path).name] += 1
        atomic_save(obj, path)

    loop._atomic_save = counting_save
    outcomes = _scenarios(directory)
    refusals = {}
    for name in ("gradnorm", "pcgrad"):
        try:
            _joint_trainer(name, missing=False)
        except ValueError as error:
            refusals[name] = str(error)
    rank = distributed.rank()
    results = {"outcomes": outcomes, "saves": dict(saves), "refusals": refusals, "world": distributed.world_size()}
    torch.save(results, directory / f"rank{rank}.pt")


# -- the two-process run -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ddp")
    env = {key: value for key, value in os.environ.items() if key not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={WORLD}"]
    command = [*torchrun, __file__, str(directory)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    ranks = [torch.load(directory / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]
    return directory, ranks


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    torch.set_num_threads(1)
    return _scenarios(tmp_path_factory.mktemp("single"))


def _assert_same_weights(two: dict, one: dict, atol: float = 2e-6) -> None:
    assert two.keys() == one.keys()
    for key in one:
        difference = (two[key].double() - one[key].double()).abs().max()
        assert torch.allclose(two[key].double(), one[key].double(), rtol=1e-5, atol=atol), (key, difference)


@pytest.mark.parametrize("scenario", ["scheduled", "pairs", "joint_uncertainty", "joint_dwa_missing", "masked_batch_norm"])
def test_two_processes_train_the_weights_of_one(two_processes, one_process, scenario):
    _, ranks = two_processes
    assert ranks[0]["world"] == WORLD
    two, one = ranks[0]["outcomes"][scenario], one_process[scenario]
    for key, value in two["model"].items():  # DDP keeps the ranks identical, bit for bit
        assert torch.equal(value, ranks[1]["outcomes"][scenario]["model"][key]), key
    _assert_same_weights(two["model"], one["model"])
    _assert_same_weights(two["weighting"], one["weighting"])
    assert not all(torch.allclose(one["model"][key], one["initial"][key]) for key in one["initial"])  # it trained
    # epoch records are the global ones: the same keys and values as in one process
    assert [sorted(r) for r in two["history"]] == [sorted(r) for r in one["history"]]
    for record_two, record_one in zip(two["history"], one["history"], strict=True):
        for key, value in record_one.items():
            if key != "seconds":
                assert record_two[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert two["history"] == ranks[1]["outcomes"][scenario]["history"]


def test_uncertainty_and_dwa_state_moves(one_process):
    """The weighting comparisons above are not vacuous: the weightings' state changed."""
    assert not torch.allclose(one_process["joint_uncertainty"]["weighting"]["log_variance"], torch.zeros(2))
    weights = one_process["joint_dwa_missing"]["weighting"]["epoch_weights"]
    assert not torch.allclose(weights, torch.ones(2, dtype=weights.dtype)) and weights.sum().item() == pytest.approx(2.0)


def test_masked_batch_norm_statistics_cover_the_global_batch(two_processes, one_process):
    _, ranks = two_processes
    two, one = ranks[0]["outcomes"]["masked_batch_norm"]["model"], one_process["masked_batch_norm"]["model"]
    assert two["norm.num_batches_tracked"] == one["norm.num_batches_tracked"] > 0
    statistics = ("norm.running_mean", "norm.running_var")
    _assert_same_weights({k: two[k] for k in statistics}, {k: one[k] for k in statistics})


def test_only_rank_0_writes_checkpoints(two_processes):
    directory, ranks = two_processes
    # uninterrupted (4 epochs) + interrupted (2) + resumed (2 more): a last.pt per epoch
    assert ranks[0]["saves"]["last.pt"] == 8 and ranks[0]["saves"]["best.pt"] >= 1
    assert ranks[1]["saves"] == {}
    saved = torch.load(directory / "full" / "last.pt", weights_only=True)
    assert saved["epoch"] == 3 and saved["history"] == ranks[0]["outcomes"]["uninterrupted"]["history"]


def test_two_process_resume_equals_an_uninterrupted_two_process_run(two_processes, one_process):
    _, ranks = two_processes
    for rank in ranks:
        resumed, uninterrupted = rank["outcomes"]["resumed"], rank["outcomes"]["uninterrupted"]
        for key, value in uninterrupted["model"].items():
            assert torch.equal(resumed["model"][key], value), key
        assert [r["train_loss"] for r in resumed["history"]] == [r["train_loss"] for r in uninterrupted["history"]]
    _assert_same_weights(ranks[0]["outcomes"]["uninterrupted"]["model"], one_process["uninterrupted"]["model"])


def test_weightings_with_per_task_gradients_are_refused_under_ddp(two_processes):
    _, ranks = two_processes
    for rank in ranks:
        assert set(rank["refusals"]) == {"gradnorm", "pcgrad"}
        assert "'gradnorm' task weighting computes per-task gradients" in rank["refusals"]["gradnorm"]


# -- without processes -------------------------------------------------------------------------
class Pair(NamedTuple):
    a: torch.Tensor
    b: torch.Tensor
    target: torch.Tensor


def test_shard_batch_splits_every_tensor_along_dim_0():
    batch = TaskBatch(torch.arange(7 * 3.0).reshape(7, 1, 3), torch.arange(7), {"t": torch.arange(7) * 10})
    shards = [shard_batch(batch, r, 2) for r in range(2)]
    assert [(n_rank, n) for _, n_rank, n in shards] == [(4, 7), (3, 7)]
    assert isinstance(shards[1][0], TaskBatch) and shards[1][0].targets["t"].tolist() == [40, 50, 60]
    assert torch.equal(torch.cat([s.x for s, _, _ in shards]), batch.x)
    pair = shard_batch(Pair(torch.zeros(5, 4), torch.ones(5, 4), torch.arange(5.0)), 2, 3)[0]
    assert isinstance(pair, Pair) and pair.target.tolist() == [4.0]  # sizes 2, 2, 1
    with pytest.raises(TypeError, match="bare tensor"):
        shard_batch(torch.zeros(4, 3), 0, 2)
    with pytest.raises(ValueError, match="cannot be sharded over 2"):
        shard_batch(Pair(torch.zeros(1, 4), torch.ones(1, 4), torch.zeros(1)), 0, 2)
    with pytest.raises(ValueError, match="dim-0 size"):
        shard_batch(Pair(torch.zeros(4, 4), torch.ones(3, 4), torch.zeros(4)), 0, 2)


def test_scaled_shard_gradients_average_to_the_global_batch_gradient():
    """The arithmetic DDP relies on, by hand: mean over ranks of grad(world * n_r / n * L_r) = grad L."""
    torch.manual_seed(0)
    layer = nn.Linear(3, 1)
    x, y = torch.randn(9, 3), torch.randn(9, 1)
    nn.functional.mse_loss(layer(x), y).backward()
    reference = layer.weight.grad.clone()
    average = torch.zeros_like(reference)
    for r in range(4):  # 9 items on 4 ranks: 3, 2, 2, 2
        (xs, ys), n_rank, n = shard_batch((x, y), r, 4)
        layer.zero_grad()
        shard = Shard(None, n_rank / n, 4)
        (nn.functional.mse_loss(layer(xs), ys) * shard.loss_scale).backward()
        average += layer.weight.grad / 4
    assert torch.allclose(average, reference, atol=1e-6)
    logs = Shard(None, 0.25, 4).share({"mae": torch.tensor(2.0), "n": 4})
    assert float(logs["mae"]) == 0.5 and logs["n"] == 1.0


@pytest.mark.parametrize("name", ["equal", "fixed", "size", "uncertainty", "dwa", "gradnorm", "pcgrad"])
def test_check_weighting_refuses_per_task_gradient_weightings(name):
    weighting = build_weighting(name, ["a", "b"], task_sizes={"a": 3, "b": 4})
    if name in ("gradnorm", "pcgrad"):
        with pytest.raises(ValueError, match=f"the '{name}' task weighting"):
            check_weighting(weighting)
    else:
        check_weighting(weighting)


def test_one_process_has_no_process_group_and_no_ddp(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    trainer = _scheduled_trainer(epochs=1)
    assert trainer.parallel is None and not torch.distributed.is_initialized()
    assert isinstance(trainer.model.conv, nn.Conv1d) and distributed.world_size() == 1 and distributed.is_main_process()


def test_convert_batch_norms_keeps_the_tensors_and_warns_for_plain_ones_on_cpu(caplog, monkeypatch):
    monkeypatch.setattr(distributed, "_warned_local_batch_norm", False)
    model = nn.Sequential(MaskedBatchNorm1d(3), nn.Sequential(nn.BatchNorm1d(3)))
    weight, running_mean = model[0].weight, model[0].running_mean
    keys = list(model.state_dict())
    with caplog.at_level(logging.WARNING, logger="tsmtl.training.distributed"):
        converted = convert_batch_norms(model, torch.device("cpu"))
    assert type(converted[0]) is SyncMaskedBatchNorm1d and isinstance(converted[0], MaskedBatchNorm1d)
    assert converted[0].weight is weight and converted[0].running_mean is running_mean
    assert type(converted[1][0]) is nn.BatchNorm1d and list(converted.state_dict()) == keys
    assert len([r for r in caplog.records if "per-process statistics" in r.getMessage()]) == 1
    x = torch.randn(4, 3, 5)
    converted.eval()
    assert torch.equal(converted[0](x), nn.functional.batch_norm(x, running_mean, model[0].running_var, weight, model[0].bias))


# -- the Kedro hook ----------------------------------------------------------------------------
def _double(x):
    return 2 * x


@pytest.mark.parametrize("rank", [0, 1])
def test_ranks_above_0_write_no_catalog_output(tmp_path, monkeypatch, rank):
    from tsmtl.hooks import DistributedOutputsHook
    from tsmtl.settings import HOOKS

    assert any(isinstance(hook, DistributedOutputsHook) for hook in HOOKS)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", str(rank))
    files = {name: PickleDataset(filepath=str(tmp_path / f"{name}.pkl")) for name in ("y", "z")}
    catalog = DataCatalog({"x": MemoryDataset(3), **files})
    tiny = pipeline([node(_double, "x", "y"), node(_double, "y", "z")])
    DistributedOutputsHook().before_pipeline_run(run_params={}, pipeline=tiny, catalog=catalog)
    SequentialRunner().run(tiny, catalog)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == (["y.pkl", "z.pkl"] if rank == 0 else [])
    assert catalog.load("z") == 12


if __name__ == "__main__":  # under torchrun: python -m torch.distributed.run --nproc-per-node 2 <this file> <dir>
    torch.set_num_threads(1)
    _worker(Path(sys.argv[1]))
