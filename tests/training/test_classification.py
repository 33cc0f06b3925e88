import numpy as np
import pytest

from tsmtl.data.preprocessing import stratified_split
from tsmtl.data.types import TimeSeriesData
from tsmtl.training.classification import (
    ClassifierTrainingConfig,
    build_trunk,
    fit_classifier,
)

TINY = {
    "resnet1d": {"widths": [4, 8, 8]},
    "resnet2d": {"n_templates": 2, "template_length": 8, "width": 4, "n_blocks": 3},
}


def _task(name, n_per_class, length, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    X = rng.normal(size=(len(y), 1, length)) + y[:, None, None] * 2.0
    data = TimeSeriesData(X=X, y=y, lengths=np.full(len(y), length), name=name)
    return stratified_split(data, seed=seed)


@pytest.mark.parametrize("architecture", ["resnet1d", "resnet2d"])
def test_fit_classifier_multitask_unequal_lengths_scores_and_checkpoints(tmp_path, architecture):
    tasks = {"a": _task("a", 10, 12, 0), "b": _task("b", 5, 20, 1)}
    config = ClassifierTrainingConfig(epochs=2, batch_size=4, lr=1e-2, progress=False)
    fit = fit_classifier(tasks, architecture, TINY[architecture], config, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert set(fit.test_accuracy) == {"a", "b"}
    assert all(0.0 <= v <= 1.0 for v in fit.test_accuracy.values())
    assert 0 <= fit.best_epoch <= 2
    assert (fit.checkpoint_dir / "best.pt").exists() and (fit.checkpoint_dir / "last.pt").exists()
    assert fit.checkpoint_dir.parent == tmp_path
    # a finished run resumed from its checkpoint gives the same scores without training again
    stamp = (fit.checkpoint_dir / "last.pt").stat().st_mtime_ns
    again = fit_classifier(tasks, architecture, TINY[architecture], config, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert again.test_accuracy == fit.test_accuracy
    assert (fit.checkpoint_dir / "last.pt").stat().st_mtime_ns == stamp


def test_another_split_of_the_same_sizes_trains_from_scratch(tmp_path):
    """The issue's scenario: a new split seed keeps every shape but must not resume the old run."""
    config = ClassifierTrainingConfig(epochs=2, batch_size=4, lr=1e-2, progress=False)
    seed0 = {"a": _task("a", 10, 12, 0)}
    rng = np.random.default_rng(0)  # the same cases, split with another seed
    y = np.repeat([0, 1], 10)
    X = rng.normal(size=(20, 1, 12)) + y[:, None, None] * 2.0
    seed1 = {"a": stratified_split(TimeSeriesData(X=X, y=y, lengths=np.full(20, 12), name="a"), seed=1)}
    assert {k: v.X.shape for k, v in seed0["a"].items()} == {k: v.X.shape for k, v in seed1["a"].items()}
    first = fit_classifier(seed0, "resnet1d", TINY["resnet1d"], config, device="cpu", seed=0, checkpoint_dir=tmp_path)
    second = fit_classifier(seed1, "resnet1d", TINY["resnet1d"], config, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert second.checkpoint_dir != first.checkpoint_dir
    assert first.epochs_run == 2 and second.epochs_run == 2  # trained, not resumed
    # identical data still resumes: nothing is trained again
    again = fit_classifier(seed1, "resnet1d", TINY["resnet1d"], config, device="cpu", seed=0, checkpoint_dir=tmp_path)
    assert again.checkpoint_dir == second.checkpoint_dir and again.epochs_run == 0
    assert again.test_accuracy == second.test_accuracy


def test_bad_architecture_and_mixed_channels_raise():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_trunk("transformer", 1)
    one = _task("a", 10, 12, 0)
    two = {k: TimeSeriesData(X=np.repeat(v.X, 2, axis=1), y=v.y, lengths=v.lengths, name="b") for k, v in one.items()}
    with pytest.raises(ValueError, match="same number of channels"):
        fit_classifier({"a": one, "b": two}, "resnet1d", TINY["resnet1d"], ClassifierTrainingConfig(epochs=1), device="cpu")
