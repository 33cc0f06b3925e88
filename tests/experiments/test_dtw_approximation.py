"""DTW targets, pair batches, the distance learners' fit and pixel-perturbation importance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from tsmtl.data.synthetic import random_walk_pairs
from tsmtl.experiments.dtw_approximation import (
    MODEL_SPEC_FILE,
    PairBatch,
    PairBatches,
    build_distance_model,
    dtw_targets,
    dtw_warping_paths,
    fit_distance_model,
    pixel_perturbation_importance,
    regression_step,
    siamese2d_from_distance_matrix,
)
from tsmtl.models.resnet2d import pairwise_distance_matrix
from tsmtl.models.siamese import SiameseResNet2D
from tsmtl.training.tensors import batch_bounds


# -- DTW targets --------------------------------------------------------------------------------
def test_dtw_target_of_unequal_pair_matches_hand_computation():
    # x = [0, 1, 2], y = [0, 2], cost (x_i - y_j)^2:
    #   M = [[0, 4], [1, 1], [4, 0]]
    #   C[0,0] = 0, C[0,1] = 4, C[1,0] = 1, C[1,1] = 1 + min(0, 4, 1) = 1,
    #   C[2,0] = 4 + 1 = 5, C[2,1] = 0 + min(C[1,0], C[1,1], C[2,0]) = 0 + 1 = 1
    assert dtw_targets([([0.0, 1.0, 2.0], [0.0, 2.0])], None) == pytest.approx([1.0])


def test_dtw_target_of_equal_length_pair_matches_hand_computation():
    # x = [0, 1, 2], y = [1, 2, 3]: M = [[1, 4, 9], [0, 1, 4], [1, 0, 1]]
    #   row 0: 1, 5, 14; row 1: 1, 2, 6; row 2: 2, 1, 2  -> DTW 2; the diagonal alone gives 3.
    pairs = np.array([[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]])
    assert dtw_targets(pairs, None) == pytest.approx([2.0])
    assert dtw_targets(pairs, 0.0) == pytest.approx([3.0])
    # a shifted step aligns perfectly with warping, not without
    step = np.array([[[0.0, 0.0, 1.0], [0.0, 1.0, 1.0]]])
    assert dtw_targets(step, None) == pytest.approx([0.0])
    assert dtw_targets(step, 0.0) == pytest.approx([1.0])


def test_window_zero_is_squared_euclidean_and_wider_windows_never_increase_dtw():
    pairs = random_walk_pairs(20, 24, seed=3)
    squared_euclidean = ((pairs[:, 0] - pairs[:, 1]) ** 2).sum(axis=1)
    np.testing.assert_allclose(dtw_targets(pairs, 0.0), squared_euclidean, rtol=1e-9)
    by_window = [dtw_targets(pairs, w) for w in (0.0, 0.1, 0.25, 1.0)]
    for narrow, wide in zip(by_window, by_window[1:]):
        assert np.all(wide <= narrow + 1e-9)
    assert np.any(by_window[-1] < by_window[0] - 1e-6)  # warping helps on some pair
    np.testing.assert_allclose(dtw_targets(pairs, None), by_window[-1])


def test_warping_path_is_valid_and_its_cost_is_the_target():
    pairs = random_walk_pairs(5, 16, seed=4)
    for window in (0.1, 1.0):
        targets = dtw_targets(pairs, window)
        for (a, b), path, target in zip(pairs, dtw_warping_paths(pairs, window), targets):
            assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (15, 15)
            steps = np.diff(path, axis=0)
            assert np.all((steps >= 0) & (steps <= 1)) and np.all(steps.sum(axis=1) >= 1)
            if window < 1.0:
                assert np.abs(path[:, 0] - path[:, 1]).max() <= int(window * 16)
            assert ((a[path[:, 0]] - b[path[:, 1]]) ** 2).sum() == pytest.approx(target)


def test_bad_pairs_and_windows_raise():
    with pytest.raises(ValueError, match="window"):
        dtw_targets(random_walk_pairs(2, 8), 1.5)
    with pytest.raises(ValueError, match=r"\(n_pairs, 2, length\)"):
        dtw_targets(np.zeros((3, 8)), None)


# -- batches and the step -------------------------------------------------------------------------
def test_batch_bounds_keep_a_short_last_batch_but_never_a_single_pair():
    assert batch_bounds(100, 40) == [(0, 40), (40, 80), (80, 100)]
    assert batch_bounds(81, 40) == [(0, 40), (40, 81)]
    assert batch_bounds(1, 40) == [(0, 1)]


def test_pair_batches_cover_every_pair_once_and_depend_on_the_epoch_only():
    pairs = random_walk_pairs(23, 6, seed=0)
    targets = np.arange(23, dtype=float)
    provider = PairBatches(pairs, targets, batch_size=5, seed=7)
    first = list(provider(0))
    assert len(provider(0)) == len(first) == 5
    seen = torch.cat([batch.target for batch in first]).long().sort().values
    assert torch.equal(seen, torch.arange(23))
    for batch in first:  # a, b and target stay aligned
        index = batch.target.long()
        torch.testing.assert_close(batch.a, torch.from_numpy(pairs[index.numpy(), 0]).float())
        torch.testing.assert_close(batch.b, torch.from_numpy(pairs[index.numpy(), 1]).float())
    again = list(PairBatches(pairs, targets, batch_size=5, seed=7)(0))
    assert all(torch.equal(x.target, y.target) for x, y in zip(first, again))
    other_epoch = torch.cat([batch.target for batch in provider(1)])
    assert not torch.equal(other_epoch, torch.cat([batch.target for batch in first]))


class _Difference(nn.Module):
    """Stub learner: sum(a) - sum(b)."""

    def forward(self, a, b):
        return a.sum(dim=1) - b.sum(dim=1)


def test_regression_step_is_the_mean_squared_error():
    a = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    target = torch.tensor([2.0, 1.0])  # predictions 3 and -1: errors 1 and -2
    loss, logs = regression_step(_Difference(), PairBatch(a, b, target))
    assert float(loss) == pytest.approx((1 + 4) / 2)
    assert float(logs["mae"]) == pytest.approx(1.5)


# -- pixel perturbation ---------------------------------------------------------------------------
def test_matrix_entry_point_matches_the_siamese_forward():
    torch.manual_seed(0)
    model = SiameseResNet2D(width=4, n_blocks=2).eval()
    a, b = torch.randn(3, 9), torch.randn(3, 7)
    torch.testing.assert_close(siamese2d_from_distance_matrix(model, pairwise_distance_matrix(a, b)), model(a, b))
    with pytest.raises(TypeError):
        siamese2d_from_distance_matrix(_Difference(), pairwise_distance_matrix(a, b))


class _OnePixel(nn.Module):
    """Stand-in trunk whose feature is the single distance-matrix pixel (i, j)."""

    out_features = 1

    def __init__(self, i: int, j: int) -> None:
        super().__init__()
        self.i, self.j = i, j

    def forward(self, distances, lengths=None, col_lengths=None):
        return distances[:, :, self.i, self.j]  # (B, 1)


def _one_pixel_model(i: int, j: int) -> SiameseResNet2D:
    model = SiameseResNet2D(width=2, n_blocks=1)
    model.resnet = _OnePixel(i, j)
    model.head = nn.Linear(1, 1)
    with torch.no_grad():
        model.head.weight.fill_(2.0)
        model.head.bias.fill_(0.5)
    return model


def test_only_the_pixel_the_model_reads_is_important():
    a = np.array([0.0, 1.0, 3.0, -1.0, 2.0])
    b = np.array([0.5, -2.0, 1.0, 4.0])
    model = _one_pixel_model(2, 1)  # reads |a_2 - b_1| = 5
    importance = pixel_perturbation_importance(model, a, b)
    expected = np.zeros((5, 4))
    expected[2, 1] = 2.0 * 5.0  # |f(baseline 0) - f(D)| = 2 * |0 - 5|
    np.testing.assert_allclose(importance, expected, atol=1e-6)
    shifted = pixel_perturbation_importance(model, a, b, baseline=1.0)
    assert shifted[2, 1] == pytest.approx(2.0 * 4.0)
    # 2 x 2 tiles: the tile rows 2-3, columns 0-1 shares the pixel's score; the last tile row is 1 high
    tiled = pixel_perturbation_importance(model, a, b, patch=2)
    expected = np.zeros((5, 4))
    expected[2:4, 0:2] = 10.0
    np.testing.assert_allclose(tiled, expected, atol=1e-6)


def test_importance_map_shape_and_independence_of_the_batch_size():
    torch.manual_seed(1)
    model = SiameseResNet2D(width=4, n_blocks=2)
    model.train()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(10), rng.standard_normal(7)
    small = pixel_perturbation_importance(model, a, b, batch_size=3)
    large = pixel_perturbation_importance(model, a, b, batch_size=1000)
    assert small.shape == (10, 7)
    assert np.all(small >= 0) and np.any(small > 0)
    np.testing.assert_allclose(small, large, rtol=1e-4, atol=1e-7)
    assert model.training  # mode restored


# -- fitting --------------------------------------------------------------------------------------
def _splits(length: int = 10):
    pairs = random_walk_pairs(40, length, seed=11)
    targets = dtw_targets(pairs, 0.2)
    cuts = {"train": slice(0, 24), "val": slice(24, 32), "test": slice(32, 40)}
    return {k: pairs[s] for k, s in cuts.items()}, {k: targets[s] for k, s in cuts.items()}


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("resnet1d", {"widths": [4], "kernel_sizes": [3, 3, 3], "embedding_dim": 4}), ("resnet2d", {"width": 4, "n_blocks": 2})],
)
def test_fit_distance_model_selects_on_validation_and_scores_the_test_pairs(tmp_path, kind, kwargs):
    pairs, targets = _splits()
    config = {"epochs": 2, "batch_size": 8, "lr": 1e-3, kind: kwargs}
    fit = fit_distance_model(kind, pairs, targets, config, checkpoint_dir=tmp_path, device="cpu", seed=0)
    assert fit.kind == kind and fit.target_scale == pytest.approx(targets["train"].mean())
    val_mse = [record["val_mse"] for record in fit.training.history]
    assert len(val_mse) == 2 and fit.training.best_metric == pytest.approx(min(val_mse))
    assert fit.test_predictions.shape == (8,)
    np.testing.assert_allclose(fit.test_errors, np.abs(fit.test_predictions - targets["test"]))
    assert fit.test_metrics["test_mae"] == pytest.approx(fit.test_errors.mean())
    # the checkpoint and its spec rebuild the same predictor; they live in a run folder under tmp_path
    run_dir = fit.training.checkpoint_dir
    assert run_dir.parent == tmp_path
    spec = json.loads((run_dir / MODEL_SPEC_FILE).read_text())
    assert spec["kind"] == kind and spec["target_scale"] == pytest.approx(fit.target_scale)
    rebuilt = build_distance_model(spec["kind"], spec["model_kwargs"])
    rebuilt.load_state_dict(torch.load(run_dir / "best.pt", weights_only=True)["model"])
    rebuilt.eval()
    test = torch.from_numpy(pairs["test"]).float()
    with torch.no_grad():
        again = rebuilt(test[:, 0], test[:, 1]).double().numpy() * spec["target_scale"]
    np.testing.assert_allclose(again, fit.test_predictions, rtol=1e-5)


def test_fit_rejects_unknown_models_and_missing_splits():
    pairs, targets = _splits()
    with pytest.raises(ValueError, match="unknown distance model"):
        fit_distance_model("lstm", pairs, targets, {"epochs": 1}, device="cpu")
    with pytest.raises(KeyError, match="val"):
        fit_distance_model("resnet2d", {"train": pairs["train"], "test": pairs["test"]}, targets, {"epochs": 1}, device="cpu")
