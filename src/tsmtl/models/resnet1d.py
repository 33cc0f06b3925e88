"""ResNet1D: the 1D-convolution baseline of Yeh et al. (ResNet2D paper, Sec. III-A, Fig. 2a/2b).

The architecture is the residual network of Wang, Yan and Oates (2017), "Time series
classification from scratch with deep neural networks: a strong baseline": three residual
blocks (``1 -> 64``, ``64 -> 128``, ``128 -> 128``), each made of three 1D convolutions with
kernel sizes 8, 5 and 3 (stride 1, "same" padding), each followed by batch normalisation;
ReLU after the first two and after the residual sum. The skip connection is the identity when
the block keeps its width and a 1x1 convolution + batch normalisation when it changes it. A
global average pooling over time gives the 128-d feature vector.

Padding of unequal-length series
--------------------------------
``forward`` takes the true ``lengths`` of the series. Every activation that feeds a convolution
is multiplied by the time mask (``t < length``), so the padded tail acts exactly like the zero
"same" padding a convolution sees at the end of an unpadded series, and the global average
pooling is a masked mean over the ``length`` valid steps. Batch normalisation computes its
training statistics over the valid steps only (:class:`~tsmtl.models.masked_norm.MaskedBatchNorm1d`).
The output for a padded series is therefore the output for the series cut to its true length,
in evaluation mode and in training mode alike (both tested). A batch whose series all have the
full length takes the unmasked path (torch's fused batch norm, no mask products).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from tsmtl.models.masked_norm import MaskedBatchNorm1d, masked_skip


class FeatureMap(NamedTuple):
    """One stage's output of a backbone, with its validity mask.

    ``values`` is ``(B, C, T)`` (1D trunks) or ``(B, C, H, W)`` (2D trunks), zero at masked
    positions; ``mask`` is boolean ``(B, 1, T)`` / ``(B, 1, H, W)``, or None when every position
    is valid (a full-length batch).
    """

    values: torch.Tensor
    mask: torch.Tensor | None


def time_mask(lengths: torch.Tensor | None, n_timepoints: int, device: torch.device) -> torch.Tensor | None:
    """Boolean mask ``(B, 1, T)``: True where ``t < lengths[b]`` (None when ``lengths`` is None).

    Multiplying a float tensor by it keeps the float tensor's dtype (also under autocast).
    """
    if lengths is None:
        return None
    steps = torch.arange(n_timepoints, device=device)
    return (steps[None, :] < torch.as_tensor(lengths, device=device)[:, None]).unsqueeze(1)


def full_length_as_none(lengths: torch.Tensor | None, size: int) -> torch.Tensor | None:
    """``lengths``, or None when every length reaches ``size`` (nothing to mask: the fast path)."""
    if lengths is None or len(lengths) == 0 or int(torch.as_tensor(lengths).min()) < size:
        return lengths
    return None


def masked_mean(h: torch.Tensor, mask: torch.Tensor | None, dims: tuple[int, ...]) -> torch.Tensor:
    """Mean of ``h`` over ``dims``, counting only positions where ``mask`` is 1.

    ``mask`` (boolean or 0/1) broadcasts against ``h`` (size 1 on the channel axis). An
    all-False mask (a length-0 series) gives a zero vector instead of a division by zero.
    """
    if mask is None:
        return h.mean(dim=dims)
    mask = mask.to(h.dtype)
    total = (h * mask).sum(dim=dims)
    count = mask.expand_as(h).sum(dim=dims).clamp_min(1.0)
    return total / count


class ResidualBlock1D(nn.Module):
    """One ResNet1D building block (Fig. 2a): conv-BN-ReLU, conv-BN-ReLU, conv-BN, + skip, ReLU.

    Parameters
    ----------
    in_channels, out_channels : int
        Widths before and after the block.
    kernel_sizes : sequence of int
        Kernel size of each convolution, ``(8, 5, 3)`` in the paper; stride 1, "same" padding.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: Sequence[int] = (8, 5, 3)) -> None:
        super().__init__()
        convs, norms = [], []
        width_in = in_channels
        for kernel_size in kernel_sizes:
            # "same" padding written out (left (k-1)//2, right the rest, as torch's padding="same"),
            # which avoids torch's even-kernel warning and its extra copy per call.
            left = (kernel_size - 1) // 2
            convs.append(
                nn.Sequential(
                    nn.ConstantPad1d((left, kernel_size - 1 - left), 0.0),
                    nn.Conv1d(width_in, out_channels, kernel_size, stride=1),
                )
            )
            norms.append(MaskedBatchNorm1d(out_channels))
            width_in = out_channels
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(norms)
        if in_channels == out_channels:
            self.skip: nn.Module = nn.Identity()
        else:
            # A Sequential (state-dict keys ``skip.0``/``skip.1``), applied by hand to pass the mask.
            self.skip = nn.Sequential(nn.Conv1d(in_channels, out_channels, 1), MaskedBatchNorm1d(out_channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C_in, T) with padded steps already zero -> (B, C_out, T), padded steps zero."""
        h = x
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h = norm(conv(h), mask)
            if i < last:
                h = torch.relu(h)
                if mask is not None:
                    h = h * mask
        out = torch.relu(h + masked_skip(self.skip, x, mask))
        return out if mask is None else out * mask


class ResNet1D(nn.Module):
    """The ResNet1D trunk (Fig. 2b): residual blocks then global average pooling over time.

    Parameters
    ----------
    in_channels : int
        Channels of the input series (1 in the paper: univariate).
    widths : sequence of int
        Output width of each block; ``(64, 128, 128)`` gives the paper's 1->64, 64->128, 128->128.
    kernel_sizes : sequence of int
        Kernel sizes of the three convolutions inside every block.

    Attributes
    ----------
    out_features : int
        Size of the feature vector, ``widths[-1]``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        widths: Sequence[int] = (64, 128, 128),
        kernel_sizes: Sequence[int] = (8, 5, 3),
    ) -> None:
        super().__init__()
        if not widths:
            raise ValueError("ResNet1D needs at least one block (widths is empty)")
        blocks = []
        width_in = in_channels
        for width in widths:
            blocks.append(ResidualBlock1D(width_in, width, kernel_sizes))
            width_in = width
        self.blocks = nn.ModuleList(blocks)
        self.in_channels = in_channels
        self.out_features = int(widths[-1])

    def feature_maps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> list[FeatureMap]:
        """The output of every residual block, ``(B, widths[i], T)`` each, padded steps zero.

        Parameters
        ----------
        x : Tensor, float, shape (B, C, T) or (B, T) when ``in_channels == 1``
        lengths : Tensor, int, shape (B,), optional
            True lengths; steps ``t >= lengths[b]`` are ignored (masked). None: all ``T`` valid.
        """
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResNet1D expects (B, {self.in_channels}, T), got {tuple(x.shape)}")
        mask = time_mask(full_length_as_none(lengths, x.shape[-1]), x.shape[-1], x.device)
        # torch.where, not a product: non-finite padding (NaN) must not leak in as NaN * 0.
        h = x if mask is None else torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))
        maps = []
        for block in self.blocks:
            h = block(h, mask)
            maps.append(FeatureMap(h, mask))
        return maps

    def forward_steps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step features ``(B, widths[-1], T)`` (the last block's output; padded steps zero)."""
        return self.feature_maps(x, lengths)[-1].values

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Feature vectors of a batch of series: the masked mean over time of the last block.

        Parameters
        ----------
        x : Tensor, float, shape (B, C, T) or (B, T) when ``in_channels == 1``
        lengths : Tensor, int, shape (B,), optional
            True lengths; steps ``t >= lengths[b]`` are ignored (masked). None: all ``T`` valid.

        Returns
        -------
        Tensor, shape (B, widths[-1])
        """
        last = self.feature_maps(x, lengths)[-1]
        return masked_mean(last.values, last.mask, dims=(2,))
