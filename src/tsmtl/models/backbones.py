"""The backbone registry: every trunk a multitask model can share, under one protocol.

A backbone turns a batch of (possibly padded) series into features. Adding one is one class
and one line in :data:`BACKBONES` (or :func:`register_backbone` from your own code), then its
name in YAML (``backbone: fcn``); ``tests/models/test_backbones.py`` runs the contract below
over every registered backbone.

The protocol
------------
``Backbone(in_channels: int, **params)`` -- the input's channel count plus the backbone's own
keyword arguments (from YAML), and:

* ``out_features: int`` -- the size ``D`` of the feature vector;
* ``forward(x, lengths) -> (B, D)`` with ``x`` ``(B, C, T)`` float (padding may hold anything,
  also NaN) and ``lengths`` ``(B,)`` int64 true lengths or None (all ``T`` valid). Steps
  ``t >= lengths[b]`` must not influence the output: a padded series gives the features of
  the series cut to its true length.

Optional, used when present:

* ``forward_steps(x, lengths) -> (B, D, T)`` -- per-step features for sequence outputs
  (padded steps zero);
* ``feature_maps(x, lengths) -> list[FeatureMap]`` -- every stage's output with its mask, for
  task attention (MTAN) over the shared feature maps (:mod:`tsmtl.models.sharing`).

Registered here: ``resnet1d`` (ResNet2D paper Fig. 2b; Wang et al. 2017), ``resnet2d`` (the
template ResNet2D of Fig. 3d), ``fcn`` (the fully convolutional network of Wang et al.
2017, the other strong baseline of that paper) and ``inception`` (the Inception network of
InceptionTime, Ismail Fawaz et al. 2020; a baseline of the ForeClassNet paper, Sec. 4;
:mod:`tsmtl.models.inception`), ``trep`` and ``ts2vec`` (the self-supervised encoders of T-Rep
and TS2Vec, :mod:`tsmtl.models.trep`; a pretrained one can be loaded into the trunk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from tsmtl.models.inception import InceptionTime
from tsmtl.models.masked_norm import MaskedBatchNorm1d
from tsmtl.models.resnet1d import FeatureMap, ResNet1D, full_length_as_none, masked_mean, time_mask
from tsmtl.models.resnet2d import TemplateResNet2D
from tsmtl.models.trep import TRepEncoder, TS2VecEncoder


class FCN(nn.Module):
    """Fully convolutional network (Wang, Yan & Oates 2017, Fig. 1b): three conv-BN-ReLU blocks, GAP.

    Convolutions of widths ``(128, 256, 128)`` and kernels ``(8, 5, 3)``, stride 1, "same"
    padding; masked like :class:`~tsmtl.models.resnet1d.ResNet1D` (padded steps are zero before
    every convolution, batch-norm statistics and the pooling see only the true steps).

    Parameters
    ----------
    in_channels : int
    widths : sequence of int
    kernel_sizes : sequence of int
        One per width.
    """

    def __init__(self, in_channels: int = 1, widths: Sequence[int] = (128, 256, 128), kernel_sizes: Sequence[int] = (8, 5, 3)) -> None:
        super().__init__()
        if not widths or len(widths) != len(kernel_sizes):
            raise ValueError(f"FCN needs one kernel size per width, got widths={widths}, kernel_sizes={kernel_sizes}")
        convs, norms = [], []
        width_in = in_channels
        for width, kernel_size in zip(widths, kernel_sizes, strict=True):
            left = (kernel_size - 1) // 2
            convs.append(nn.Sequential(nn.ConstantPad1d((left, kernel_size - 1 - left), 0.0), nn.Conv1d(width_in, width, kernel_size)))
            norms.append(MaskedBatchNorm1d(width))
            width_in = width
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(norms)
        self.in_channels = int(in_channels)
        self.out_features = int(widths[-1])

    def feature_maps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> list[FeatureMap]:
        """``x`` (B, C, T), ``lengths`` (B,) -> the output of every block, ``(B, widths[i], T)``."""
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"FCN expects (B, {self.in_channels}, T), got {tuple(x.shape)}")
        mask = time_mask(full_length_as_none(lengths, x.shape[-1]), x.shape[-1], x.device)
        h = x if mask is None else torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))
        maps = []
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = torch.relu(norm(conv(h), mask))
            if mask is not None:
                h = h * mask
            maps.append(FeatureMap(h, mask))
        return maps

    def forward_steps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step features ``(B, widths[-1], T)``."""
        return self.feature_maps(x, lengths)[-1].values

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C, T), ``lengths`` (B,) -> ``(B, widths[-1])``, the masked mean over time."""
        last = self.feature_maps(x, lengths)[-1]
        return masked_mean(last.values, last.mask, dims=(2,))


#: Registered backbones: name -> class (constructed as ``cls(in_channels=C, **params)``).
BACKBONES: dict[str, type[nn.Module]] = {
    "resnet1d": ResNet1D,
    "resnet2d": TemplateResNet2D,
    "fcn": FCN,
    "inception": InceptionTime,
    "trep": TRepEncoder,
    "ts2vec": TS2VecEncoder,
}


def register_backbone(name: str, cls: type[nn.Module]) -> type[nn.Module]:
    """Add ``cls`` under ``name`` (for backbones defined outside the library); returns ``cls``."""
    if name in BACKBONES and BACKBONES[name] is not cls:
        raise ValueError(f"backbone {name!r} is already registered ({BACKBONES[name].__name__})")
    BACKBONES[name] = cls
    return cls


def build_backbone(name: str, in_channels: int, params: Mapping[str, Any] | None = None) -> nn.Module:
    """The backbone ``name`` for ``in_channels``-channel input, with its keyword ``params``.

    Raises
    ------
    ValueError
        Unknown name (the message lists the registered ones) or parameters the backbone does
        not take.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; registered: {sorted(BACKBONES)}")
    try:
        backbone = BACKBONES[name](in_channels=int(in_channels), **dict(params or {}))
    except TypeError as error:
        raise ValueError(f"backbone {name!r} does not take the parameters {dict(params or {})}: {error}") from error
    if not isinstance(getattr(backbone, "out_features", None), int):
        raise TypeError(f"backbone {name!r} has no integer out_features")
    return backbone


def has_feature_maps(backbone: nn.Module) -> bool:
    """Whether ``backbone`` exposes ``feature_maps`` (needed by task attention)."""
    return callable(getattr(backbone, "feature_maps", None))


__all__ = ["BACKBONES", "FCN", "FeatureMap", "build_backbone", "has_feature_maps", "register_backbone"]
