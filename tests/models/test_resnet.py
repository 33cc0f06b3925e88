"""ResNet1D, ResNet2D, the distance tensors, the Siamese learners and the multitask heads (tiny, CPU)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.resnet2d import (
    ResNet2D,
    TemplateResNet2D,
    distance_tensor_bytes,
    pairwise_distance_matrix,
    pairwise_distance_tensor,
)
from tsmtl.models.siamese import SiameseResNet1D, SiameseResNet2D

TINY_1D = {"widths": (4, 8, 8)}
TINY_2D = {"n_templates": 3, "template_length": 10, "width": 4, "n_blocks": 8}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _warm_up_batch_norm(model: nn.Module, *inputs) -> None:
    """One train-mode pass so BN running statistics are not the identity, then eval mode."""
    model.train()
    with torch.no_grad():
        model(*inputs)
    model.eval()


# -- distance tensors -----------------------------------------------------------------------------
def test_pairwise_distance_tensor_matches_a_double_loop_univariate():
    series, templates = torch.randn(2, 7), torch.randn(3, 5)
    out = pairwise_distance_tensor(series, templates)
    assert out.shape == (2, 3, 7, 5)
    expected = torch.empty(2, 3, 7, 5)
    for b in range(2):
        for j in range(3):
            for i in range(7):
                for m in range(5):
                    expected[b, j, i, m] = abs(series[b, i] - templates[j, m])
    torch.testing.assert_close(out, expected)
    # (B, 1, n) input gives the same as (B, n)
    torch.testing.assert_close(pairwise_distance_tensor(series.unsqueeze(1), templates), expected)


def test_pairwise_distance_tensor_matches_a_double_loop_multichannel():
    series, templates = torch.randn(2, 3, 6), torch.randn(4, 3, 5)
    out = pairwise_distance_tensor(series, templates)
    assert out.shape == (2, 4, 6, 5)
    for b in range(2):
        for j in range(4):
            for i in range(6):
                for m in range(5):
                    expected = torch.sqrt(((series[b, :, i] - templates[j, :, m]) ** 2).sum())
                    torch.testing.assert_close(out[b, j, i, m], expected)
    with pytest.raises(ValueError, match="channels"):
        pairwise_distance_tensor(series, torch.randn(4, 2, 5))


def test_distance_tensor_memory_of_the_paper_setting():
    # batch 40, k = 64 templates of length 512, a series of length 750: 3.9 GB in float32
    assert distance_tensor_bytes(40, 64, 750, 512) == 40 * 64 * 750 * 512 * 4
    assert round(distance_tensor_bytes(40, 64, 750, 512) / 1e9, 1) == 3.9


def test_pairwise_distance_matrix_of_pairs():
    a, b = torch.randn(3, 6), torch.randn(3, 4)
    out = pairwise_distance_matrix(a, b)
    assert out.shape == (3, 1, 6, 4)
    for p in range(3):
        torch.testing.assert_close(out[p, 0], (a[p][:, None] - b[p][None, :]).abs())


# -- ResNet1D ---------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # the torch reference conv
def test_resnet1d_shapes_and_paper_defaults():
    paper = ResNet1D()
    assert paper.out_features == 128
    assert [conv[1].kernel_size[0] for conv in paper.blocks[0].convs] == [8, 5, 3]
    assert isinstance(paper.blocks[2].skip, nn.Identity)  # 128 -> 128
    assert isinstance(paper.blocks[0].skip, nn.Sequential)  # 1 -> 64: 1x1 conv + BN
    model = ResNet1D(**TINY_1D)
    # "same" padding: the explicit padding equals torch's padding="same" for the even kernel 8
    conv = model.blocks[0].convs[0]
    reference = nn.Conv1d(1, 4, 8, padding="same")
    reference.load_state_dict(conv[1].state_dict())
    probe = torch.randn(2, 1, 11)
    torch.testing.assert_close(conv(probe), reference(probe))
    assert model(torch.randn(5, 1, 37)).shape == (5, 8)
    assert model(torch.randn(5, 37)).shape == (5, 8)  # (B, T) for univariate
    assert ResNet1D(in_channels=3, **TINY_1D)(torch.randn(2, 3, 20)).shape == (2, 8)


def test_resnet1d_masked_pooling_ignores_padding():
    model = ResNet1D(**TINY_1D)
    x = torch.randn(3, 1, 30)
    lengths = torch.tensor([30, 17, 9])
    _warm_up_batch_norm(model, x)
    with torch.no_grad():
        reference = model(x, lengths)
        changed = x.clone()
        changed[1, :, 17:] = 100.0
        changed[2, :, 9:] = float("nan")
        torch.testing.assert_close(model(changed, lengths), reference)
        # and a padded series gives the features of the series cut to its true length
        torch.testing.assert_close(model(x[1:2, :, :17]), reference[1:2])
        torch.testing.assert_close(model(x[2:3, :, :9]), reference[2:3])
        # without lengths the padding does count
        assert not torch.allclose(model(changed[:2]), model(x[:2]))


def test_resnet1d_training_statistics_ignore_padding():
    """In training mode too, a padded series gives the features of the series cut to its length."""
    model = ResNet1D(**TINY_1D).train()
    x = torch.randn(1, 1, 30)
    with torch.no_grad():
        padded = model(x, torch.tensor([13]))
        cut = model(x[:, :, :13])
        torch.testing.assert_close(padded, cut)
        # a batch of one padded series with the padding counted would differ
        assert not torch.allclose(model(x), cut)


# -- ResNet2D ---------------------------------------------------------------------------------------
def test_stride2_conv_keeps_size_one_and_resnet2d_survives_tiny_inputs():
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    assert conv(torch.randn(1, 1, 1, 1)).shape == (1, 1, 1, 1)
    assert [ResNet2D.output_size(s, 8) for s in (1, 2, 3, 300)] == [1, 1, 1, 2]
    model = ResNet2D(in_channels=2, width=4, n_blocks=8)
    assert model(torch.randn(2, 2, 3, 2)).shape == (2, 4)
    assert model(torch.randn(2, 2, 1, 1)).shape == (2, 4)


def test_resnet2d_width_schedule():
    constant = ResNet2D(in_channels=4, width=4, n_blocks=3)
    assert constant.widths == (4, 4, 4) and constant.out_features == 4
    assert isinstance(constant.blocks[0].skip, nn.Identity)
    doubling = ResNet2D(in_channels=2, widths=(4, 8, 8))
    assert doubling.out_features == 8 and len(doubling.blocks) == 3
    assert doubling(torch.randn(2, 2, 9, 5)).shape == (2, 8)


def test_resnet2d_masks_padded_rows():
    model = ResNet2D(in_channels=2, width=4, n_blocks=4)
    x = torch.rand(3, 2, 21, 6)
    lengths = torch.tensor([21, 11, 4])
    _warm_up_batch_norm(model, x)
    with torch.no_grad():
        reference = model(x, lengths)
        changed = x.clone()
        changed[1, :, 11:] = 5.0
        changed[2, :, 4:] = -3.0
        torch.testing.assert_close(model(changed, lengths), reference)
        torch.testing.assert_close(model(x[1:2, :, :11]), reference[1:2])
        torch.testing.assert_close(model(x[2:3, :, :4]), reference[2:3])


def test_template_resnet2d_shapes_templates_and_padding():
    model = TemplateResNet2D(**TINY_2D)
    assert model.templates.shape == (3, 1, 10)
    # random-walk init is z-normalised per template
    torch.testing.assert_close(model.templates.mean(dim=-1), torch.zeros(3, 1), atol=1e-5, rtol=0)
    x = torch.randn(4, 1, 25)
    assert model(x).shape == (4, 4)
    lengths = torch.tensor([25, 25, 12, 3])
    _warm_up_batch_norm(model, x)
    with torch.no_grad():
        reference = model(x, lengths)
        changed = x.clone()
        changed[2, :, 12:] = 9.0
        changed[3, :, 3:] = 9.0
        torch.testing.assert_close(model(changed, lengths), reference)
    multichannel = TemplateResNet2D(in_channels=3, **TINY_2D)
    assert multichannel(torch.randn(2, 3, 8)).shape == (2, 4)


@pytest.mark.parametrize("trunk_kind", ["resnet2d", "template_resnet2d"])
def test_resnet2d_training_statistics_ignore_padding(trunk_kind):
    if trunk_kind == "resnet2d":
        # two blocks: the cut series' map stays above one cell (torch's own BN rejects 1x1 in training)
        model = ResNet2D(in_channels=2, width=4, n_blocks=2).train()
        x = torch.rand(1, 2, 19, 6)
    else:
        model = TemplateResNet2D(**{**TINY_2D, "n_blocks": 2}).train()
        x = torch.randn(1, 1, 19)
    with torch.no_grad():
        padded = model(x, torch.tensor([7]))
        cut = model(x[:, :, :7])
        torch.testing.assert_close(padded, cut)


# -- multitask heads ---------------------------------------------------------------------------------
# -- Siamese distance learners ------------------------------------------------------------------------
def test_siamese_resnet1d_pair_of_unequal_lengths():
    model = SiameseResNet1D(widths=(4, 8, 8), embedding_dim=6)
    a, b = torch.randn(3, 20), torch.randn(3, 13)
    distance = model(a, b)
    assert distance.shape == (3,)
    assert (distance >= 0).all()
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(a, b), model(b, a))  # a distance is symmetric
        torch.testing.assert_close(model(a, a), torch.zeros(3))


def test_siamese_resnet2d_pair_of_unequal_lengths():
    model = SiameseResNet2D(width=4, n_blocks=8)
    assert model.resnet.in_channels == 1
    a, b = torch.randn(3, 20, requires_grad=True), torch.randn(3, 13)
    out = model(a, b)
    assert out.shape == (3,)
    out.sum().backward()
    assert torch.isfinite(a.grad).all()
