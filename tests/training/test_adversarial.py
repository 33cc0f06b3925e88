"""The fast gradient sign method (ForeClassNet Sec. 4.5-4.6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.sharing import SharedTrunk
from tsmtl.tasks import TaskSpec
from tsmtl.training.adversarial import fgsm, fgsm_dataset


class _Linear(nn.Module):
    """``f(x)_b = sum_{c,t} w_{ct} x_{bct}``: ``grad_x sum_b target_b f(x)_b = target_b w``."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum(dim=(1, 2))


def _linear_loss(model, x, target):
    return (model(x) * target).sum()


class _Classifier(nn.Module):
    """Batch norm + dropout + linear logits: the mode matters, the cases stay independent in eval."""

    def __init__(self, channels: int = 2, length: int = 12, n_outputs: int = 3) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)
        self.dropout = nn.Dropout(0.5)
        self.linear = nn.Linear(channels * length, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(self.norm(x)).flatten(1))


def _ce(model, x, target):
    return F.cross_entropy(model(x), target)


def _mse(model, x, target):
    return F.mse_loss(model(x), target)


def _data(n: int = 10, channels: int = 2, length: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, channels, length))
    y = rng.integers(0, 3, size=n)
    return X, y


def test_moves_every_value_by_epsilon_times_the_sign_of_a_known_gradient():
    weight = torch.tensor([[[1.5, -2.0, 0.0, 0.3], [0.0, -0.1, 4.0, -7.0]]])
    model = _Linear(weight[0])
    x = torch.randn(3, 2, 4)
    target = torch.tensor([1.0, -2.0, 0.0])  # the third case has a zero gradient everywhere
    x_adv = fgsm(model, _linear_loss, x, target, epsilon=0.25)
    expected = x + 0.25 * torch.sign(target[:, None, None] * weight)
    torch.testing.assert_close(x_adv, expected, rtol=0, atol=0)
    moved = (x_adv - x).abs()
    zero_gradient = (target[:, None, None] * weight) == 0
    assert torch.all(moved[zero_gradient] == 0)  # sign(0) = 0: these do not move
    torch.testing.assert_close(moved[~zero_gradient], torch.full_like(moved[~zero_gradient], 0.25))
    assert x_adv.dtype == x.dtype and not x_adv.requires_grad
    torch.testing.assert_close(fgsm(model, _linear_loss, x, target, epsilon=0.0), x, rtol=0, atol=0)
    with pytest.raises(ValueError):
        fgsm(model, _linear_loss, x, target, epsilon=-0.1)


@pytest.mark.parametrize("head", ["classification", "forecast"])
def test_loss_increases(head):
    # Linear logits / forecasts: the per-case CE and MSE are convex in x, so the step strictly
    # increases each case's loss (by at least epsilon * |grad|_1).
    torch.manual_seed(0)
    X, y = _data(n=32)
    x = torch.as_tensor(X, dtype=torch.float32)
    if head == "classification":
        model = nn.Sequential(nn.Flatten(), nn.Linear(24, 3))
        target = torch.as_tensor(y)
        per_case = lambda out: F.cross_entropy(out, target, reduction="none")  # noqa: E731
        loss_fn = _ce
    else:
        model = nn.Sequential(nn.Flatten(), nn.Linear(24, 5))
        target = torch.randn(32, 5)
        per_case = lambda out: ((out - target) ** 2).mean(dim=1)  # noqa: E731
        loss_fn = _mse
    x_adv = fgsm(model, loss_fn, x, target, epsilon=0.1)
    with torch.no_grad():
        before, after = per_case(model(x)), per_case(model(x_adv))
    assert torch.all(after > before)
    assert loss_fn(model, x_adv, target) > loss_fn(model, x, target)


@pytest.mark.parametrize("training", [True, False])
def test_no_parameter_gradient_and_mode_restored(training):
    torch.manual_seed(0)
    model = _Classifier()
    model.train(training)
    X, y = _data()
    seen_modes = []

    def loss_fn(m, x, target):
        seen_modes.append([sub.training for sub in m.modules()])
        return _ce(m, x, target)

    with torch.no_grad():  # gradients are enabled locally
        fgsm(model, loss_fn, torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y), 0.1)
    assert seen_modes == [[False] * len(list(model.modules()))]  # eval for the gradient
    assert all(sub.training == training for sub in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_mixed_modes_and_existing_gradients_are_kept():
    model = _Classifier()
    model.eval()
    model.dropout.train()  # e.g. Monte Carlo dropout left on by the caller
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    X, y = _data()
    fgsm_dataset(model, _ce, X, y, 0.1, batch_size=4)
    assert model.dropout.training and not model.training and not model.norm.training
    assert all(torch.equal(p.grad, torch.ones_like(p)) for p in model.parameters())


def test_batched_helper_equals_one_shot():
    torch.manual_seed(1)
    model = _Classifier()
    model.train()
    model(torch.randn(64, 2, 12) * 3 + 1)  # non-trivial running statistics
    X, y = _data(n=23)
    x = torch.as_tensor(X, dtype=torch.float32)
    one_shot = fgsm(model, _ce, x, torch.as_tensor(y), epsilon=0.1)
    expected = X + 0.1 * torch.sign(one_shot - x).numpy().astype(np.float64)
    for batch_size in (1, 5, 23, 100):
        X_adv = fgsm_dataset(model, _ce, X, y, 0.1, batch_size=batch_size)
        assert X_adv.dtype == X.dtype and X_adv.shape == X.shape
        np.testing.assert_array_equal(X_adv, expected)
    # Floating targets: the MSE of a forecast head.
    forecaster = nn.Sequential(nn.Flatten(), nn.Linear(24, 4))
    future = np.random.default_rng(2).normal(size=(23, 4))
    one_shot = fgsm(forecaster, _mse, x, torch.as_tensor(future, dtype=torch.float32), 0.1)
    np.testing.assert_array_equal(
        fgsm_dataset(forecaster, _mse, X, future, 0.1, batch_size=6),
        X + 0.1 * torch.sign(one_shot - x).numpy().astype(np.float64),
    )


def test_multitask_model_example_with_lengths():
    """The module docstring's example on a SharedTrunk (``model(x, lengths, tasks=[name])``)."""
    torch.manual_seed(0)
    specs = {
        "class": TaskSpec("class", "classification", 2),
        "forecast": TaskSpec("forecast", "regression", 3),
    }
    model = SharedTrunk(ResNet1D(widths=(4, 4, 4), kernel_sizes=(3, 3, 3)), specs)
    received = []

    def class_loss(model, x, target, lengths=None):
        received.append(lengths)
        return F.cross_entropy(model(x, lengths, tasks=["class"])["class"], target)

    def forecast_loss(model, x, target, lengths=None):
        return F.mse_loss(model(x, lengths, tasks=["forecast"])["forecast"], target)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 1, 10))
    lengths = np.array([10, 7, 10, 4, 9, 10])
    for i, n in enumerate(lengths):
        X[i, :, n:] = 0.0  # padding
    y = rng.integers(0, 2, size=6)
    future = rng.normal(size=(6, 3))
    X_cls = fgsm_dataset(model, class_loss, X, y, 0.1, batch_size=4, lengths=lengths)
    X_fc = fgsm_dataset(model, forecast_loss, X, future, 0.1, batch_size=4, lengths=lengths)
    assert all(torch.is_tensor(r) for r in received)
    valid = np.arange(10)[None, None, :] < lengths[:, None, None]
    for X_adv in (X_cls, X_fc):
        moved = np.abs(X_adv - X)
        assert np.all(moved[~valid] == 0)  # the padding never moves
        assert np.all(np.isclose(moved[valid], 0.1) | (moved[valid] == 0))
        assert np.isclose(moved[valid], 0.1).mean() > 0.9
    # Without lengths the loss gets three arguments.
    x = torch.as_tensor(X[:2], dtype=torch.float32)
    fgsm(model, lambda m, x, t: class_loss(m, x, t), x, torch.as_tensor(y[:2]), 0.1)
    assert received[-1] is None


def test_monte_carlo_dropout_is_reproducible_under_a_seed():
    class _AlwaysDropout(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(12, 2)

        def forward(self, x):
            return self.linear(F.dropout(x.flatten(1), p=0.5, training=True))

    model = _AlwaysDropout()
    X, y = _data(channels=1)
    results = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        results.append(fgsm_dataset(model, _ce, X, y % 2, 0.1, batch_size=4))
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_input_checks():
    model = _Classifier()
    X, y = _data()
    with pytest.raises(ValueError):
        fgsm_dataset(model, _ce, X[:, 0], y, 0.1)
    with pytest.raises(ValueError):
        fgsm_dataset(model, _ce, X, y[:-1], 0.1)
    with pytest.raises(ValueError):
        fgsm_dataset(model, lambda m, x, t: F.cross_entropy(m(x), t, reduction="none"), X, y, 0.1)
