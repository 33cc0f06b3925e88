"""DistributedDataParallel for the Trainer (issue #10): two gloo processes on the CPU train to the
weights of one process on the same global batches.

One ``torchrun`` launch (``python -m torch.distributed.run --standalone --nproc-per-node 2`` on this
file, ``OMP_NUM_THREADS=1``) runs every two-process scenario (:func:`_worker`); the tests compare
its results with the same scenarios run here in one process. The global batches hold an odd number
of items (Algorithm 2 batches of 5, joint batches of 7), so the shards are uneven (3 + 2, 4 + 3).
Joint batches with missing labels go through ``multitask_step`` itself (its ``denominators``), with
equal, DWA, PCGrad and GradNorm weightings (the last two average their per-task gradients over
the ranks).
"""

from __future__ import annotations

import json
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

from tsmtl.experiments.dtw_approximation import (
    MODEL_SPEC_FILE,
    PairBatches,
    fit_distance_model,
    regression_step,
)
from tsmtl.models.masked_norm import MaskedBatchNorm1d
from tsmtl.tasks import TaskSpec, task_loss, task_loss_denominator
from tsmtl.training import distributed, loop
from tsmtl.training.distributed import (
    Shard,
    SyncMaskedBatchNorm1d,
    average_over_ranks,
    check_weighting,
    convert_batch_norms,
    shard_batch,
)
from tsmtl.training.loop import Trainer
from tsmtl.training.multitask import multitask_step
from tsmtl.training.tensors import (
    JointBatches,
    JointTensors,
    ScheduledBatches,
    SeriesTensors,
    TaskBatch,
)
from tsmtl.training.weighting import TaskWeighting, build_weighting

WORLD = 2
EPOCHS = 3
SCHEDULED_SPECS = {"a": TaskSpec("a", "classification", 2), "b": TaskSpec("b", "classification", 3)}
JOINT_SPECS = {"kind": TaskSpec("kind", "classification", 3), "level": TaskSpec("level", "regression", 2)}
#: Partial labels with every kind of denominator: class-weighted cross-entropy (weights of the labelled
#: cases' classes), a binary task with a positive weight and a regression (labelled entries).
WEIGHTED_SPECS = {
    "kind": TaskSpec("kind", "classification", 3, class_weights=(1.0, 2.5, 0.5)),
    "level": TaskSpec("level", "regression", 2),
    "alarm": TaskSpec("alarm", "binary", class_weights=3.0),
}


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


def _joint_tensors(missing: bool, tasks=JOINT_SPECS) -> JointTensors:
    """23 cases, a 3-class target, a 2-output regression target and a binary one (some labels missing)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(23, 2, 9)).astype(np.float32)
    kind = torch.from_numpy(rng.integers(0, 3, 23))
    level = torch.from_numpy(np.stack([x[:, 0].mean(1), x[:, 1].std(1)], axis=1).astype(np.float32))
    alarm = torch.from_numpy((x[:, 0, 0] > 0.5).astype(np.float32))
    if missing:
        kind[rng.random(23) < 0.3] = -1
        level[torch.from_numpy(rng.random((23, 2)) < 0.3)] = float("nan")
        alarm[torch.from_numpy(rng.random(23) < 0.4)] = float("nan")
    targets = {"kind": kind, "level": level, "alarm": alarm}
    return JointTensors(torch.from_numpy(x), torch.full((23,), 9), {task: targets[task] for task in tasks})


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

    def shared_parameters(self):  # PCGrad's shared trunk
        return [*self.conv.parameters(), *([] if self.norm is None else self.norm.parameters())]

    def last_shared_parameters(self):  # GradNorm's W
        return list(self.conv.parameters())


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


def _joint_trainer(weighting: str | TaskWeighting, missing: bool, specs=JOINT_SPECS) -> Trainer:
    """Joint batches of 7 (23 cases: 7, 7, 7, 2) through multitask_step itself (its denominators)."""
    tensors = _joint_tensors(missing, specs)
    if isinstance(weighting, str):
        weighting = build_weighting(weighting, list(specs))
    return Trainer(
        lambda: TinyMultiTask(2, specs), multitask_step(specs), JointBatches(tensors, batch_size=7, seed=4),
        epochs=EPOCHS, lr=1e-2, monitor="train_loss", mode="min", device="cpu", seed=12, progress=False,
        weighting=weighting,
    )


class LocalGradients(TaskWeighting):
    """A weighting that computes per-task gradients itself without averaging them over the ranks."""

    def weights(self, losses):
        return {task: torch.ones_like(losses[task]) for task in self._present(losses)}

    def backward(self, losses, model, extra=None):
        return super().backward(losses, model, extra)


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


def _dtw_splits():
    rng = np.random.default_rng(6)
    pairs = rng.normal(size=(30, 2, 8)).cumsum(axis=2)
    targets = np.abs(pairs[:, 0] - pairs[:, 1]).sum(axis=1)
    cuts = {"train": slice(0, 16), "val": slice(16, 23), "test": slice(23, 30)}
    return {k: pairs[c] for k, c in cuts.items()}, {k: targets[c] for k, c in cuts.items()}


def _scenarios(directory: Path) -> dict:
    """Everything the two-process run does; run here in one process it gives the reference."""
    outcomes = {
        "scheduled": _outcome(_scheduled_trainer()),
        "pairs": _outcome(_pairs_trainer()),
        "joint_uncertainty": _outcome(_joint_trainer("uncertainty", missing=False)),
        "joint_dwa_missing": _outcome(_joint_trainer("dwa", missing=True, specs=WEIGHTED_SPECS)),
        "joint_equal_missing": _outcome(_joint_trainer("equal", missing=True)),
        "joint_pcgrad_missing": _outcome(_joint_trainer("pcgrad", missing=True)),
        "joint_gradnorm_missing": _outcome(_joint_trainer("gradnorm", missing=True, specs=WEIGHTED_SPECS)),
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
    loop._atomic_save = atomic_save
    refusals = {}
    try:
        _joint_trainer(LocalGradients(list(JOINT_SPECS)), missing=False)
    except ValueError as error:
        refusals["local"] = str(error)
    # dtw_approximation's own file (the model spec) comes from rank 0 alone, like the checkpoints
    written: Counter = Counter()
    write_text = Path.write_text

    def counting_write(path, *args, **kwargs):
        written[path.name] += 1
        return write_text(path, *args, **kwargs)

    Path.write_text = counting_write
    pairs, targets = _dtw_splits()
    config = {"epochs": 1, "batch_size": 7, "resnet1d": {"widths": [4], "kernel_sizes": [3, 3, 3], "embedding_dim": 4}}
    fit_distance_model("resnet1d", pairs, targets, config, checkpoint_dir=directory / "dtw", device="cpu", seed=0)
    Path.write_text = write_text
    # mtl_joint's T-Rep trunk: rank 0 pretrains alone (crops do not shard), the other rank waits and loads it
    from tsmtl.experiments.mtl_joint import pretrain_trunk

    trunk_saves: Counter = Counter()
    loop._atomic_save = lambda obj, path: (trunk_saves.update([Path(path).name]), atomic_save(obj, path))
    windows = np.random.default_rng(0).normal(size=(8, 2, 12)).astype(np.float32)
    trunk_options = {"method": "ts2vec", "encoder": {"repr_dims": 4, "hidden_dims": 4, "depth": 1, "iterations": 2, "batch_size": 4}}
    trunk, _ = pretrain_trunk(windows, trunk_options, directory / "trunk", device="cpu")
    loop._atomic_save = atomic_save
    rank = distributed.rank()
    results = {
        "outcomes": outcomes, "saves": dict(saves), "refusals": refusals, "world": distributed.world_size(),
        "written": dict(written), "trunk": str(trunk), "trunk_bytes": trunk.read_bytes(), "trunk_saves": dict(trunk_saves),
    }
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


SCENARIOS = [
    "scheduled", "pairs", "joint_uncertainty", "joint_dwa_missing", "joint_equal_missing", "joint_pcgrad_missing",
    "joint_gradnorm_missing", "masked_batch_norm",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
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


def test_weighting_state_moves(one_process):
    """The weighting comparisons above are not vacuous: the weightings' state changed, PCGrad projected."""
    assert not torch.allclose(one_process["joint_uncertainty"]["weighting"]["log_variance"], torch.zeros(2))
    weights = one_process["joint_dwa_missing"]["weighting"]["epoch_weights"]
    assert not torch.allclose(weights, torch.ones(3, dtype=weights.dtype)) and weights.sum().item() == pytest.approx(3.0)
    gradnorm = one_process["joint_gradnorm_missing"]["weighting"]
    assert not torch.allclose(gradnorm["task_weights"], torch.ones(3), atol=1e-3)
    assert torch.isfinite(gradnorm["initial_losses"]).all()
    # PCGrad (weights 1) differs from equal weighting only through its projections: there were some
    pcgrad, equal = one_process["joint_pcgrad_missing"]["model"], one_process["joint_equal_missing"]["model"]
    assert not torch.allclose(pcgrad["conv.weight"], equal["conv.weight"], atol=1e-4)


def test_task_loss_denominators_combine_parts_into_the_batch_loss():
    """sum_p d_p / D * loss_p is the masked loss of the whole batch, for every kind of denominator."""
    tensors = _joint_tensors(missing=True, tasks=WEIGHTED_SPECS)
    torch.manual_seed(3)
    outputs = {"kind": torch.randn(23, 3), "level": torch.randn(23, 2), "alarm": torch.randn(23, 1)}
    parts = [slice(0, 9), slice(9, 10), slice(10, 23)]
    for task, spec in WEIGHTED_SPECS.items():
        target = tensors.targets[task]
        whole = task_loss(spec, outputs[task], target)
        total = float(task_loss_denominator(spec, target))
        combined = sum(
            float(task_loss_denominator(spec, target[p])) / total * task_loss(spec, outputs[task][p], target[p]) for p in parts
        )
        assert float(combined) == pytest.approx(float(whole), rel=1e-6), task
    labelled = tensors.targets["kind"] >= 0
    expected = torch.tensor([1.0, 2.5, 0.5], dtype=torch.float64)[tensors.targets["kind"][labelled]].sum()
    assert float(task_loss_denominator(WEIGHTED_SPECS["kind"], tensors.targets["kind"])) == pytest.approx(float(expected))
    assert float(task_loss_denominator(WEIGHTED_SPECS["level"], tensors.targets["level"])) == int(
        torch.isfinite(tensors.targets["level"]).sum()
    )
    step = multitask_step(WEIGHTED_SPECS)(TinyMultiTask(2, WEIGHTED_SPECS), tensors.batch(np.arange(23)))
    assert {task: float(d) for task, d in step.denominators.items()} == {
        task: float(task_loss_denominator(spec, tensors.targets[task])) for task, spec in WEIGHTED_SPECS.items()
    }


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


def test_weightings_with_unaveraged_per_task_gradients_are_refused_under_ddp(two_processes):
    _, ranks = two_processes
    for rank in ranks:
        assert set(rank["refusals"]) == {"local"}
        assert "'LocalGradients' task weighting computes per-task gradients" in rank["refusals"]["local"]


def test_only_rank_0_writes_the_dtw_model_spec(two_processes):
    directory, ranks = two_processes
    assert ranks[0]["written"] == {MODEL_SPEC_FILE: 1} and ranks[1]["written"] == {}
    (run_dir,) = (directory / "dtw").iterdir()
    assert json.loads((run_dir / MODEL_SPEC_FILE).read_text())["kind"] == "resnet1d"


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
def test_check_weighting_accepts_the_registered_weightings(name):
    check_weighting(build_weighting(name, ["a", "b"], task_sizes={"a": 3, "b": 4}))


def test_check_weighting_refuses_a_backward_that_does_not_average_over_ranks():
    with pytest.raises(ValueError, match=r"the 'LocalGradients' task weighting .*\(averages_over_ranks is not set\)"):
        check_weighting(LocalGradients(["a", "b"]))
    averaged = type("Averaged", (LocalGradients,), {"averages_over_ranks": True})
    check_weighting(averaged(["a", "b"]))


def test_average_over_ranks_is_a_no_op_in_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    tensors = [torch.randn(3), torch.randn(2, 2, dtype=torch.float64)]
    assert all(a is b for a, b in zip(average_over_ranks(tensors), tensors, strict=True))


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


def test_rank_0_pretrains_the_trunk_alone_and_every_rank_loads_it(two_processes):
    """mtl_joint.pretrain_trunk under torchrun: no deadlock, one pretraining, the same file on both ranks."""
    _, ranks = two_processes
    assert ranks[0]["trunk"] == ranks[1]["trunk"] and ranks[0]["trunk_bytes"] == ranks[1]["trunk_bytes"]
    assert ranks[1]["trunk_saves"] == {}  # rank 1 trained nothing and wrote no checkpoint


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
