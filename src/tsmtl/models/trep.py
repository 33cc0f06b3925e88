"""T-Rep (Fraikin, Bennetot & Allassonnière, ICLR 2024) and TS2Vec (Yue et al., AAAI 2022) as modules.

The pieces of T-Rep's Figure 1, each a small module or function (``B`` batch, ``T`` steps,
``C`` input channels, ``F`` representation size, ``K`` time-embedding size):

* **time-embeddings** (Sec. 4.1, App. A.6): :class:`Time2VecEmbedding` (``"t2v_sin"``; trend and
  periodicity, the paper's choice for forecasting and anomaly detection),
  :class:`MLPTimeEmbedding` (``"mlp"``; the choice for classification) and
  :class:`RBFTimeEmbedding` (``"rbf"``). Each maps time indices ``(B, T)`` to distributions
  ``(B, T, K)`` with :func:`time_distribution` (sigmoid, then division by the sum; Sec. 4.1);
* :class:`DilatedTCN` -- residual blocks of two kernel-3 dilated convolutions with GELU,
  dilation ``2**i`` (Sec. 4.1, "TCN Encoder"; TS2Vec Sec. 3.2);
* :class:`TRepEncoder` -- input projection -> timestamp masking -> concatenation with the
  time-embedding -> TCN (Figure 1, left). With ``time_embedding=None`` it is TS2Vec's encoder.
  It is also a backbone of :mod:`tsmtl.models.backbones` (``trep``, ``ts2vec``), so a
  (pretrained) encoder can be the shared trunk of a multitask model;
* the four pretext tasks (Sec. 4.2 and TS2Vec Sec. 3.3): :func:`instance_contrastive_loss`,
  :func:`temporal_contrastive_loss`, :func:`time_embedding_divergence_loss` (eq. 2, with
  :func:`jensen_shannon_divergence`) and :func:`time_conditioned_forecast_loss` (eq. 3), with
  their heads :class:`DivergenceHead` and :class:`ForecastHead`, combined by
  :func:`hierarchical_loss` (App. A.2: ``sum_i alpha_i * l_i`` at every max-pool scale).

Where this deliberately differs from the authors' code (``../shared/anchors/trep``), the
docstring says so; the differences follow the paper's text where the code departs from it. In
the pretext tasks, all in the pair sampling and the heads (the same loss terms, weights and
scales otherwise):

* eq. 2 pairs are ``M`` draws with ``t != t'`` (:class:`DivergencePairs`); the authors' are
  ``min(M, BT) / 2`` random pairs of distinct steps plus as many pairs of a step with itself
  (JSD 0), so fewer than ``M`` at the coarse scales;
* eq. 3 pairs draw both contexts ``c1, c2`` per pair as the equation writes them, the series
  per pair, ``|Delta| <= max_delta`` and ``t + Delta`` inside the window (:class:`ForecastPairs`);
  the authors take one context per series for input and target, the same ``(t, Delta)`` for
  every series, ``|Delta| <= 9``, and a negative ``t + Delta`` wraps to the end of the window;
* both heads end linearly with no dropout on their output (the authors': ReLU, then dropout
  0.1) and are trained; the forecast head's hidden width is ``head_hidden`` (128; the authors'
  64, their divergence head 128);
* max-pooled time-embeddings are renormalised before the JSD (:func:`hierarchical_loss`).

Speed (``benchmarks/trep_speed.py``): :meth:`TRepEncoder.encode_crop_pair` encodes only what the
loss reads, the TCN runs channels last (:meth:`DilatedTCN.forward_steps`), and the loss has one
product and one matrix per contrast with a one-product backward (:class:`_TwinContrast`; its
softmax flushes probabilities below the smallest normal float to 0), row gathers with one
accumulating backward (:class:`_RowGather`) and the heads' first layers applied to the table of
representations at the scales where it has fewer rows than there are pairs. Each is the same
arithmetic as the plain form up to rounding (``tests/training/test_trep_loss_parity.py`` checks
the loss and its gradients against loops).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: The pretext tasks and the paper's weights (App. A.2: alpha_i = 0.25 each).
TREP_TASK_WEIGHTS: dict[str, float] = {"instance": 0.25, "temporal": 0.25, "divergence": 0.25, "forecast": 0.25}
#: TS2Vec's hierarchical contrastive loss (alpha = 0.5): no time-embedding tasks.
TS2VEC_TASK_WEIGHTS: dict[str, float] = {"instance": 0.5, "temporal": 0.5, "divergence": 0.0, "forecast": 0.0}
PRETEXT_TASKS = tuple(TREP_TASK_WEIGHTS)


# ------------------------------------------------------------------------------ time-embeddings
def time_distribution(h: torch.Tensor) -> torch.Tensor:
    """``sigmoid(h) / sum_k sigmoid(h)_k`` over the last axis (T-Rep Sec. 4.1): positive, sums to 1."""
    s = torch.sigmoid(h)
    return s / s.sum(dim=-1, keepdim=True)


class Time2VecEmbedding(nn.Module):
    """Time2Vec with sine (Kazemi et al. 2019): ``[w0 t + b0, sin(w t + b)]``, then :func:`time_distribution`.

    ``t`` ``(...,)`` float time indices -> ``(..., K)``; one linear (trend) and ``K - 1``
    periodic components.
    """

    def __init__(self, dims: int = 64) -> None:
        super().__init__()
        if dims < 2:
            raise ValueError(f"Time2Vec needs at least 2 dimensions, got {dims}")
        self.linear = nn.Linear(1, 1)
        self.periodic = nn.Linear(1, dims - 1)
        nn.init.normal_(self.linear.weight)
        nn.init.normal_(self.periodic.weight)
        nn.init.normal_(self.periodic.bias)
        self.dims = int(dims)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        t = t.unsqueeze(-1)
        return time_distribution(torch.cat([self.linear(t), torch.sin(self.periodic(t))], dim=-1))


class MLPTimeEmbedding(nn.Module):
    """A fully learnable two-layer MLP with ReLU (App. A.6, the classification choice), then :func:`time_distribution`."""

    def __init__(self, dims: int = 64, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, dims))
        self.dims = int(dims)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return time_distribution(self.net(t.unsqueeze(-1)))


class RBFTimeEmbedding(nn.Module):
    """Radial basis features ``exp(-(t - mu_k)^2 / (2 sigma_k^2))`` and one linear feature (App. A.6).

    The authors' ``GaussianPositionalEncoding`` computes ``(a t - mu) / (2 sigma^2)`` (no square,
    no exponential), which is linear in ``t``; this is the radial basis the paper names. Centres
    start spread over ``[0, scale)`` and widths at ``scale / dims``, ``scale`` being the typical
    series length.
    """

    def __init__(self, dims: int = 64, scale: float = 512.0) -> None:
        super().__init__()
        if dims < 2:
            raise ValueError(f"the RBF time-embedding needs at least 2 dimensions, got {dims}")
        self.linear = nn.Linear(1, 1)
        self.centres = nn.Parameter(torch.linspace(0.0, float(scale), dims - 1))
        self.log_widths = nn.Parameter(torch.full((dims - 1,), math.log(float(scale) / dims)))
        self.dims = int(dims)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        t = t.unsqueeze(-1)
        rbf = torch.exp(-((t - self.centres) ** 2) / (2 * torch.exp(2 * self.log_widths)))
        return time_distribution(torch.cat([self.linear(t), rbf], dim=-1))


TIME_EMBEDDINGS: dict[str, type[nn.Module]] = {"t2v_sin": Time2VecEmbedding, "mlp": MLPTimeEmbedding, "rbf": RBFTimeEmbedding}


def build_time_embedding(name: str | None, dims: int) -> nn.Module | None:
    """The time-embedding ``name`` (``t2v_sin``, ``mlp``, ``rbf``) of ``dims`` dimensions, or None."""
    if name is None:
        return None
    if name not in TIME_EMBEDDINGS:
        raise ValueError(f"unknown time-embedding {name!r}; choose one of {sorted(TIME_EMBEDDINGS)} or None (TS2Vec)")
    return TIME_EMBEDDINGS[name](dims=int(dims))


# ------------------------------------------------------------------------------------ the TCN
def _conv_steps(conv: nn.Conv1d, h: torch.Tensor) -> torch.Tensor:
    """``conv`` on channels-last rows: ``h`` ``(B, T, C_in)`` -> ``(B, T, C_out)``.

    The same convolution as ``conv(h.transpose(1, 2)).transpose(1, 2)``, run as a 2-D one over the
    ``(B, C, 1, T)`` channels-last view of ``h``: no transposed copies, and oneDNN's channels-last
    kernels are as fast or faster than its ``(B, C, T)`` ones on a CPU (forward and backward;
    about 25 % on the 128-wide blocks of T-Rep with TS2Vec's widths, measured with one thread).
    """
    y = F.conv2d(
        h.transpose(1, 2).unsqueeze(2), conv.weight.unsqueeze(2), conv.bias,
        padding=(0, conv.padding[0]), dilation=(1, conv.dilation[0]),
    )
    return y.squeeze(2).transpose(1, 2)


class DilatedBlock(nn.Module):
    """``x + conv2(gelu(conv1(gelu(x))))`` with kernel-3 convolutions of dilation ``d`` ("same" padding).

    ``x`` ``(B, C_in, T)`` -> ``(B, C_out, T)``; a 1x1 projection carries the residual when
    ``C_in != C_out`` or for the final block (as TS2Vec). ``valid`` ``(B, 1, T)`` float, when
    given, zeroes the steps outside a series after each convolution, so a padded batch gives
    exactly the outputs of the series encoded alone (the convolutions' zero padding).
    :meth:`forward_steps` is the same block on channels-last rows ``(B, T, C_in)``, the layout
    the encoder runs in.

    When ``d >= T`` both side taps of every convolution fall in the zero padding, so the block
    acts step by step: it is computed with the centre taps only (:meth:`pointwise`; the same
    outputs, a third of the products).
    """

    def __init__(self, in_channels: int, out_channels: int, dilation: int, final: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(out_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.projector = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels or final else None
        self.dilation = int(dilation)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        steps = self.forward_steps(x.transpose(1, 2), None if valid is None else valid.transpose(1, 2))
        return steps.transpose(1, 2)

    def forward_steps(self, h: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """The block on channels-last rows: ``h`` ``(B, T, C_in)``, ``valid`` ``(B, T, 1)`` float or None
        -> ``(B, T, C_out)``."""
        if self.dilation >= h.shape[1]:  # side taps on zero padding only
            return self.pointwise(h, valid)
        residual = h if self.projector is None else _conv_steps(self.projector, h)
        g = _conv_steps(self.conv1, F.gelu(h))
        if valid is not None:
            g = g * valid
        out = _conv_steps(self.conv2, F.gelu(g)) + residual
        return out if valid is None else out * valid

    def pointwise(self, h: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """The block on rows ``h`` ``(N, L, C_in)`` (channels last) -> ``(N, L, C_out)`` where its dilation is
        at least the length of the series the rows come from: every step on its own (centre taps)."""
        residual = h if self.projector is None else F.linear(h, self.projector.weight[:, :, 0], self.projector.bias)
        g = F.linear(F.gelu(h), self.conv1.weight[:, :, 1], self.conv1.bias)
        if valid is not None:
            g = g * valid
        out = F.linear(F.gelu(g), self.conv2.weight[:, :, 1], self.conv2.bias) + residual
        return out if valid is None else out * valid


class DilatedTCN(nn.Module):
    """Residual dilated blocks ``channels[i] -> channels[i+1]`` with dilation ``2**i`` (T-Rep Sec. 4.1).

    ``x`` ``(B, channels[0], T)`` -> ``(B, channels[-1], T)`` (:meth:`forward_steps`: channels last).
    Receptive field: each block adds ``2 * 2 * 2**i`` steps, so a step sees ``±``
    :attr:`half_receptive_field` steps.
    """

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        n = len(channels) - 1
        self.blocks = nn.ModuleList(DilatedBlock(channels[i], channels[i + 1], 2**i, final=i == n - 1) for i in range(n))
        self.half_receptive_field = int(sum(2 * 2**i for i in range(n)))

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        steps = self.forward_steps(x.transpose(1, 2), None if valid is None else valid.transpose(1, 2))
        return steps.transpose(1, 2)

    def forward_steps(self, h: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """``h`` ``(B, T, channels[0])``, ``valid`` ``(B, T, 1)`` float or None -> ``(B, T, channels[-1])``."""
        for block in self.blocks:
            h = block.forward_steps(h, valid)
        return h

    def first_pointwise(self, length: int) -> int:
        """Index of the first block whose dilation reaches ``length`` (``len(blocks)`` if none):
        from there on a series of that length is encoded step by step (:meth:`DilatedBlock.pointwise`)."""
        return next((i for i, block in enumerate(self.blocks) if block.dilation >= length), len(self.blocks))


# -------------------------------------------------------------------------------- the encoder
def _channels(hidden_dims: int | Sequence[int], depth: int, extra: int, repr_dims: int) -> list[int]:
    """Channels of the TCN: input ``hidden[0] + K`` (the time-embedding is concatenated), ``hidden + K`` per block, then ``F``."""
    if isinstance(hidden_dims, int):
        widths = [int(hidden_dims)] * int(depth)
    else:
        widths = [int(w) for w in hidden_dims]
        if len(widths) != int(depth):
            raise ValueError(f"hidden_dims lists {len(widths)} widths for depth={depth}")
    # depth + 1 blocks as TS2Vec's DilatedConvEncoder: depth hidden ones, then one to F.
    return [widths[0] + extra] + [w + extra for w in widths] + [int(repr_dims)]


class TRepEncoder(nn.Module):
    """T-Rep's encoder (Figure 1, left); TS2Vec's with ``time_embedding=None``.

    ``x`` ``(B, T, C)`` (NaN = missing) -> representations ``z`` ``(B, T, F)`` and
    time-embeddings ``tau`` ``(B, T, K)`` (None without time-embedding):

    1. ``u = input_fc(x)`` (width ``hidden_dims[0]``);
    2. timestamp masking: ``u`` is zeroed where a value is missing, where ``mask`` is False
       (training: a Bernoulli(0.5) mask per step, TS2Vec Sec. 3.2) and outside the series;
    3. ``[u, tau(t)]`` -- the time-embedding of the time index ``t`` (not masked: time is known
       even when the value is missing, which is what makes T-Rep robust to missing data);
    4. the :class:`DilatedTCN` (``depth`` blocks of width ``hidden + K``, one more to ``F``; dilations
       ``1, 2, ..., 2**depth``), dropout 0.1.

    Parameters
    ----------
    in_channels : int
        ``C``.
    repr_dims : int
        ``F`` (paper: 128; TS2Vec: 320).
    hidden_dims : int or sequence of int
        TCN width, or one width per block (the authors' default: 64, 128, 256, 256, 256, 256,
        128, 128, 128, 128).
    depth : int
        Hidden blocks (paper: 10).
    time_embedding : {"t2v_sin", "mlp", "rbf"} or None
    time_embedding_dims : int
        ``K`` (authors' default 64).
    mask_mode : {"binomial", "all_true"}
        The training mask.
    pretrained : path, optional
        A file written by :func:`save_encoder` (a fitted ``TRep.encoder``): its weights are loaded,
        so a self-supervised encoder becomes the trunk of a multitask model.
    freeze : bool
        With ``pretrained``: keep those weights fixed (``requires_grad=False``; a linear-probe trunk).

    As a backbone (:mod:`tsmtl.models.backbones`): ``forward(x (B, C, T), lengths) -> (B, F)``
    averages the representations over each series' true steps and ``forward_steps`` gives
    ``(B, F, T)``; neither masks timestamps nor applies the representation dropout (those are
    the self-supervised recipe).
    """

    def __init__(
        self,
        in_channels: int,
        repr_dims: int = 128,
        hidden_dims: int | Sequence[int] = 64,
        depth: int = 10,
        time_embedding: str | None = "t2v_sin",
        time_embedding_dims: int = 64,
        mask_mode: str = "binomial",
        repr_dropout: float = 0.1,
        pretrained: str | None = None,
        freeze: bool = False,
    ) -> None:
        super().__init__()
        if freeze and pretrained is None:
            raise ValueError("freeze=True needs pretrained weights (a frozen random trunk learns nothing)")
        if mask_mode not in ("binomial", "all_true"):
            raise ValueError(f"mask_mode must be 'binomial' or 'all_true', got {mask_mode!r}")
        first = int(hidden_dims) if isinstance(hidden_dims, int) else int(hidden_dims[0])
        self.time_embedding = build_time_embedding(time_embedding, time_embedding_dims)
        k = 0 if self.time_embedding is None else int(time_embedding_dims)
        self.input_fc = nn.Linear(in_channels, first)
        self.tcn = DilatedTCN(_channels(hidden_dims, depth, k, repr_dims))
        self.repr_dropout = nn.Dropout(repr_dropout)
        self.in_channels = int(in_channels)
        self.out_features = int(repr_dims)
        self.time_embedding_dims = k
        self.mask_mode = mask_mode
        if pretrained is not None:
            state = torch.load(pretrained, map_location="cpu", weights_only=True)
            try:
                self.load_state_dict(state)
            except RuntimeError as error:
                raise ValueError(f"{pretrained}: the pretrained encoder does not fit these settings ({error})") from error
            if freeze:
                self.requires_grad_(False)

    @property
    def half_receptive_field(self) -> int:
        return self.tcn.half_receptive_field

    def encode_steps(
        self,
        x: torch.Tensor,
        time: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        valid: torch.Tensor | None = None,
        dropout: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` (B, T, C), ``time`` (B, T) float indices (default ``0..T-1``), ``mask`` (B, T) bool
        (False hides a step; default: the training mask in train mode, all True in eval mode),
        ``valid`` (B, T) bool (False: outside the series, as if cut) -> ``z`` (B, T, F), ``tau``.
        ``dropout=False`` skips the representation dropout (the trunk of a supervised model)."""
        u, tau = self._tcn_input(x, time, mask, valid)
        z = self.tcn.forward_steps(u, None if valid is None else valid.unsqueeze(-1).to(u.dtype))
        return (self.repr_dropout(z) if dropout else z), tau

    def _tcn_input(
        self, x: torch.Tensor, time: torch.Tensor | None, mask: torch.Tensor | None, valid: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Steps 1-3 of the class docstring: ``x`` (B, T, C) -> the TCN input ``(B, T, hidden + K)`` and ``tau``."""
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise ValueError(f"TRepEncoder expects (B, T, {self.in_channels}), got {tuple(x.shape)}")
        b, t, _ = x.shape
        observed = ~torch.isnan(x).any(dim=-1)
        u = self.input_fc(torch.nan_to_num(x, nan=0.0))
        keep = observed
        if mask is None and self.training and self.mask_mode == "binomial":
            mask = torch.rand(b, t, device=x.device) < 0.5
        if mask is not None:
            keep = keep & mask
        if valid is not None:
            keep = keep & valid
        u = u * keep.unsqueeze(-1).to(u.dtype)
        tau = None
        if self.time_embedding is not None:
            if time is None:
                time = torch.arange(t, device=x.device, dtype=u.dtype).expand(b, t)
            tau = self.time_embedding(time.to(u.dtype))
            if valid is not None:
                tau = tau * valid.unsqueeze(-1).to(tau.dtype)
            u = torch.cat([u, tau], dim=-1)
        return u, tau

    def encode_crop_pair(
        self, x_a: torch.Tensor, time_a: torch.Tensor, x_b: torch.Tensor, time_b: torch.Tensor, overlap: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The training pass over two overlapping crops (TS2Vec Sec. 3.2), each encoded as if alone.

        ``x_a`` (B, L_a, C), ``x_b`` (B, L_b, C) with their time indices (B, L_a), (B, L_b); crop
        ``a`` ends with the ``overlap`` steps that crop ``b`` starts with. Returns ``z1`` (the last
        ``overlap`` steps of ``a``), ``z2`` (the first ``overlap`` of ``b``), both ``(B, overlap, F)``,
        and ``tau1`` ``(B, overlap, K)`` (None without time-embedding): what :meth:`encode_steps` on
        each crop alone (training mask, representation dropout) then slicing gives -- the authors'
        two passes -- with less work:

        * each crop is its own pass, so neither pays for the other's length (no padding);
        * from the first block whose dilation reaches a crop's length on, every block acts step
          by step (:meth:`DilatedBlock.pointwise`; dilations only grow), so there the crop is cut
          to the overlap and the remaining blocks run on the overlap steps only, both crops in one
          product (UCR-length crops: the last 3-4 of 11 blocks, on about half the steps);
        * the representation dropout is drawn for the overlap steps, the only ones the loss uses.
        """
        pieces, taus, starts = [], [], []
        for x, time, keep_from in ((x_a, time_a, x_a.shape[1] - overlap), (x_b, time_b, 0)):
            h, tau = self._tcn_input(x, time, None, None)
            start = self.tcn.first_pointwise(x.shape[1])
            for block in self.tcn.blocks[:start]:
                h = block.forward_steps(h)
            pieces.append(h[:, keep_from : keep_from + overlap])
            taus.append(None if tau is None else tau[:, keep_from : keep_from + overlap])
            starts.append(start)
        joint = max(starts)
        for k in range(2):  # the shorter crop goes step by step alone until the other one joins
            for block in self.tcn.blocks[starts[k] : joint]:
                pieces[k] = block.pointwise(pieces[k])
        h = torch.cat(pieces)
        for block in self.tcn.blocks[joint:]:
            h = block.pointwise(h)
        z1, z2 = self.repr_dropout(h).chunk(2)
        return z1, z2, taus[0]

    # -- backbone protocol ------------------------------------------------------------------
    def _valid(self, lengths: torch.Tensor | None, t: int, device: torch.device) -> torch.Tensor | None:
        if lengths is None:
            return None
        return torch.arange(t, device=device).unsqueeze(0) < lengths.to(device).unsqueeze(1)

    @staticmethod
    def _no_masking(x: torch.Tensor) -> torch.Tensor:
        # A trunk under supervised training sees every step (timestamp masking is the
        # self-supervised augmentation only).
        return torch.ones(x.shape[0], x.shape[-1], dtype=torch.bool, device=x.device)

    def forward_steps(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C, T), ``lengths`` (B,) -> ``(B, F, T)`` (steps past a length are zero)."""
        valid = self._valid(lengths, x.shape[-1], x.device)
        z, _ = self.encode_steps(x.transpose(1, 2), mask=self._no_masking(x), valid=valid, dropout=False)
        if valid is not None:
            z = z * valid.unsqueeze(-1).to(z.dtype)
        return z.transpose(1, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C, T), ``lengths`` (B,) -> ``(B, F)``: the mean over each series' true steps
        (the backbone convention; ``TRep.encode(window="full_series")`` gives TS2Vec's max)."""
        steps = self.forward_steps(x, lengths)
        if lengths is None:
            return steps.mean(dim=2)
        return steps.sum(dim=2) / lengths.to(steps.device).clamp_min(1).unsqueeze(1).to(steps.dtype)


class TS2VecEncoder(TRepEncoder):
    """TS2Vec's encoder (Yue et al. 2022, Sec. 3.2): :class:`TRepEncoder` without time-embedding."""

    def __init__(self, in_channels: int, repr_dims: int = 320, hidden_dims: int | Sequence[int] = 64, depth: int = 10, mask_mode: str = "binomial", repr_dropout: float = 0.1, pretrained: str | None = None, freeze: bool = False) -> None:
        super().__init__(in_channels, repr_dims, hidden_dims, depth, None, 0, mask_mode, repr_dropout, pretrained, freeze)


def save_encoder(encoder: TRepEncoder, path: str | os.PathLike) -> None:
    """Write ``encoder``'s weights for ``TRepEncoder(..., pretrained=path)``."""
    torch.save({k: v.detach().cpu() for k, v in encoder.state_dict().items()}, path)


# ----------------------------------------------------------------------------- pretext tasks
class _RowGather(torch.autograd.Function):
    """Rows of a table ``(N, D)`` for several index vectors -> one ``(M_k, D)`` tensor per vector.

    The backward adds every gradient into one zero table (``index_add``), instead of one zero
    table per gather (``index_select``) or per slice of one gather.
    """

    @staticmethod
    def forward(ctx, table: torch.Tensor, *indices: torch.Tensor) -> tuple[torch.Tensor, ...]:  # noqa: D102
        ctx.save_for_backward(*indices)
        ctx.rows = table.shape[0]
        return tuple(table.index_select(0, index) for index in indices)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # noqa: D102
        total = None
        for index, grad in zip(ctx.saved_tensors, grads, strict=True):
            if grad is not None:
                if total is None:
                    total = grad.new_zeros((ctx.rows, grad.shape[1]))
                total.index_add_(0, index, grad)
        return (total, *[None] * len(grads))


def _gather_rows(table: torch.Tensor, *indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``table[index]`` for every index vector (see :class:`_RowGather`)."""
    return _RowGather.apply(table, *indices)


class DivergenceHead(nn.Module):
    """``G_1``: ``z_{i,t} - z'_{j,t'}`` ``(M, F)`` -> the predicted JSD ``(M,)`` (eq. 2); MLP ``F -> hidden -> 1``.

    Linear output (the authors end with a ReLU, which can die at 0 for every pair).
    """

    def __init__(self, repr_dims: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(repr_dims, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, diff: torch.Tensor) -> torch.Tensor:
        return self.net(diff).squeeze(-1)

    def on_rows(self, table: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """``forward(table[first] - table[second])`` for a table ``(N, F)`` and pairs ``(M,)``.

        The first layer is linear (``W (a - b) = W a - W b``), so when the table has fewer rows
        than there are pairs it is applied to the table and the pairs gather its outputs: the
        same values with ``N`` instead of ``M`` products (the coarse scales of the hierarchy).
        """
        layer, activation, output = self.net
        if table.shape[0] < first.shape[0]:
            a, b = _gather_rows(F.linear(table, layer.weight), first, second)
            return output(activation(a - b + layer.bias)).squeeze(-1)
        a, b = _gather_rows(table, first, second)
        return self(a - b)


class ForecastHead(nn.Module):
    """``G_2``: ``[z_{i,t}, tau_{t+Delta}]`` ``(M, F + K)`` -> ``z_{i,t+Delta}`` ``(M, F)`` (eq. 3); 2-layer MLP with ReLU.

    Linear output: representations take negative values, which the authors' final ReLU cannot
    produce.
    """

    def __init__(self, repr_dims: int, time_embedding_dims: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(repr_dims + time_embedding_dims, hidden), nn.ReLU(), nn.Linear(hidden, repr_dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_rows(self, z_table: torch.Tensor, tau_table: torch.Tensor, z_rows: torch.Tensor, tau_rows: torch.Tensor) -> torch.Tensor:
        """``forward(cat([z_table[z_rows], tau_table[tau_rows]], -1))`` for tables ``(N, F)``, ``(N', K)``
        and rows ``(M,)``: as :meth:`DivergenceHead.on_rows`, the first layer runs on the tables
        when they have fewer rows than there are pairs."""
        layer, activation, output = self.net
        f = z_table.shape[1]
        if max(z_table.shape[0], tau_table.shape[0]) < z_rows.shape[0]:
            (from_z,) = _gather_rows(F.linear(z_table, layer.weight[:, :f]), z_rows)
            (from_tau,) = _gather_rows(F.linear(tau_table, layer.weight[:, f:]), tau_rows)
            return output(activation(from_z + from_tau + layer.bias))
        (z,) = _gather_rows(z_table, z_rows)
        (tau,) = _gather_rows(tau_table, tau_rows)
        return self(torch.cat([z, tau], dim=-1))


class _TwinContrast(torch.autograd.Function):
    """TS2Vec's contrast of ``z`` ``(N, 2M, F)``: the mean over all ``N 2M`` rows of
    ``-log softmax_c(z_r . z_c)[twin(r)]`` with ``c != r`` and ``twin(r) = r +- M``.

    The cross-entropy of the dot-product matrix written out, so that the ``(N, 2M, 2M)`` matrix
    is made once and turned into the softmax in place: the backward is then one batched product
    ``((P - Y) + (P - Y)^T) z / (N 2M)`` (``P`` the softmax, ``Y`` the twins). Autograd's pieces
    (product, mask, log-softmax, pick, and back) write five such matrices, which costs more than
    the products for long series (``T = 3000``: 6000 x 6000 per series), and its backward of
    ``z @ z.transpose(1, 2)`` multiplies transposed strides that fall off MKL's fast path on a
    CPU for small matrices.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:  # noqa: D102
        rows, m = z.shape[0] * z.shape[1], z.shape[1] // 2
        sim = torch.bmm(z, z.transpose(1, 2))
        sim.diagonal(dim1=1, dim2=2).fill_(float("-inf"))  # not oneself
        twins = sim.diagonal(offset=m, dim1=1, dim2=2).sum()  # sim[i, M + i], twice: once per half
        # softmax in place (sim becomes P); probabilities below the smallest normal float are 0,
        # as on a flush-to-zero CPU: subnormal numbers make exp and the products 10-50x slower
        top = sim.amax(dim=-1, keepdim=True)
        shifted = sim.sub_(top)
        shifted.masked_fill_(shifted < math.log(torch.finfo(sim.dtype).tiny), float("-inf"))
        total = shifted.exp_().sum(dim=-1, keepdim=True)
        ctx.save_for_backward(z, shifted.div_(total))
        return ((top + total.log()).sum() - 2 * twins) / rows

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        z, softmax = ctx.saved_tensors
        m, scale = z.shape[1] // 2, grad / (z.shape[0] * z.shape[1])
        if z.shape[1] > _LARGE_CONTRAST:
            # P z + P^T z - 2 Y z (Y z: the twins' rows): a second product beats the transposed
            # pass over a matrix that no longer fits in the cache
            out = torch.bmm(softmax, z).baddbmm_(softmax.transpose(1, 2), z)
            return out.sub_(z.roll(m, dims=1), alpha=2.0).mul_(scale)
        both = softmax + softmax.transpose(1, 2)
        both.diagonal(offset=m, dim1=1, dim2=2).sub_(2.0)  # -Y - Y^T
        both.diagonal(offset=-m, dim1=1, dim2=2).sub_(2.0)
        return torch.bmm(both.mul_(scale), z)


#: Rows (2T or 2B) above which :class:`_TwinContrast`'s backward takes two products instead of
#: adding the transposed softmax (measured on a CPU: 1500 rows favour the sum, 2048 the products).
_LARGE_CONTRAST = 1800


def _contrast(z: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every row of the dot products of ``z`` ``(..., 2N, F)`` against its twin
    ``(i <-> N + i)``, self excluded; the mean over all rows (:class:`_TwinContrast`)."""
    return _TwinContrast.apply(z.reshape(-1, z.shape[-2], z.shape[-1]))


def _instance_contrast(z: torch.Tensor) -> torch.Tensor:
    """:func:`instance_contrastive_loss` of ``z = cat([z1, z2])`` ``(2B, T, F)``."""
    if z.shape[0] == 2:
        return z.new_zeros(())
    return _contrast(z.transpose(0, 1))  # (T, 2B, F)


def _temporal_contrast(z: torch.Tensor) -> torch.Tensor:
    """:func:`temporal_contrastive_loss` of ``z = cat([z1, z2])`` ``(2B, T, F)``."""
    b2, t, f = z.shape
    if t == 1:
        return z.new_zeros(())
    return _contrast(z.reshape(2, b2 // 2, t, f).transpose(0, 1).reshape(b2 // 2, 2 * t, f))  # (B, 2T, F)


def instance_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """TS2Vec's instance-wise contrast (eq. 2 of TS2Vec): ``z1``, ``z2`` ``(B, T, F)`` -> 0-d.

    At every step ``t``, ``z1[i, t]`` must pick ``z2[i, t]`` among the other ``2B - 1``
    representations of that step (dot-product logits); 0 for ``B == 1``.
    """
    return _instance_contrast(torch.cat([z1, z2]))


def temporal_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """TS2Vec's temporal contrast (eq. 1 of TS2Vec): ``z1[i, t]`` must pick ``z2[i, t]`` among the
    ``2T - 1`` other steps of series ``i``; ``(B, T, F)`` -> 0-d, 0 for ``T == 1``."""
    return _temporal_contrast(torch.cat([z1, z2]))


def jensen_shannon_divergence(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``JSD(p || q) = KL(p || m) / 2 + KL(q || m) / 2``, ``m = (p + q) / 2``, natural log; ``(..., K)`` -> ``(...)``."""
    m = (p + q) / 2
    kl_p = (p * (torch.log(p + eps) - torch.log(m + eps))).sum(-1)
    kl_q = (q * (torch.log(q + eps) - torch.log(m + eps))).sum(-1)
    return (kl_p + kl_q) / 2


@dataclass
class DivergencePairs:
    """Indices of eq. 2's pairs: representation ``z1[i, t]`` against ``z2[j, t_prime]``, ``(M,)`` each."""

    i: torch.Tensor
    t: torch.Tensor
    j: torch.Tensor
    t_prime: torch.Tensor

    @classmethod
    def sample(cls, b: int, t: int, m: int, device: torch.device) -> DivergencePairs:
        """``m`` pairs, ``i, j`` uniform over the batch, ``t != t'`` (the paper's condition), ``t > 1``."""
        i = torch.randint(b, (m,), device=device)
        j = torch.randint(b, (m,), device=device)
        first = torch.randint(t, (m,), device=device)
        second = (first + torch.randint(1, t, (m,), device=device)) % t
        return cls(i, first, j, second)


def _divergence_loss(z: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: DivergencePairs) -> torch.Tensor:
    """:func:`time_embedding_divergence_loss` of ``z = cat([z1, z2])`` ``(2B, T, F)``, rows of the flat
    ``(2B T, F)`` view."""
    b, t = tau.shape[:2]
    first, second = pairs.i * t + pairs.t, (b + pairs.j) * t + pairs.t_prime
    z_table = z.reshape(-1, z.shape[-1])
    if isinstance(head, DivergenceHead):
        pred = head.on_rows(z_table, first, second)
    else:
        z_first, z_second = _gather_rows(z_table, first, second)
        pred = head(z_first - z_second)
    tau_first, tau_second = _gather_rows(tau.reshape(-1, tau.shape[-1]), first, second - b * t)
    return F.mse_loss(pred, jensen_shannon_divergence(tau_first, tau_second))


def time_embedding_divergence_loss(
    z1: torch.Tensor, z2: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: DivergencePairs
) -> torch.Tensor:
    """Eq. 2: ``mean (G_1(z1[i,t] - z2[j,t']) - JSD(tau[i,t] || tau[j,t']))^2``.

    ``z1``, ``z2`` ``(B, T, F)`` (the two contexts), ``tau`` ``(B, T, K)`` distributions.
    """
    return _divergence_loss(torch.cat([z1, z2]), tau, head, pairs)


@dataclass
class ForecastPairs:
    """Indices of eq. 3: input ``z_{c_in}[i, t]`` and ``tau[i, t + delta]``, target ``z_{c_out}[i, t + delta]``."""

    i: torch.Tensor
    t: torch.Tensor
    delta: torch.Tensor
    context_in: torch.Tensor
    context_out: torch.Tensor

    @classmethod
    def sample(cls, b: int, t: int, m: int, max_delta: int, device: torch.device) -> ForecastPairs:
        """``Delta ~ U{-D, ..., D}`` with ``D = min(max_delta, T - 1)``; ``t`` uniform where ``t + Delta`` is in range."""
        d = min(int(max_delta), t - 1)
        delta = torch.randint(-d, d + 1, (m,), device=device)
        lo = torch.clamp(-delta, min=0)
        hi = t - torch.clamp(delta, min=0)
        start = lo + (torch.rand(m, device=device) * (hi - lo)).long()
        return cls(
            torch.randint(b, (m,), device=device),
            start,
            delta,
            torch.randint(2, (m,), device=device),
            torch.randint(2, (m,), device=device),
        )


def _forecast_loss(z: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: ForecastPairs) -> torch.Tensor:
    """:func:`time_conditioned_forecast_loss` of ``z = cat([z1, z2])`` ``(2B, T, F)``, rows of the flat
    ``(2B T, F)`` view."""
    b, t = tau.shape[:2]
    target_t = pairs.t + pairs.delta
    z_table, tau_table = z.reshape(-1, z.shape[-1]), tau.reshape(-1, tau.shape[-1])
    inputs, targets, tau_rows = (pairs.context_in * b + pairs.i) * t + pairs.t, (pairs.context_out * b + pairs.i) * t + target_t, pairs.i * t + target_t
    if isinstance(head, ForecastHead):
        pred = head.on_rows(z_table, tau_table, inputs, tau_rows)
        (z_target,) = _gather_rows(z_table, targets)
    else:
        z_input, z_target = _gather_rows(z_table, inputs, targets)
        (tau_target,) = _gather_rows(tau_table, tau_rows)
        pred = head(torch.cat([z_input, tau_target], dim=-1))
    return F.mse_loss(pred, z_target)


def time_conditioned_forecast_loss(
    z1: torch.Tensor, z2: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: ForecastPairs
) -> torch.Tensor:
    """Eq. 3: ``mean (G_2([z_{c1}[i,t], tau[i,t+Delta]]) - z_{c2}[i,t+Delta])^2``; contexts ``c1, c2``
    drawn per pair from the two crops. ``z1``, ``z2`` ``(B, T, F)``, ``tau`` ``(B, T, K)``."""
    return _forecast_loss(torch.cat([z1, z2]), tau, head, pairs)


def _pool_time(h: torch.Tensor) -> torch.Tensor:
    """Max-pool ``(B, T, X)`` by 2 along time (floor), as TS2Vec's hierarchy."""
    return F.max_pool1d(h.transpose(1, 2), kernel_size=2).transpose(1, 2)


def check_task_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The four task weights (missing ones 0); raises unless they are known, >= 0 and sum to 1 (App. A.2)."""
    unknown = set(weights) - set(PRETEXT_TASKS)
    if unknown:
        raise ValueError(f"unknown pretext tasks {sorted(unknown)}; known: {list(PRETEXT_TASKS)}")
    full = {task: float(weights.get(task, 0.0)) for task in PRETEXT_TASKS}
    if any(w < 0 for w in full.values()) or not math.isclose(sum(full.values()), 1.0, abs_tol=1e-6):
        raise ValueError(f"pretext task weights must be >= 0 and sum to 1 (T-Rep App. A.2), got {full}")
    return full


def hierarchical_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    tau: torch.Tensor | None,
    weights: Mapping[str, float],
    divergence_head: nn.Module | None = None,
    forecast_head: nn.Module | None = None,
    temporal_unit: int = 0,
    n_pairs: int = 800,
    max_delta: int = 10,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """T-Rep's loss: ``sum_i alpha_i l_i`` at every scale of TS2Vec's max-pool hierarchy, averaged over scales.

    ``z1``, ``z2`` ``(B, T, F)`` -- the representations of the overlap of the two crops;
    ``tau`` ``(B, T, K)`` its time-embeddings (None for TS2Vec). At scale ``d`` (``T`` halved
    ``d`` times by max-pooling) the instance contrast always counts, the three temporal tasks
    from ``d >= temporal_unit`` while ``T > 1``; the last scale (``T == 1``) has the instance
    contrast only. Max-pooled time-embeddings are renormalised to sum to 1 before the JSD (the
    authors' code compares max-pooled vectors that are no longer distributions).

    Returns the loss and each task's weighted contribution (summed over scales / #scales).
    """
    weights = check_task_weights(weights)
    if tau is None and (weights["divergence"] or weights["forecast"]):
        raise ValueError("the time-embedding tasks need time-embeddings; use TS2Vec weights without them")
    parts = {task: z1.new_zeros(()) for task in PRETEXT_TASKS}
    b = z1.shape[0]
    z = torch.cat([z1, z2])  # (2B, T, F): both contexts, pooled together
    scales = 0
    while z.shape[1] > 1:
        t = z.shape[1]
        if weights["instance"]:
            parts["instance"] = parts["instance"] + weights["instance"] * _instance_contrast(z)
        if scales >= temporal_unit:
            if weights["temporal"]:
                parts["temporal"] = parts["temporal"] + weights["temporal"] * _temporal_contrast(z)
            if weights["divergence"]:
                pairs = DivergencePairs.sample(b, t, n_pairs, z.device)
                parts["divergence"] = parts["divergence"] + weights["divergence"] * _divergence_loss(z, tau, divergence_head, pairs)
            if weights["forecast"]:
                pairs = ForecastPairs.sample(b, t, n_pairs, max_delta, z.device)
                parts["forecast"] = parts["forecast"] + weights["forecast"] * _forecast_loss(z, tau, forecast_head, pairs)
        scales += 1
        z = _pool_time(z)
        if tau is not None:
            tau = _pool_time(tau)
            tau = tau / tau.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    if z.shape[1] == 1:
        if weights["instance"]:
            parts["instance"] = parts["instance"] + weights["instance"] * _instance_contrast(z)
        scales += 1
    parts = {task: value / scales for task, value in parts.items()}
    return sum(parts.values()), parts


__all__ = [
    "PRETEXT_TASKS",
    "TIME_EMBEDDINGS",
    "TREP_TASK_WEIGHTS",
    "TS2VEC_TASK_WEIGHTS",
    "DilatedBlock",
    "DilatedTCN",
    "DivergenceHead",
    "DivergencePairs",
    "ForecastHead",
    "ForecastPairs",
    "MLPTimeEmbedding",
    "RBFTimeEmbedding",
    "TRepEncoder",
    "TS2VecEncoder",
    "Time2VecEmbedding",
    "build_time_embedding",
    "check_task_weights",
    "hierarchical_loss",
    "instance_contrastive_loss",
    "jensen_shannon_divergence",
    "save_encoder",
    "temporal_contrastive_loss",
    "time_conditioned_forecast_loss",
    "time_distribution",
    "time_embedding_divergence_loss",
]
