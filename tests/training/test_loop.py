"""The one training loop: resume equals an uninterrupted run, best-checkpoint selection, task
weighting through StepOutput, batched inference."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.sharing import SharedTrunk
from tsmtl.tasks import TaskSpec
from tsmtl.training.device import seed_everything
from tsmtl.training.fingerprint import StaleCheckpointError, data_digest
from tsmtl.training.loop import StepOutput, Trainer, move_to_device, predict_batched
from tsmtl.training.multitask import evaluate_tasks, multitask_step, predict_outputs
from tsmtl.training.tensors import (
    JointBatches,
    JointTensors,
    ScheduledBatches,
    TaskBatch,
    encode_labels,
    to_tensors,
)
from tsmtl.training.weighting import build_weighting


def _task(name: str, n: int, length: int, n_classes: int, seed: int, variable: bool = False) -> TimeSeriesData:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, 1, length)) + y[:, None, None]
    lengths = np.full(n, length)
    if variable:
        lengths = rng.integers(length // 2, length + 1, size=n)
        for i, L in enumerate(lengths):
            X[i, :, L:] = np.nan
    return TimeSeriesData(X=X, y=y, lengths=lengths, name=name)


TRAIN = {"a": _task("a", 10, 24, 2, 0), "b": _task("b", 6, 16, 3, 1, variable=True)}
VAL = {"a": _task("a", 4, 24, 2, 2), "b": _task("b", 3, 16, 3, 3, variable=True)}


class _DropoutTrunk(nn.Module):
    """ResNet1D + dropout, so that the run consumes torch's RNG."""

    def __init__(self) -> None:
        super().__init__()
        self.resnet = ResNet1D(widths=(4, 4, 4), kernel_sizes=(3, 3, 3))
        self.dropout = nn.Dropout(0.3)
        self.out_features = 4

    def forward(self, x, lengths=None):
        return self.dropout(self.resnet(x, lengths))


SPECS = {"a": TaskSpec("a", "classification", 2, metrics=("accuracy",)), "b": TaskSpec("b", "classification", 3, metrics=("accuracy",))}


def _model() -> SharedTrunk:
    return SharedTrunk(_DropoutTrunk(), SPECS)


def _noisy_step(model, batch):
    """The multitask step on a batch jittered with NumPy and Python random draws (both RNGs matter)."""
    x, lengths, targets = batch
    noise = torch.from_numpy(np.random.normal(scale=0.1, size=tuple(x.shape)).astype(np.float32))
    return multitask_step(SPECS)(model, TaskBatch(x + noise * random.random(), lengths, targets))


def _val_sets():
    train = {task: to_tensors(data) for task, data in TRAIN.items()}
    return train, [(t, {task: t.y}) for task, t in ((task, to_tensors(data, classes=train[task].classes)) for task, data in VAL.items())]


def _trainer(model, checkpoint_dir, epochs, resume=False, **kwargs) -> Trainer:
    train, val = _val_sets()
    return Trainer(
        model,
        _noisy_step,
        ScheduledBatches.build(train, batch_size=4, seed=11),
        lambda m: evaluate_tasks(m, val, SPECS, batch_size=3),
        epochs=epochs,
        lr=1e-2,
        device="cpu",
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        data_digest=data_digest(TRAIN, VAL),
        seed=7,
        progress=False,
        **kwargs,
    )


def _last_weights(directory):
    return torch.load(directory / "last.pt", weights_only=True)["model"]


def test_resume_after_interruption_gives_the_same_weights(tmp_path):
    seed_everything(0)
    full = _trainer(_model(), tmp_path / "full", epochs=4, grad_clip_norm=1.0).fit()

    seed_everything(0)
    _trainer(_model(), tmp_path / "cut", epochs=2, grad_clip_norm=1.0).fit()  # "interrupted" after 2 epochs
    seed_everything(123)  # whatever happens in between must not matter
    resumed = _trainer(_model(), tmp_path / "cut", epochs=4, resume=True, grad_clip_norm=1.0).fit()

    assert [r["epoch"] for r in resumed.history] == [0, 1, 2, 3]
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    last_full, last_resumed = _last_weights(tmp_path / "full"), _last_weights(tmp_path / "cut")
    assert last_full.keys() == last_resumed.keys()
    for key in last_full:
        assert torch.equal(last_full[key], last_resumed[key]), key
    assert resumed.best_epoch == full.best_epoch
    for (name, p_full), (_, p_resumed) in zip(
        full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True
    ):
        assert torch.equal(p_full, p_resumed), name


def test_a_fresh_run_without_resume_differs_from_the_resumed_one(tmp_path):
    """Guard for the test above: an un-restored run does diverge (so equality is not trivial)."""
    seed_everything(0)
    _trainer(_model(), tmp_path / "full", epochs=3).fit()
    seed_everything(0)
    _trainer(_model(), tmp_path / "cut", epochs=2).fit()
    state = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)
    model = _model()
    model.load_state_dict(state["model"])
    # continue without restoring optimizer and RNG states: a plain new run on the loaded weights
    _trainer(model, tmp_path / "other", epochs=1).fit()
    full, other = _last_weights(tmp_path / "full"), _last_weights(tmp_path / "other")
    assert any(not torch.equal(full[key], other[key]) for key in full)


class _Recorder:
    """A fake evaluate_fn: returns preset metric values and snapshots the weights of each epoch."""

    def __init__(self, values):
        self.values = list(values)
        self.snapshots = []

    def __call__(self, model):
        self.snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"val_score": self.values[len(self.snapshots) - 1]}


def _linear_trainer(evaluate_fn, epochs, tmp_path, **kwargs):
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    x, y = torch.randn(8, 3), torch.randn(8)

    def step(model, batch):
        xb, yb = batch
        return F.mse_loss(model(xb).squeeze(-1), yb), {}

    return Trainer(
        model, step, lambda epoch: [(x[:4], y[:4]), (x[4:], y[4:])], evaluate_fn, epochs=epochs, lr=0.1,
        device="cpu", checkpoint_dir=tmp_path, progress=False, data_digest=data_digest(x, y), **kwargs,
    )


@pytest.mark.parametrize(("mode", "values", "best"), [("max", [0.2, 0.5, 0.4, 0.5], 1), ("min", [0.3, 0.2, 0.1, 0.4], 2)])
def test_best_checkpoint_follows_the_monitored_metric(tmp_path, mode, values, best):
    recorder = _Recorder(values)
    result = _linear_trainer(recorder, 4, tmp_path, monitor="val_score", mode=mode).fit()
    assert result.best_epoch == best
    assert result.best_metric == values[best]
    assert [r["val_score"] for r in result.history] == values
    assert len(result.seconds_per_epoch) == 4
    saved = torch.load(result.best_checkpoint, weights_only=True)
    assert saved["epoch"] == best
    for key, value in result.model.state_dict().items():
        assert torch.equal(value, recorder.snapshots[best][key])
        assert torch.equal(saved["model"][key], recorder.snapshots[best][key])
    assert not torch.equal(result.model.weight, recorder.snapshots[-1]["weight"])  # not simply the last epoch
    assert torch.load(result.last_checkpoint, weights_only=True)["epoch"] == 3


def test_early_stopping_and_resume_of_a_stopped_run(tmp_path):
    result = _linear_trainer(_Recorder([0.9, 0.5, 0.4, 0.3, 0.2, 0.1]), 6, tmp_path, monitor="val_score", patience=2).fit()
    assert result.stopped_early
    assert [r["epoch"] for r in result.history] == [0, 1, 2]
    again = _linear_trainer(_Recorder([0.0] * 6), 6, tmp_path, monitor="val_score", patience=2, resume=True).fit()
    assert again.stopped_early and len(again.history) == 3  # resuming does not train past the stop


def test_train_loss_monitor_without_validation_and_missing_monitor(tmp_path):
    result = _linear_trainer(None, 3, tmp_path, monitor="train_loss", mode="min").fit()
    losses = [r["train_loss"] for r in result.history]
    assert result.best_metric == min(losses)
    with pytest.raises(KeyError, match="val_accuracy"):
        _linear_trainer(None, 1, tmp_path / "x").fit()


def test_tensors_from_time_series_data():
    data = TRAIN["b"]
    tensors = to_tensors(data)
    assert tensors.x.dtype == torch.float32 and tensors.x.shape == (6, 1, 16)
    assert not torch.isnan(tensors.x).any()
    assert torch.equal(tensors.lengths, torch.from_numpy(data.lengths))
    short = int(np.argmin(data.lengths))
    assert (tensors.x[short, :, data.lengths[short] :] == 0).all()
    x, lengths, y = tensors.batch(np.array([short]))
    assert x.shape == (1, 1, data.lengths[short])  # cut to the longest case of the batch
    assert encode_labels(np.array(["b", "a", "c"]), np.array(["a", "b", "c"])).tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match="not among the classes"):
        encode_labels(np.array([0, 5]), np.array([0, 1]), name="val")


def test_multitask_step_and_evaluate_tasks():
    torch.manual_seed(0)
    model = SharedTrunk(ResNet1D(widths=(4, 4, 4)), SPECS)
    _, val = _val_sets()
    tensors_b = val[1][0]
    x, lengths, y = tensors_b.batch(np.arange(3))
    output = multitask_step(SPECS)(model, TaskBatch(x, lengths, {"b": y}))
    logits = model(x, lengths, tasks=["b"])["b"]
    assert set(output.losses) == {"b"} and output.extra is None
    torch.testing.assert_close(output.losses["b"], F.cross_entropy(logits, y))

    metrics = evaluate_tasks(model, val, SPECS, batch_size=2)
    model.eval()
    with torch.no_grad():
        direct = {}
        for tensors, targets in val:
            (task,) = targets
            expected = []
            for i in range(len(tensors)):  # one series at a time, cut to its own length
                xi, li, _ = tensors.batch(np.array([i]))
                expected.append(int(model(xi, li)[task].argmax()))
            direct[task] = float(np.mean(np.array(expected) == tensors.y.numpy()))
            assert predict_outputs(model, tensors, [task], batch_size=2)[task].argmax(axis=1).tolist() == expected
    assert metrics["val_accuracy/a"] == direct["a"] and metrics["val_accuracy/b"] == direct["b"]
    assert metrics["val_accuracy"] == pytest.approx((direct["a"] + direct["b"]) / 2)
    assert metrics["val_loss"] == pytest.approx((metrics["val_loss/a"] + metrics["val_loss/b"]) / 2)


def test_predict_batched_returns_the_original_order_whatever_the_batching():
    model = nn.Linear(3, 2)
    x = torch.randn(7, 3)
    direct = model(x).detach().numpy()
    for order in (None, np.array([6, 0, 5, 1, 4, 2, 3])):
        out = predict_batched(model, lambda m, xb: {"y": m(xb)}, 7, lambda index: (x[index],), batch_size=3, order=order)
        np.testing.assert_allclose(out["y"], direct, rtol=1e-6)
    assert model.training  # the previous mode is restored


def test_move_to_device_keeps_structure():
    batch = TaskBatch(torch.zeros(2, 1, 3), torch.tensor([3, 2]), {"a": torch.tensor([0, 1])})
    moved = move_to_device({"batch": batch, "extra": [torch.ones(1), 5]}, torch.device("cpu"))
    assert isinstance(moved["batch"], TaskBatch) and set(moved["batch"].targets) == {"a"}
    assert moved["extra"][1] == 5


# -- task weighting through StepOutput ----------------------------------------------------------
JOINT_SPECS = {"up": TaskSpec("up", "binary"), "level": TaskSpec("level", "regression", 2)}


def _joint_tensors(n=24, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 10, generator=generator)
    level = torch.stack([x[:, 0, -1], x[:, 0, -2]], dim=1)
    up = (x[:, 0, -1] > 0).float()
    up[::5] = float("nan")  # partial labels
    return JointTensors(x, torch.full((n,), 10), {"up": up, "level": level})


def _joint_trainer(checkpoint_dir, epochs, weighting, resume=False):
    train, val = _joint_tensors(), _joint_tensors(8, seed=1)
    return Trainer(
        lambda: SharedTrunk(_DropoutTrunk(), JOINT_SPECS),
        multitask_step(JOINT_SPECS),
        JointBatches(train, batch_size=6, seed=3),
        lambda m: evaluate_tasks(m, [(val, val.targets)], JOINT_SPECS, batch_size=4),
        epochs=epochs,
        lr=1e-2,
        device="cpu",
        monitor="val_loss",
        mode="min",
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        data_digest=data_digest(train.x, train.targets),
        seed=5,
        progress=False,
        weighting=build_weighting(weighting, list(JOINT_SPECS)),
    )


@pytest.mark.parametrize("weighting", ["uncertainty", "dwa", "gradnorm", "pcgrad"])
def test_resume_with_a_task_weighting_gives_the_same_run(tmp_path, weighting):
    full = _joint_trainer(tmp_path / "full", 4, weighting).fit()
    _joint_trainer(tmp_path / "cut", 2, weighting).fit()
    seed_everything(99)
    resumed = _joint_trainer(tmp_path / "cut", 4, weighting, resume=True).fit()
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]
    assert [r.get("train_weight/up") for r in resumed.history] == [r.get("train_weight/up") for r in full.history]
    last_full, last_cut = _last_weights(tmp_path / "full"), _last_weights(tmp_path / "cut")
    for key in last_full:
        assert torch.equal(last_full[key], last_cut[key]), key
    saved = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["weighting"]
    assert saved is not None


def test_learned_weights_are_optimised_without_weight_decay_and_logged(tmp_path):
    trainer = _joint_trainer(None, 2, "uncertainty")
    before = trainer.weighting.log_variance.detach().clone()
    groups = trainer.optimizer.param_groups
    assert len(groups) == 2 and groups[1]["weight_decay"] == 0.0 and groups[1]["params"][0] is trainer.weighting.log_variance
    result = trainer.fit()
    assert not torch.equal(before, trainer.weighting.log_variance.detach())
    record = result.history[-1]
    for task in JOINT_SPECS:  # per-task training losses and the weights applied, per epoch
        assert np.isfinite(record[f"train_loss/{task}"]) and np.isfinite(record[f"train_weight/{task}"])
        assert np.isfinite(record[f"val_loss/{task}"])
    assert np.isfinite(record["val_auprc/up"]) and np.isfinite(record["val_mae/level"])


def test_dwa_sees_the_epoch_mean_of_every_task_loss(tmp_path):
    trainer = _joint_trainer(None, 3, "dwa")
    seen = []
    original = trainer.weighting.end_epoch
    trainer.weighting.end_epoch = lambda epoch, means: (seen.append((epoch, dict(means))), original(epoch, means))[1]
    result = trainer.fit()
    assert [epoch for epoch, _ in seen] == [0, 1, 2]
    for (epoch, means), record in zip(seen, result.history, strict=True):
        assert means == {task: record[f"train_loss/{task}"] for task in JOINT_SPECS}
    assert result.history[0]["train_weight/up"] == 1.0 and result.history[1]["train_weight/up"] == 1.0


def test_a_step_output_without_weighting_sums_the_losses_and_the_regulariser():
    weight = nn.Parameter(torch.tensor(2.0))

    class Toy(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = weight

    def step(model, batch):
        return StepOutput(losses={"a": model.w * 3.0, "b": model.w**2}, extra=0.5 * model.w)

    trainer = Trainer(Toy(), step, lambda e: [torch.zeros(1)], epochs=1, lr=0.0, device="cpu", monitor="train_loss", mode="min", progress=False)
    record = trainer.fit().history[0]
    assert record["train_loss"] == pytest.approx(6.0 + 4.0 + 1.0)
    assert weight.grad.item() == pytest.approx(3.0 + 4.0 + 0.5)
    assert record["train_loss/a"] == 6.0 and record["train_regularisation"] == 1.0


def test_resume_refuses_a_checkpoint_trained_on_other_data(tmp_path):
    """The second line of defence: a run folder holding another data digest is never resumed."""
    first = _linear_trainer(None, 2, tmp_path, monitor="train_loss", mode="min").fit()
    recorded = torch.load(first.last_checkpoint, weights_only=True)["data_digest"]
    assert recorded and torch.load(first.best_checkpoint, weights_only=True)["data_digest"] == recorded
    other = _linear_trainer(None, 3, tmp_path, monitor="train_loss", mode="min", resume=True)
    other.data_digest = "0" * 32  # as if the folder had been moved next to other data
    with pytest.raises(StaleCheckpointError, match=f"digest {recorded}.*digest {'0' * 32}"):
        other.fit()
    # a checkpoint from before digests existed is refused too
    state = torch.load(first.last_checkpoint, weights_only=True)
    del state["data_digest"]
    torch.save(state, first.last_checkpoint)
    with pytest.raises(StaleCheckpointError, match="records no data digest"):
        _linear_trainer(None, 3, tmp_path, monitor="train_loss", mode="min", resume=True).fit()


def test_resume_needs_a_data_digest(tmp_path):
    with pytest.raises(ValueError, match="data_digest"):
        Trainer(nn.Linear(1, 1), lambda m, b: (m(b).sum(), {}), lambda e: [torch.ones(1, 1)], epochs=1,
                device="cpu", checkpoint_dir=tmp_path, resume=True)
