"""InceptionTime in torch: the Inception network of Ismail Fawaz et al. (2020).

Ismail Fawaz, Lucas, Forestier, Pelletier, Schmidt, Weber, Webb, Idoumghar, Muller and
Petitjean, "InceptionTime: Finding AlexNet for time series classification", Data Mining and
Knowledge Discovery 34 (2020). The ForeClassNet paper (Sec. 4) compares with "an inception
network" from sktime, whose network follows the authors' Keras code; this module follows the
same code (aeon's own version needs TensorFlow, which this project does not install).

Architecture
------------
``depth`` Inception modules (6), each:

1. a bottleneck: a 1x1 convolution to ``bottleneck`` channels (32) -- used only when the
   module's input has more than one channel, as in the reference code (a 1x1 convolution of a
   univariate series would only rescale it);
2. three parallel convolutions of the bottleneck output with ``kernel_sizes`` (40, 20, 10),
   ``n_filters`` (32) each, stride 1, "same" padding;
3. a max-pool of the *module input* (size 3, stride 1, "same") followed by a 1x1 convolution to
   ``n_filters``;
4. the four branches concatenated (``4 * n_filters`` channels), batch normalisation, ReLU.

Every third module closes a residual block: the block's input, through a 1x1 convolution and
batch normalisation, is added to the third module's output, then ReLU. Modules left over when
``depth`` is not a multiple of 3 form a last group without a shortcut (the reference code's
``d % 3 == 2`` rule). A global average pooling over time gives ``4 * n_filters`` features.
Convolutions have no bias (batch normalisation follows each of them), as in the reference code.

Kernel sizes: the paper's filters have lengths 10, 20 and 40. The reference code (and sktime,
whose default is ``kernel_size=41``) stores ``41 - 1 = 40`` and halves it twice, so the sizes
are 40, 20 and 10, even. "Same"
padding of an even kernel ``k`` is asymmetric; as Keras (and torch's ``padding="same"``), the
left pad is ``(k - 1) // 2`` and the right pad the rest (19 and 20 for 40), written out with a
``ConstantPad1d`` as :class:`~tsmtl.models.resnet1d.ResNet1D` does. Pass odd sizes (41, 21, 11)
for symmetric windows.

This is one network. The paper's "InceptionTime" is an ensemble of five such networks
(different random initialisations, averaged probabilities); train several seeds for that.

Padding of unequal-length series
--------------------------------
As in :mod:`tsmtl.models.resnet1d`: the input is zeroed at padded steps with ``torch.where``
(padding may hold NaN); every activation that feeds a convolution is zero at padded steps (the
bottleneck output is a bias-free 1x1 convolution of such an input, hence zero there too), so
the padded tail looks exactly like the zero "same" padding the convolutions of the cut series
see beyond its end; batch-norm statistics are over the valid steps only
(:class:`~tsmtl.models.masked_norm.MaskedBatchNorm1d`); the pooling over time is a masked mean.
The max-pool branch is the one place where zero is not neutral: the cut series' pool ignores
positions beyond its end (the implicit ``-inf`` padding of a max-pool), so padded steps are set
to ``-inf`` before the pool (:func:`masked_max_pool1d`) and its output is zeroed there after.
A padded series therefore gives the output of the series cut to its true length.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.models.masked_norm import MaskedBatchNorm1d, masked_skip
from tsmtl.models.resnet1d import FeatureMap, full_length_as_none, masked_mean, time_mask

#: Modules per residual block (the reference code's shortcut after modules 3, 6, ...).
MODULES_PER_BLOCK = 3


def same_padding(kernel_size: int) -> tuple[int, int]:
    """``(left, right)`` zero padding for a stride-1 "same" convolution (Keras/torch convention).

    ``left = (k - 1) // 2`` and ``right = k - 1 - left``: 19 and 20 for ``k = 40``.
    """
    left = (kernel_size - 1) // 2
    return left, kernel_size - 1 - left


def masked_max_pool1d(
    x: torch.Tensor, mask: torch.Tensor | None, kernel_size: int = 3
) -> torch.Tensor:
    """Max-pool over time, stride 1, "same" padding, taken over the valid steps only.

    Parameters
    ----------
    x : Tensor, shape (B, C, T)
        Values at padded steps are ignored (they may hold anything, NaN included).
    mask : Tensor, bool, shape (B, 1, T), optional
        Valid steps; None: all valid.
    kernel_size : int
        Odd window size (3 in InceptionTime).

    Returns
    -------
    Tensor, shape (B, C, T)
        ``out[b, c, t] = max x[b, c, s]`` over valid ``s`` with ``|s - t| <= kernel_size // 2``;
        zero at padded steps. Beyond the ends of the series the window simply holds fewer
        steps (Keras' and torch's max-pool padding never wins the max), so a padded series
        gives the same values as the series cut to its true length.
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"masked_max_pool1d needs an odd kernel_size, got {kernel_size}")
    half = kernel_size // 2
    if mask is None:
        return F.max_pool1d(x, kernel_size, stride=1, padding=half)
    lowest = torch.full((), float("-inf"), dtype=x.dtype, device=x.device)
    pooled = F.max_pool1d(torch.where(mask, x, lowest), kernel_size, stride=1, padding=half)
    return torch.where(mask, pooled, torch.zeros((), dtype=x.dtype, device=x.device))


class InceptionModule(nn.Module):
    """One Inception module (InceptionTime Fig. 2): bottleneck, parallel convolutions, max-pool.

    Parameters
    ----------
    in_channels : int
        Channels of the module input.
    n_filters : int
        Filters of every branch; the output has ``(len(kernel_sizes) + 1) * n_filters``.
    kernel_sizes : sequence of int
        One convolution branch per size (stride 1, "same" padding).
    bottleneck : int or None
        Channels of the 1x1 bottleneck; used only when ``in_channels > 1`` (reference code).
        None or 0: no bottleneck.
    """

    def __init__(
        self, in_channels: int, n_filters: int, kernel_sizes: Sequence[int], bottleneck: int | None
    ) -> None:
        super().__init__()
        self.bottleneck: nn.Module | None = None
        width = in_channels
        if bottleneck and in_channels > 1:
            self.bottleneck = nn.Conv1d(in_channels, bottleneck, 1, bias=False)
            width = bottleneck
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.ConstantPad1d(same_padding(k), 0.0), nn.Conv1d(width, n_filters, k, bias=False)
            )
            for k in kernel_sizes
        )
        self.pool_conv = nn.Conv1d(in_channels, n_filters, 1, bias=False)
        self.out_channels = (len(kernel_sizes) + 1) * n_filters
        self.norm = MaskedBatchNorm1d(self.out_channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C_in, T), zero at padded steps -> (B, out_channels, T), zero there too.

        The branches are concatenated in the order convolutions (``kernel_sizes`` order), then
        max-pool.
        """
        # Bias-free 1x1 convolution of an input that is zero at padded steps: zero there too.
        z = x if self.bottleneck is None else self.bottleneck(x)
        branches = [conv(z) for conv in self.convs]
        branches.append(self.pool_conv(masked_max_pool1d(x, mask, 3)))
        h = torch.relu(self.norm(torch.cat(branches, dim=1), mask))
        return h if mask is None else h * mask


class InceptionBlock(nn.Module):
    """Up to three Inception modules, with a residual shortcut (1x1 conv + BN) when ``residual``.

    Parameters
    ----------
    in_channels : int
    n_modules : int
        Modules in the block (3, or fewer for the last group of a ``depth`` not divisible by 3).
    n_filters, kernel_sizes, bottleneck
        As in :class:`InceptionModule`.
    residual : bool
        Add the shortcut (the reference code does only after full blocks of 3 modules).
    """

    def __init__(
        self,
        in_channels: int,
        n_modules: int,
        n_filters: int,
        kernel_sizes: Sequence[int],
        bottleneck: int | None,
        residual: bool,
    ) -> None:
        super().__init__()
        modules = []
        width = in_channels
        for _ in range(n_modules):
            modules.append(InceptionModule(width, n_filters, kernel_sizes, bottleneck))
            width = modules[-1].out_channels
        self.inceptions = nn.ModuleList(modules)
        self.out_channels = width
        # A Sequential (keys ``shortcut.0``/``shortcut.1``) applied by hand to pass the mask.
        self.shortcut: nn.Sequential | None = None
        if residual:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, width, 1, bias=False), MaskedBatchNorm1d(width)
            )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C_in, T), zero at padded steps -> (B, out_channels, T), zero there too."""
        h = x
        for module in self.inceptions:
            h = module(h, mask)
        if self.shortcut is None:
            return h
        out = torch.relu(h + masked_skip(self.shortcut, x, mask))
        return out if mask is None else out * mask


class InceptionTime(nn.Module):
    """The Inception network of InceptionTime (Ismail Fawaz et al. 2020) as a backbone.

    See the module docstring for the architecture and the masking of padded steps.

    Parameters
    ----------
    in_channels : int
        Channels of the input series.
    n_filters : int
        Filters per branch (32 in the paper); every module outputs ``4 * n_filters``.
    depth : int
        Number of Inception modules (6 in the paper).
    kernel_sizes : sequence of int
        Sizes of the parallel convolutions, ``(40, 20, 10)`` (reference code; see the module
        docstring on 41/21/11).
    bottleneck : int or None
        Bottleneck channels (32); None or 0 disables the bottleneck.
    residual : bool
        Residual shortcut every 3 modules (True in the paper).

    Attributes
    ----------
    out_features : int
        ``(len(kernel_sizes) + 1) * n_filters``, 128 with the defaults.
    blocks : nn.ModuleList of InceptionBlock
        ``ceil(depth / 3)`` groups of 3 modules (the last may hold fewer, without a shortcut).
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_filters: int = 32,
        depth: int = 6,
        kernel_sizes: Sequence[int] = (40, 20, 10),
        bottleneck: int | None = 32,
        residual: bool = True,
    ) -> None:
        super().__init__()
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if not kernel_sizes or min(kernel_sizes) < 1:
            raise ValueError(f"InceptionTime needs positive kernel sizes, got {kernel_sizes}")
        if depth < 1 or n_filters < 1 or (bottleneck is not None and bottleneck < 0):
            raise ValueError(
                f"InceptionTime needs depth >= 1, n_filters >= 1 and bottleneck >= 0 or None, "
                f"got depth={depth}, n_filters={n_filters}, bottleneck={bottleneck}"
            )
        blocks = []
        width = int(in_channels)
        for start in range(0, depth, MODULES_PER_BLOCK):
            n_modules = min(MODULES_PER_BLOCK, depth - start)
            shortcut = residual and n_modules == MODULES_PER_BLOCK
            blocks.append(
                InceptionBlock(width, n_modules, n_filters, kernel_sizes, bottleneck, shortcut)
            )
            width = blocks[-1].out_channels
        self.blocks = nn.ModuleList(blocks)
        self.in_channels = int(in_channels)
        self.kernel_sizes = kernel_sizes
        self.out_features = int(width)

    def feature_maps(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> list[FeatureMap]:
        """The output of every residual block, ``(B, out_features, T)`` each, padded steps zero.

        One map per group of 3 Inception modules (after the shortcut sum when ``residual``) and
        one for a trailing group of ``depth % 3`` modules: 2 maps with the default depth 6. The
        granularity of ResNet1D's maps (one per residual block), for task attention.

        Parameters
        ----------
        x : Tensor, float, shape (B, C, T) or (B, T) when ``in_channels == 1``
        lengths : Tensor, int, shape (B,), optional
            True lengths; steps ``t >= lengths[b]`` are ignored. None: all ``T`` valid.
        """
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"InceptionTime expects (B, {self.in_channels}, T), got {tuple(x.shape)}"
            )
        mask = time_mask(full_length_as_none(lengths, x.shape[-1]), x.shape[-1], x.device)
        # torch.where, not a product: non-finite padding (NaN) must not leak in as NaN * 0.
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        h = x if mask is None else torch.where(mask, x, zero)
        maps = []
        for block in self.blocks:
            h = block(h, mask)
            maps.append(FeatureMap(h, mask))
        return maps

    def forward_steps(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-step features ``(B, out_features, T)``: the last block's output, padded steps 0."""
        return self.feature_maps(x, lengths)[-1].values

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Feature vectors: the global average pooling of the last module over the true steps.

        Parameters
        ----------
        x : Tensor, float, shape (B, C, T) or (B, T) when ``in_channels == 1``
        lengths : Tensor, int, shape (B,), optional

        Returns
        -------
        Tensor, shape (B, out_features)
        """
        last = self.feature_maps(x, lengths)[-1]
        return masked_mean(last.values, last.mask, dims=(2,))


__all__ = [
    "InceptionBlock",
    "InceptionModule",
    "InceptionTime",
    "masked_max_pool1d",
    "same_padding",
]
