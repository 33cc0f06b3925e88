"""The one training loop: resume equals an uninterrupted run, best-checkpoint selection, helpers."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.data.types import TimeSeriesData
from tsmtl.models.multitask import MultiTaskClassifier
from tsmtl.models.resnet1d import ResNet1D
from tsmtl.training.device import seed_everything
from tsmtl.training.fingerprint import StaleCheckpointError, data_digest
from tsmtl.training.loop import (
    Trainer,
    classification_step,
    evaluate_classifier,
    move_to_device,
    predict_classifier,
)
from tsmtl.training.tensors import ClassificationBatch, ScheduledBatches, encode_labels, to_tensors


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


def _model() -> MultiTaskClassifier:
    trunk = _DropoutTrunk()
    return MultiTaskClassifier(trunk, trunk.out_features, {"a": 2, "b": 3})


def _noisy_step(model, batch):
    """classification_step on a batch jittered with NumPy and Python random draws (both RNGs matter)."""
    task, x, lengths, y = batch
    noise = torch.from_numpy(np.random.normal(scale=0.1, size=tuple(x.shape)).astype(np.float32))
    x = x + noise * random.random()
    return classification_step(model, ClassificationBatch(task, x, lengths, y))


def _trainer(model, checkpoint_dir, epochs, resume=False, **kwargs) -> Trainer:
    train = {task: to_tensors(data) for task, data in TRAIN.items()}
    val = {task: to_tensors(data, classes=train[task].classes) for task, data in VAL.items()}
    return Trainer(
        model,
        _noisy_step,
        ScheduledBatches.build(train, batch_size=4, seed=11),
        lambda m: evaluate_classifier(m, val, batch_size=3),
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


def test_classification_step_and_evaluate_classifier():
    torch.manual_seed(0)
    model = MultiTaskClassifier(ResNet1D(widths=(4, 4, 4)), 4, {"a": 2, "b": 3})
    val = {task: to_tensors(data) for task, data in VAL.items()}
    x, lengths, y = val["b"].batch(np.arange(3))
    loss, logs = classification_step(model, ("b", x, lengths, y))
    logits = model(x, "b", lengths=lengths)
    torch.testing.assert_close(loss, F.cross_entropy(logits, y))
    assert float(logs["accuracy"]) == float((logits.argmax(-1) == y).float().mean())

    metrics = evaluate_classifier(model, val, batch_size=2)
    model.eval()
    with torch.no_grad():
        direct = {}
        for task in val:
            expected = []
            for i in range(len(val[task])):  # one series at a time, cut to its own length
                xi, li, _ = val[task].batch(np.array([i]))
                expected.append(int(model(xi, task, lengths=li).argmax()))
            direct[task] = float(np.mean(np.array(expected) == val[task].y.numpy()))
            assert predict_classifier(model, val[task], task, batch_size=2).tolist() == expected
    assert metrics["val_accuracy/a"] == direct["a"] and metrics["val_accuracy/b"] == direct["b"]
    assert metrics["val_accuracy"] == pytest.approx((direct["a"] + direct["b"]) / 2)


def test_move_to_device_keeps_structure():
    batch = ClassificationBatch("a", torch.zeros(2, 1, 3), torch.tensor([3, 2]), torch.tensor([0, 1]))
    moved = move_to_device({"batch": batch, "extra": [torch.ones(1), 5]}, torch.device("cpu"))
    assert isinstance(moved["batch"], ClassificationBatch) and moved["batch"].task == "a"
    assert moved["extra"][1] == 5


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
