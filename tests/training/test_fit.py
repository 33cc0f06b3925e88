"""The one fit: task groups with Algorithm 2, joint data with joint batches, checkpoint identity."""

from __future__ import annotations

import numpy as np
import pytest

from tsmtl.data.preprocessing.splits import stratified_split
from tsmtl.data.types import TimeSeriesData
from tsmtl.tasks import TaskSpec
from tsmtl.training.fit import (
    MethodConfig,
    TrainingConfig,
    fit_joint,
    fit_task_group,
    single_task_specs,
)

TINY = {
    "resnet1d": {"widths": [4, 8, 8]},
    "resnet2d": {"n_templates": 2, "template_length": 8, "width": 4, "n_blocks": 3},
}
CONFIG = TrainingConfig(epochs=2, batch_size=4, lr=1e-2, progress=False)


def _method(backbone="resnet1d", **kwargs) -> MethodConfig:
    return MethodConfig.from_params({"backbone": backbone, "backbone_params": TINY[backbone], **kwargs})


def _task(name, n_per_class, length, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    X = rng.normal(size=(len(y), 1, length)) + y[:, None, None] * 2.0
    data = TimeSeriesData(X=X, y=y, lengths=np.full(len(y), length), name=name)
    return stratified_split(data, seed=seed)


@pytest.mark.parametrize("backbone", ["resnet1d", "resnet2d"])
def test_fit_task_group_unequal_lengths_scores_and_checkpoints(tmp_path, backbone):
    tasks = {"a": _task("a", 10, 12, 0), "b": _task("b", 5, 20, 1)}
    fit = fit_task_group(tasks, _method(backbone), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert {k for k in fit.scores["test"] if k.startswith("accuracy/")} == {"accuracy/a", "accuracy/b"}
    assert all(0.0 <= fit.score("test", "accuracy", t) <= 1.0 for t in "ab")
    assert 0 <= fit.best_epoch <= 1 and fit.epochs_run == 2
    assert (fit.checkpoint_dir / "best.pt").exists() and (fit.checkpoint_dir / "last.pt").exists()
    assert fit.checkpoint_dir.parent == tmp_path
    # the best epoch is the one with the best mean validation accuracy
    val = [r["val_accuracy"] for r in fit.history]
    assert fit.history[fit.best_epoch]["val_accuracy"] == max(val)
    assert fit.score("val", "accuracy") == pytest.approx(max(val))
    # a finished run resumed from its checkpoint gives the same scores without training again
    stamp = (fit.checkpoint_dir / "last.pt").stat().st_mtime_ns
    again = fit_task_group(tasks, _method(backbone), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert again.scores == fit.scores and again.epochs_run == 0
    assert (fit.checkpoint_dir / "last.pt").stat().st_mtime_ns == stamp


def test_same_seed_same_fit_and_other_settings_other_folders(tmp_path):
    tasks = {"a": _task("a", 10, 12, 0)}
    first = fit_task_group(tasks, _method(), CONFIG, device="cpu", seed=0)
    second = fit_task_group(tasks, _method(), CONFIG, device="cpu", seed=0)
    assert [r["train_loss"] for r in first.history] == [r["train_loss"] for r in second.history]
    one = fit_task_group(tasks, _method(), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    other = fit_task_group(tasks, _method(weighting="uncertainty"), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert one.checkpoint_dir != other.checkpoint_dir


def test_another_split_of_the_same_sizes_trains_from_scratch(tmp_path):
    """Issue #12: a new split seed keeps every shape but must not resume the old run."""
    seed0 = {"a": _task("a", 10, 12, 0)}
    rng = np.random.default_rng(0)  # the same cases, split with another seed
    y = np.repeat([0, 1], 10)
    X = rng.normal(size=(20, 1, 12)) + y[:, None, None] * 2.0
    seed1 = {"a": stratified_split(TimeSeriesData(X=X, y=y, lengths=np.full(20, 12), name="a"), seed=1)}
    assert {k: v.X.shape for k, v in seed0["a"].items()} == {k: v.X.shape for k, v in seed1["a"].items()}
    first = fit_task_group(seed0, _method(), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    second = fit_task_group(seed1, _method(), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert second.checkpoint_dir != first.checkpoint_dir
    assert first.epochs_run == 2 and second.epochs_run == 2  # trained, not resumed
    again = fit_task_group(seed1, _method(), CONFIG, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert again.checkpoint_dir == second.checkpoint_dir and again.epochs_run == 0
    assert again.scores == second.scores


def test_bad_groups_and_gradient_weightings_with_algorithm_2_raise():
    one = _task("a", 10, 12, 0)
    two = {k: TimeSeriesData(X=np.repeat(v.X, 2, axis=1), y=v.y, lengths=v.lengths, name="b") for k, v in one.items()}
    with pytest.raises(ValueError, match="same number of channels"):
        fit_task_group({"a": one, "b": two}, _method(), CONFIG, device="cpu")
    with pytest.raises(ValueError, match="Algorithm 2 batches hold one task each"):
        fit_task_group({"a": one, "b": _task("b", 5, 20, 1)}, _method(weighting="pcgrad"), CONFIG, device="cpu")
    with pytest.raises(ValueError, match="unknown training settings \\['epoch'\\]"):
        TrainingConfig.from_params({"epoch": 3})
    with pytest.raises(ValueError, match="unknown method settings"):
        MethodConfig.from_params({"backbone": "resnet1d", "sharng": "soft"})


# -- joint data ----------------------------------------------------------------------------------
class _Joint:
    """Minimal JointTaskData stand-in: X, lengths, targets, name."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(n, 2, 16)).astype(np.float32)
        self.lengths = np.full(n, 16)
        self.lengths[::4] = 11
        for i in np.where(self.lengths < 16)[0]:
            self.X[i, :, 11:] = np.nan
        last = self.X[np.arange(n), 0, self.lengths - 1]
        self.targets = {
            "alarm": (last > 0.5).astype(np.float64),
            "level": np.stack([last, self.X[:, 1, 0]], axis=1).astype(np.float64),
            "kind": (np.digitize(last, [-0.5, 0.5])).astype(np.float64),
        }
        self.targets["level"][::3, 1] = np.nan  # partial labels
        self.targets["alarm"][1::7] = np.nan
        self.name = f"toy{seed}"


SPECS = {
    "alarm": TaskSpec("alarm", "binary", class_weights="balanced"),
    "level": TaskSpec("level", "regression", 2),
    "kind": TaskSpec("kind", "classification", 3),
}


@pytest.mark.parametrize(("sharing", "weighting"), [("hard", "equal"), ("soft", "dwa"), ("task_layers", "gradnorm"), ("attention", "pcgrad")])
def test_fit_joint_learns_every_task_and_scores_all_metrics(tmp_path, sharing, weighting):
    splits = {"train": _Joint(96, 0), "val": _Joint(32, 1), "test": _Joint(32, 2)}
    training = TrainingConfig(epochs=6, batch_size=16, lr=5e-3, progress=False)
    method = _method(sharing=sharing, weighting=weighting)
    fit = fit_joint(splits, SPECS, method, training, device="cpu", seed=0, checkpoint_dir=tmp_path)
    test = fit.scores["test"]
    for key in ("auprc/alarm", "auroc/alarm", "f1/alarm", "mae/level", "mse/level", "accuracy/kind", "loss"):
        assert np.isfinite(test[key]), key
    assert fit.tasks["alarm"].class_weights == pytest.approx(float(np.nansum(1 - splits["train"].targets["alarm"]) / np.nansum(splits["train"].targets["alarm"])))
    losses = [r["train_loss"] for r in fit.history]
    assert losses[-1] < losses[0]  # it learns
    assert all(f"train_weight/{t}" in fit.history[0] for t in SPECS)
    assert fit.history[fit.best_epoch]["val_loss"] == min(r["val_loss"] for r in fit.history)


def test_single_task_baseline_and_monitor_choice(tmp_path):
    splits = {"train": _Joint(64, 0), "val": _Joint(32, 1), "test": _Joint(32, 2)}
    specs = single_task_specs(SPECS, "level")
    fit = fit_joint(splits, specs, _method(), TrainingConfig(epochs=3, batch_size=16, lr=5e-3, progress=False), monitor="val_mae/level", device="cpu")
    assert set(fit.tasks) == {"level"} and "mae/level" in fit.scores["test"] and "auprc/alarm" not in fit.scores["test"]
    assert fit.history[fit.best_epoch]["val_mae/level"] == min(r["val_mae/level"] for r in fit.history)
    with pytest.raises(KeyError, match="unknown task"):
        single_task_specs(SPECS, "nope")
    with pytest.raises(KeyError, match="lacks the splits"):
        fit_joint({"train": splits["train"]}, specs, _method(), CONFIG, device="cpu")


def test_fit_joint_checkpoints_follow_the_targets_too(tmp_path):
    splits = {"train": _Joint(48, 0), "val": _Joint(16, 1), "test": _Joint(16, 2)}
    first = fit_joint(splits, SPECS, _method(), CONFIG, device="cpu", checkpoint_dir=tmp_path)
    splits["train"].targets["level"][0, 0] += 1.0  # one corrected label
    second = fit_joint(splits, SPECS, _method(), CONFIG, device="cpu", checkpoint_dir=tmp_path)
    assert second.checkpoint_dir != first.checkpoint_dir and second.epochs_run == 2
