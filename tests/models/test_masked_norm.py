"""MaskedBatchNorm1d/2d: statistics over valid positions only, plain batch norm otherwise."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsmtl.models.masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_masked_batch_norm_1d_matches_a_hand_computation_over_valid_steps():
    norm = MaskedBatchNorm1d(2, momentum=0.5)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([2.0, 1.0]))
        norm.bias.copy_(torch.tensor([0.0, 3.0]))
    x = torch.tensor([[[1.0, 2.0, 3.0, 99.0], [0.0, 4.0, 8.0, -99.0]], [[5.0, 77.0, 77.0, 77.0], [6.0, 7.0, 7.0, 7.0]]])
    mask = torch.tensor([[[True, True, True, False]], [[True, False, False, False]]])
    out = norm(x, mask)
    # channel 0 valid values 1, 2, 3, 5: mean 2.75, biased var 2.1875, unbiased 2.9167
    # channel 1 valid values 0, 4, 8, 6: mean 4.5,  biased var 8.75,   unbiased 11.6667
    mean = torch.tensor([2.75, 4.5])
    var = torch.tensor([2.1875, 8.75])
    expected = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + norm.eps)
    expected = expected * torch.tensor([2.0, 1.0])[None, :, None] + torch.tensor([0.0, 3.0])[None, :, None]
    valid = mask.expand_as(x)
    torch.testing.assert_close(out[valid], expected[valid])
    # running stats: 0.5 * initial + 0.5 * batch, with the unbiased variance
    torch.testing.assert_close(norm.running_mean, 0.5 * mean)
    torch.testing.assert_close(norm.running_var, 0.5 * torch.ones(2) + 0.5 * var * 4 / 3)
    assert int(norm.num_batches_tracked) == 1


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_full_mask_equals_torch_batch_norm(kind):
    shape = (4, 3, 7) if kind == "1d" else (4, 3, 5, 6)
    masked = MaskedBatchNorm1d(3) if kind == "1d" else MaskedBatchNorm2d(3)
    plain = nn.BatchNorm1d(3) if kind == "1d" else nn.BatchNorm2d(3)
    plain.load_state_dict(masked.state_dict())  # same keys as torch's batch norm
    x = torch.randn(shape) * 3 + 1
    mask = torch.ones((shape[0], 1, *shape[2:]), dtype=torch.bool)
    torch.testing.assert_close(masked(x, mask), plain(x))
    torch.testing.assert_close(masked.running_mean, plain.running_mean)
    torch.testing.assert_close(masked.running_var, plain.running_var)
    masked.eval()
    plain.eval()
    torch.testing.assert_close(masked(x, mask), plain(x))


def test_masked_batch_norm_2d_equals_batch_norm_of_the_valid_cells():
    norm = MaskedBatchNorm2d(2)
    x = torch.randn(3, 2, 6, 4)
    lengths = [6, 4, 1]
    mask = (torch.arange(6)[None, :] < torch.tensor(lengths)[:, None])[:, None, :, None].expand(3, 1, 6, 4)
    out = norm(x, mask)
    # the valid cells of all series, as one (N_valid, C) batch for torch's BatchNorm1d
    valid = torch.cat([x[b, :, :n, :].reshape(2, -1).T for b, n in enumerate(lengths)])
    reference = nn.BatchNorm1d(2)
    expected = reference(valid)
    got = torch.cat([out[b, :, :n, :].reshape(2, -1).T for b, n in enumerate(lengths)])
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(norm.running_var, reference.running_var)


@pytest.mark.parametrize("use_mask", [False, True])
def test_a_single_value_per_channel_uses_the_running_statistics(use_mask):
    """torch's BatchNorm raises on (1, C, 1, 1) in training; a one-case final batch can be that."""
    norm = MaskedBatchNorm2d(3)
    norm(torch.randn(8, 3, 2, 2))  # some running statistics
    running_mean, running_var = norm.running_mean.clone(), norm.running_var.clone()
    x = torch.randn(1, 3, 1, 1, requires_grad=True)
    mask = torch.ones(1, 1, 1, 1, dtype=torch.bool) if use_mask else None
    out = norm(x, mask)
    expected = (x - running_mean.view(1, 3, 1, 1)) / torch.sqrt(running_var.view(1, 3, 1, 1) + norm.eps)
    torch.testing.assert_close(out, expected)
    out.sum().backward()  # trains: the affine parameters get gradients
    assert norm.weight.grad is not None and x.grad is not None
    torch.testing.assert_close(norm.running_mean, running_mean)
    torch.testing.assert_close(norm.running_var, running_var)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1))
