"""InceptionTime (Ismail Fawaz et al. 2020) in torch: structure, masking, a tiny training run.

The backbone contract (shapes, padded == cut, determinism, gradients) runs in
``tests/models/test_backbones.py``; this file checks what is specific to InceptionTime.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tsmtl.data.preprocessing.splits import stratified_split
from tsmtl.data.types import TimeSeriesData
from tsmtl.models.backbones import build_backbone
from tsmtl.models.inception import InceptionModule, InceptionTime, masked_max_pool1d, same_padding
from tsmtl.models.masked_norm import MaskedBatchNorm1d
from tsmtl.training.fit import MethodConfig, TrainingConfig, fit_task_group

TINY = {"n_filters": 3, "depth": 6, "kernel_sizes": (8, 4, 2), "bottleneck": 4}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _warm_up(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> nn.Module:
    """A few train-mode passes so the batch-norm running statistics are not the identity."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x, lengths)
    return model.eval()


# -- structure --------------------------------------------------------------------------------
def test_default_structure_is_the_papers():
    model = InceptionTime(in_channels=1)
    assert model.out_features == 128 and model.kernel_sizes == (40, 20, 10)
    modules = [m for m in model.modules() if isinstance(m, InceptionModule)]
    assert len(modules) == 6
    for i, module in enumerate(modules):
        # the bottleneck only when the module input has more than one channel (reference code)
        if i == 0:
            assert module.bottleneck is None
            assert all(c[1].in_channels == 1 for c in module.convs)
        else:
            assert module.bottleneck.in_channels == 128 and module.bottleneck.out_channels == 32
            assert all(c[1].in_channels == 32 for c in module.convs)
        assert [c[1].kernel_size[0] for c in module.convs] == [40, 20, 10]
        assert [c[0].padding for c in module.convs] == [(19, 20), (9, 10), (4, 5)]
        assert all(c[1].out_channels == 32 for c in module.convs)
        assert module.pool_conv.in_channels == (1 if i == 0 else 128)
        assert module.pool_conv.out_channels == 32 and module.pool_conv.kernel_size == (1,)
        assert module.norm.num_features == 128
    # no convolution has a bias (batch norm follows each one)
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv1d))
    # a multivariate input gets a bottleneck in the first module too
    assert InceptionTime(in_channels=3).blocks[0].inceptions[0].bottleneck.in_channels == 3


@pytest.mark.parametrize(
    ("depth", "residual", "groups", "shortcuts"),
    [
        (6, True, [3, 3], [True, True]),
        (7, True, [3, 3, 1], [True, True, False]),
        (2, True, [2], [False]),
        (6, False, [3, 3], [False, False]),
    ],
)
def test_a_residual_shortcut_every_three_modules(depth, residual, groups, shortcuts):
    model = InceptionTime(
        in_channels=2,
        depth=depth,
        residual=residual,
        **{k: v for k, v in TINY.items() if k != "depth"},
    )
    assert [len(b.inceptions) for b in model.blocks] == groups
    assert [b.shortcut is not None for b in model.blocks] == shortcuts
    for block in model.blocks:
        if block.shortcut is not None:
            conv, norm = block.shortcut
            assert conv.kernel_size == (1,) and conv.out_channels == 12
            assert isinstance(norm, MaskedBatchNorm1d)
    maps = model.feature_maps(torch.randn(2, 2, 15), None)
    assert len(maps) == len(groups)  # one feature map per residual block (group of modules)
    assert all(m.values.shape == (2, 12, 15) and m.mask is None for m in maps)


def test_out_features_and_other_kernel_sizes():
    model = InceptionTime(in_channels=1, n_filters=5, depth=1, kernel_sizes=(41, 21, 11))
    assert model.out_features == 20
    assert [c[0].padding for c in model.blocks[0].inceptions[0].convs] == [
        (20, 20),
        (10, 10),
        (5, 5),
    ]
    assert InceptionTime(in_channels=1, n_filters=5, kernel_sizes=(9, 3)).out_features == 15
    assert same_padding(40) == (19, 20) and same_padding(1) == (0, 0)
    model = build_backbone("inception", 2, {"n_filters": 4, "depth": 3, "bottleneck": None})
    assert isinstance(model, InceptionTime) and model.out_features == 16
    assert all(m.bottleneck is None for m in model.modules() if isinstance(m, InceptionModule))
    with pytest.raises(ValueError, match="positive kernel sizes"):
        InceptionTime(in_channels=1, kernel_sizes=())
    with pytest.raises(ValueError, match="depth >= 1"):
        InceptionTime(in_channels=1, depth=0)


# -- masking ----------------------------------------------------------------------------------
def test_masked_max_pool_takes_the_max_over_valid_steps_only():
    x = -torch.arange(1.0, 7.0).view(1, 1, 6)  # -1, -2, ..., -6: zero padding would win the max
    lengths = torch.tensor([4])
    padded = x.clone()
    padded[..., 4:] = float("nan")
    mask = torch.arange(6)[None, None, :] < lengths[:, None, None]
    out = masked_max_pool1d(padded, mask)
    # window of 3 centred on t, clipped to the valid steps [0, 4)
    torch.testing.assert_close(out, torch.tensor([[[-1.0, -1.0, -2.0, -3.0, 0.0, 0.0]]]))
    # the cut series gives the same values (the pool's own padding never wins)
    torch.testing.assert_close(masked_max_pool1d(x[..., :4], None), out[..., :4])
    with pytest.raises(ValueError, match="odd kernel_size"):
        masked_max_pool1d(x, None, 2)


def test_max_pool_branch_of_a_padded_negative_series_equals_the_cut_one():
    """All-negative series: letting the zeroed padding into the pool would change the last step."""
    module = InceptionModule(in_channels=1, n_filters=2, kernel_sizes=(4, 2), bottleneck=None)
    x = -1.0 - torch.rand(1, 1, 10)
    mask = (torch.arange(10) < 7).view(1, 1, 10)
    padded = torch.where(mask, x, torch.zeros(()))  # the module's input is zero at padded steps
    pooled = module.pool_conv(masked_max_pool1d(padded, mask))
    torch.testing.assert_close(
        pooled[..., :7], module.pool_conv(masked_max_pool1d(x[..., :7], None))
    )
    assert (pooled[..., 7:] == 0).all()
    # zero padding in the pool (the naive way) would differ at the last valid step
    naive = module.pool_conv(nn.functional.max_pool1d(padded, 3, stride=1, padding=1))
    assert not torch.allclose(naive[..., 6], pooled[..., 6])


@pytest.mark.parametrize("residual", [True, False])
def test_padded_equals_cut_with_warmed_up_batch_norm(residual):
    model = InceptionTime(in_channels=2, residual=residual, **TINY)
    lengths = torch.tensor([17, 9, 4, 12])
    x = torch.randn(4, 2, 17) - 3.0  # mostly negative: a leaky max-pool would show
    for i, length in enumerate(lengths.tolist()):
        x[i, :, length:] = float("nan")
    _warm_up(model, x, lengths)
    padded = model(x, lengths)
    steps = model.forward_steps(x, lengths)
    for i, length in enumerate(lengths.tolist()):
        alone = model(x[i : i + 1, :, :length], None)
        torch.testing.assert_close(padded[i : i + 1], alone, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(
            steps[i : i + 1, :, :length],
            model.forward_steps(x[i : i + 1, :, :length]),
            rtol=1e-5,
            atol=1e-6,
        )
        assert (steps[i, :, length:] == 0).all()


def test_training_mode_ignores_how_much_padding_a_batch_carries():
    """Batch-norm statistics over the valid steps: more padding, same training-mode output."""
    lengths = torch.tensor([11, 6, 8])
    x = torch.randn(3, 1, 11)
    longer = torch.cat([x, torch.full((3, 1, 9), float("nan"))], dim=-1)
    for i, length in enumerate(lengths.tolist()):
        x[i, :, length:] = float("nan")
        longer[i, :, length:] = float("nan")
    first, second = InceptionTime(in_channels=1, **TINY), InceptionTime(in_channels=1, **TINY)
    second.load_state_dict(first.state_dict())
    torch.testing.assert_close(
        first.train()(x, lengths), second.train()(longer, lengths), rtol=1e-5, atol=1e-6
    )


# -- training ---------------------------------------------------------------------------------
def _sine_or_noise(n_per_class: int = 30, seed: int = 0) -> TimeSeriesData:
    """Class 0: a sine of random phase; class 1: white noise. Lengths 20..32 (padded with NaN)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    lengths = rng.integers(20, 33, size=len(y))
    X = np.full((len(y), 1, 32), np.nan)
    for i, (label, length) in enumerate(zip(y, lengths, strict=True)):
        t = np.arange(length)
        if label == 0:
            X[i, 0, :length] = np.sin(2 * np.pi * t / 8 + rng.uniform(0, 2 * np.pi))
        else:
            X[i, 0, :length] = rng.normal(size=length)
    return TimeSeriesData(X=X, y=y, lengths=lengths, name="sine_or_noise")


def test_a_tiny_inception_learns_two_separable_classes():
    splits = stratified_split(_sine_or_noise(), fractions=(0.5, 0.25, 0.25), seed=0)
    method = MethodConfig.from_params(
        {
            "backbone": "inception",
            "backbone_params": {
                "n_filters": 4,
                "depth": 3,
                "kernel_sizes": [8, 4, 2],
                "bottleneck": 4,
            },
        }
    )
    training = TrainingConfig(epochs=15, batch_size=10, lr=1e-2, progress=False)
    fit = fit_task_group({"sine_or_noise": splits}, method, training, device="cpu", seed=0)
    assert fit.score("val", "accuracy") >= 0.9
    assert fit.score("test", "accuracy", "sine_or_noise") >= 0.9
