"""ResNet2D: the 2D-convolution model of Yeh et al. (ResNet2D paper, Sec. III-B, Fig. 3).

A series is turned into a pairwise distance tensor -- against a second series (distance
learning, Fig. 3c, see :mod:`tsmtl.models.siamese`) or against ``k`` learnable templates
(multitask classification, Fig. 3d, :class:`TemplateResNet2D`) -- and a stack of 2D residual
blocks learns a "recursion" over it, the way DTW's dynamic programme (Algorithm 1) recurses
over the pairwise distance matrix.

Tensor layout: a distance tensor is ``(B, k, n, m)``: batch, templates (the channels of the
2D convolutions), series time ``n`` (height) and template time ``m`` (width). The paper writes
it ``n x m x k``.

Choices the text leaves open (the figures are not available)
------------------------------------------------------------
* Block (Fig. 3a): the basic block of He et al. (2016): 3x3 conv-BN-ReLU, 3x3 conv-BN, plus the
  skip (identity, or 1x1 conv + BN when the width changes, as in ResNet1D), then ReLU.
* After every block a 3x3 convolution with stride 2 and padding 1 halves height and width
  (``size -> ceil(size / 2)``; a size-1 axis stays 1, so short series survive all 8 halvings);
  it is followed by BN + ReLU like every other convolution here.
* Widths: constant by default (``width`` channels in all ``n_blocks`` blocks, 64 = ``k``
  so the first block's skip is the identity). The cost is dominated by the first,
  full-resolution block, so a constant width is the cheapest schedule that keeps ``k`` channels
  there; pass ``widths`` (one per block, e.g. doubling up to a cap) to use another schedule.
* Padding: with ``lengths`` given, the rows ``i >= length`` of the input distance tensor are
  zeroed and every activation that feeds a convolution is masked the same way (the valid
  height halves with the feature map: ``ceil(length / 2)``), and the final global average
  pooling is a masked mean; batch normalisation takes its training statistics over the valid
  cells only (:class:`~tsmtl.models.masked_norm.MaskedBatchNorm2d`). A padded series thus gives
  the same features as the series cut to its true length, in evaluation and in training mode.
  ``col_lengths`` does the same along the width axis (used by the Siamese model when its
  second series is padded). Full-length batches take the unmasked (fused) path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from tsmtl.models.masked_norm import MaskedBatchNorm2d, masked_skip
from tsmtl.models.resnet1d import FeatureMap, full_length_as_none, masked_mean, time_mask

#: bytes per float32 element, used by :func:`distance_tensor_bytes`.
FLOAT32_BYTES = 4


def _as_channels(series: torch.Tensor, name: str) -> torch.Tensor:
    """``(B, n)`` -> ``(B, 1, n)``; ``(B, C, n)`` unchanged; anything else raises."""
    if series.dim() == 2:
        return series.unsqueeze(1)
    if series.dim() == 3:
        return series
    raise ValueError(f"{name} must be (B, n) or (B, C, n), got shape {tuple(series.shape)}")


def distance_tensor_bytes(batch: int, n_templates: int, n: int, m: int, bytes_per_element: int = FLOAT32_BYTES) -> int:
    """Memory of one ``(batch, n_templates, n, m)`` distance tensor: ``batch * k * n * m * 4`` bytes in float32."""
    return batch * n_templates * n * m * bytes_per_element


def pairwise_distance_tensor(series: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between every point of every series and every point of every template.

    ``out[b, j, i, l] = || series[b, :, i] - templates[j, :, l] ||_2`` -- for univariate data
    ``|x_i - t_l|``, for ``C`` channels the square root of the sum over channels of the squared
    differences. Computed by broadcasting (univariate) or ``torch.cdist`` (multichannel, exact
    mode), never with Python loops. (ResNet2D paper, Sec. III-B, Fig. 3d.)

    Memory: the result holds ``B * k * n * m`` elements, i.e. ``B * k * n * m * 4`` bytes in
    float32 (see :func:`distance_tensor_bytes`); with the paper's batch 40, ``k = 64`` templates
    of length ``m = 512`` and a series of length ``n = 750`` that is 3.9 GB for the input tensor
    alone, before any activation of the first 2D block -- which is why quick runs use small
    ``k`` and ``m``.

    Parameters
    ----------
    series : Tensor, shape (B, n) or (B, C, n)
    templates : Tensor, shape (k, m) or (k, C, m)

    Returns
    -------
    Tensor, shape (B, k, n, m)
    """
    series = _as_channels(series, "series")
    if templates.dim() == 2:
        templates = templates.unsqueeze(1)
    if templates.dim() != 3:
        raise ValueError(f"templates must be (k, m) or (k, C, m), got shape {tuple(templates.shape)}")
    if series.shape[1] != templates.shape[1]:
        raise ValueError(f"series has {series.shape[1]} channels but templates have {templates.shape[1]}")
    if series.shape[1] == 1:
        # (B, 1, n, 1) - (1, k, 1, m) -> (B, k, n, m); |.| == sqrt(.^2) for one channel.
        return (series[:, :, :, None] - templates[None, :, 0, None, :]).abs()
    # cdist on (B, 1, n, C) x (1, k, m, C) broadcasts the batch dims to (B, k, n, m).
    return torch.cdist(
        series.transpose(1, 2).unsqueeze(1),
        templates.transpose(1, 2).unsqueeze(0),
        compute_mode="donot_use_mm_for_euclid_dist",
    )


def pairwise_distance_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise distance matrix of each pair ``(a[i], b[i])`` (Fig. 3c), as a 1-channel image.

    Parameters
    ----------
    a : Tensor, shape (B, n) or (B, C, n)
    b : Tensor, shape (B, m) or (B, C, m)

    Returns
    -------
    Tensor, shape (B, 1, n, m)
        ``out[p, 0, i, j] = || a[p, :, i] - b[p, :, j] ||_2``.
    """
    a = _as_channels(a, "a")
    b = _as_channels(b, "b")
    if a.shape[0] != b.shape[0] or a.shape[1] != b.shape[1]:
        raise ValueError(f"a {tuple(a.shape)} and b {tuple(b.shape)} must share batch size and channels")
    if a.shape[1] == 1:
        return (a[:, 0, :, None] - b[:, 0, None, :]).abs().unsqueeze(1)
    return torch.cdist(a.transpose(1, 2), b.transpose(1, 2), compute_mode="donot_use_mm_for_euclid_dist").unsqueeze(1)


def grid_mask(
    row_lengths: torch.Tensor | None,
    col_lengths: torch.Tensor | None,
    height: int,
    width: int,
    device: torch.device,
) -> torch.Tensor | None:
    """Boolean mask ``(B, 1, height, width)``: True where ``i < row_lengths[b]`` and ``j < col_lengths[b]``."""
    if row_lengths is None and col_lengths is None:
        return None
    mask = None
    if row_lengths is not None:
        rows = torch.arange(height, device=device)[None, :] < torch.as_tensor(row_lengths, device=device)[:, None]
        mask = rows[:, None, :, None].expand(-1, 1, height, width)
    if col_lengths is not None:
        cols = torch.arange(width, device=device)[None, :] < torch.as_tensor(col_lengths, device=device)[:, None]
        cols = cols[:, None, None, :]
        mask = cols.expand(-1, 1, height, width) if mask is None else mask & cols
    return mask


def _halve(lengths: torch.Tensor | None) -> torch.Tensor | None:
    """Valid size after a 3x3 stride-2 conv with padding 1: ``ceil(length / 2)``."""
    return None if lengths is None else torch.div(lengths + 1, 2, rounding_mode="floor")


class ResidualBlock2D(nn.Module):
    """ResNet2D building block (Fig. 3a): 3x3 conv-BN-ReLU, 3x3 conv-BN, + skip, ReLU.

    The skip is the identity when ``in_channels == out_channels``, else 1x1 conv + BN.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = MaskedBatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = MaskedBatchNorm2d(out_channels)
        if in_channels == out_channels:
            self.skip: nn.Module = nn.Identity()
        else:
            # A Sequential (state-dict keys ``skip.0``/``skip.1``), applied by hand to pass the mask.
            self.skip = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), MaskedBatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C_in, H, W), masked positions zero -> (B, C_out, H, W), masked positions zero."""
        h = torch.relu(self.bn1(self.conv1(x), mask))
        if mask is not None:
            h = h * mask
        out = torch.relu(self.bn2(self.conv2(h), mask) + masked_skip(self.skip, x, mask))
        return out if mask is None else out * mask


class ResNet2D(nn.Module):
    """The ResNet2D trunk (Fig. 3b): ``n_blocks`` residual blocks, each followed by a stride-2
    3x3 convolution that halves height and width, then global average pooling.

    Parameters
    ----------
    in_channels : int
        Channels of the input image: ``k`` templates (Fig. 3d) or 1 (Siamese, Fig. 3c).
    width : int
        Channels of every block when ``widths`` is None (constant schedule, the default).
    n_blocks : int
        Number of blocks (8 in the paper).
    widths : sequence of int, optional
        Explicit output width of each block (its length replaces ``n_blocks``).

    Attributes
    ----------
    out_features : int
        Size of the feature vector (the last block's width).
    """

    def __init__(
        self,
        in_channels: int,
        width: int = 64,
        n_blocks: int = 8,
        widths: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths) if widths is not None else (int(width),) * int(n_blocks)
        if not widths:
            raise ValueError("ResNet2D needs at least one block")
        blocks, downsamples = [], []
        width_in = in_channels
        for w in widths:
            blocks.append(ResidualBlock2D(width_in, w))
            # conv, BN, ReLU as a Sequential (keys ``downsamples.i.0``/``.1``), applied by hand.
            downsamples.append(
                nn.Sequential(nn.Conv2d(w, w, 3, stride=2, padding=1, bias=False), MaskedBatchNorm2d(w), nn.ReLU())
            )
            width_in = w
        self.blocks = nn.ModuleList(blocks)
        self.downsamples = nn.ModuleList(downsamples)
        self.in_channels = int(in_channels)
        self.widths = widths
        self.out_features = widths[-1]

    @staticmethod
    def output_size(size: int, n_blocks: int) -> int:
        """Spatial size after ``n_blocks`` halvings: ``ceil`` applied ``n_blocks`` times (>= 1)."""
        for _ in range(n_blocks):
            size = math.ceil(size / 2)
        return size

    def feature_maps(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        col_lengths: torch.Tensor | None = None,
    ) -> list[FeatureMap]:
        """The output of every block after its stride-2 downsampling, ``(B, widths[i], n_i, m_i)``.

        Parameters
        ----------
        x : Tensor, shape (B, in_channels, n, m)
        lengths : Tensor, int, shape (B,), optional
            Valid rows (series steps); rows ``i >= lengths[b]`` are zeroed and ignored.
        col_lengths : Tensor, int, shape (B,), optional
            Valid columns, likewise.

        Returns
        -------
        list of FeatureMap
            ``n_i = ceil(n / 2**(i+1))`` (likewise ``m_i``); masked cells zero.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResNet2D expects (B, {self.in_channels}, n, m), got {tuple(x.shape)}")
        lengths = full_length_as_none(lengths, x.shape[2])
        col_lengths = full_length_as_none(col_lengths, x.shape[3])
        mask = grid_mask(lengths, col_lengths, x.shape[2], x.shape[3], x.device)
        h = x if mask is None else torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))
        maps = []
        for block, downsample in zip(self.blocks, self.downsamples, strict=True):
            h = block(h, mask)
            conv, norm, relu = downsample
            h = conv(h)
            lengths, col_lengths = _halve(lengths), _halve(col_lengths)
            mask = grid_mask(lengths, col_lengths, h.shape[2], h.shape[3], h.device)
            h = relu(norm(h, mask))
            if mask is not None:
                h = h * mask
            maps.append(FeatureMap(h, mask))
        return maps

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        col_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Feature vectors of a batch of distance tensors: masked global average pooling.

        Parameters as :meth:`feature_maps`.

        Returns
        -------
        Tensor, shape (B, out_features)
        """
        last = self.feature_maps(x, lengths, col_lengths)[-1]
        return masked_mean(last.values, last.mask, dims=(2, 3))


def init_templates(n_templates: int, n_channels: int, length: int, kind: str = "random_walk") -> torch.Tensor:
    """Initial templates ``(n_templates, n_channels, length)``, drawn from torch's global RNG.

    ``"random_walk"`` (default): cumulative sums of N(0, 1) steps, z-normalised per template
    and channel -- the same scale as z-normalised input series, and smooth like real series
    (the paper's synthetic data are random walks too). ``"normal"``: i.i.d. N(0, 1).
    """
    if kind == "normal":
        return torch.randn(n_templates, n_channels, length)
    if kind == "random_walk":
        walk = torch.randn(n_templates, n_channels, length).cumsum(dim=-1)
        walk = walk - walk.mean(dim=-1, keepdim=True)
        std = walk.std(dim=-1, keepdim=True) if length > 1 else torch.ones_like(walk)
        return walk / std.clamp_min(1e-8)
    raise ValueError(f"unknown template init {kind!r}; use 'random_walk' or 'normal'")


class TemplateResNet2D(nn.Module):
    """The MTL trunk of Fig. 3d: learnable templates -> pairwise distance tensor -> ResNet2D.

    Parameters
    ----------
    n_templates : int
        ``k`` (64 in the paper); the channels of the distance tensor.
    template_length : int
        ``m`` (512 in the paper).
    in_channels : int
        Channels of the input series (templates have the same).
    width, n_blocks, widths
        Passed to :class:`ResNet2D`.
    template_init : {"random_walk", "normal"}
        See :func:`init_templates`.

    Attributes
    ----------
    templates : nn.Parameter, shape (k, C, m)
        Shared by all tasks.
    out_features : int
    """

    def __init__(
        self,
        n_templates: int = 64,
        template_length: int = 512,
        in_channels: int = 1,
        width: int = 64,
        n_blocks: int = 8,
        widths: Sequence[int] | None = None,
        template_init: str = "random_walk",
    ) -> None:
        super().__init__()
        self.templates = nn.Parameter(init_templates(n_templates, in_channels, template_length, template_init))
        self.resnet = ResNet2D(in_channels=n_templates, width=width, n_blocks=n_blocks, widths=widths)
        self.in_channels = int(in_channels)
        self.out_features = self.resnet.out_features

    def _distances(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """``(B, k, n, m)`` distances to the templates, the padded steps of ``x`` zeroed first.

        Zeroing before the distances (not only the distance rows after) keeps non-finite
        padding (NaN) out of the templates' gradient: ``0 * NaN`` would be NaN.
        """
        x = _as_channels(x, "x")
        lengths = full_length_as_none(lengths, x.shape[-1])
        if lengths is not None:
            mask = time_mask(lengths, x.shape[-1], x.device)
            x = torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))
        return pairwise_distance_tensor(x, self.templates)

    def feature_maps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> list[FeatureMap]:
        """Block outputs of the ResNet2D over the series' distance tensor to the templates.

        ``x`` (B, C, n) or (B, n), ``lengths`` (B,) or None -> ``(B, width_i, n_i, m_i)`` per
        block (see :meth:`ResNet2D.feature_maps`).
        """
        return self.resnet.feature_maps(self._distances(x, lengths), lengths=lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C, n) or (B, n), ``lengths`` (B,) or None -> features (B, out_features).

        The rows of the distance tensor beyond each series' length are zeroed (and masked
        through the network, see the module docstring).
        """
        return self.resnet(self._distances(x, lengths), lengths=lengths)
