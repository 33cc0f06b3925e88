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
docstring says so; the differences follow the paper's text where the code departs from it.
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
class DilatedBlock(nn.Module):
    """``x + conv2(gelu(conv1(gelu(x))))`` with kernel-3 convolutions of dilation ``d`` ("same" padding).

    ``x`` ``(B, C_in, T)`` -> ``(B, C_out, T)``; a 1x1 projection carries the residual when
    ``C_in != C_out`` or for the final block (as TS2Vec). ``valid`` ``(B, 1, T)`` float, when
    given, zeroes the steps outside a series after each convolution, so a padded batch gives
    exactly the outputs of the series encoded alone (the convolutions' zero padding).
    """

    def __init__(self, in_channels: int, out_channels: int, dilation: int, final: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.conv2 = nn.Conv1d(out_channels, out_channels, 3, padding=dilation, dilation=dilation)
        self.projector = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels or final else None

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        residual = x if self.projector is None else self.projector(x)
        h = self.conv1(F.gelu(x))
        if valid is not None:
            h = h * valid
        h = self.conv2(F.gelu(h)) + residual
        return h if valid is None else h * valid


class DilatedTCN(nn.Module):
    """Residual dilated blocks ``channels[i] -> channels[i+1]`` with dilation ``2**i`` (T-Rep Sec. 4.1).

    ``x`` ``(B, channels[0], T)`` -> ``(B, channels[-1], T)``. Receptive field: each block adds
    ``2 * 2 * 2**i`` steps, so a step sees ``±`` :attr:`half_receptive_field` steps.
    """

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        n = len(channels) - 1
        self.blocks = nn.ModuleList(DilatedBlock(channels[i], channels[i + 1], 2**i, final=i == n - 1) for i in range(n))
        self.half_receptive_field = int(sum(2 * 2**i for i in range(n)))

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, valid)
        return x


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
        valid_f = None if valid is None else valid.unsqueeze(1).to(u.dtype)
        z = self.tcn(u.transpose(1, 2), valid_f).transpose(1, 2)
        return (self.repr_dropout(z) if dropout else z), tau

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
class DivergenceHead(nn.Module):
    """``G_1``: ``z_{i,t} - z'_{j,t'}`` ``(M, F)`` -> the predicted JSD ``(M,)`` (eq. 2); MLP ``F -> hidden -> 1``.

    Linear output (the authors end with a ReLU, which can die at 0 for every pair).
    """

    def __init__(self, repr_dims: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(repr_dims, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, diff: torch.Tensor) -> torch.Tensor:
        return self.net(diff).squeeze(-1)


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


def _contrast(sim: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every row of ``sim`` ``(..., 2N, 2N)`` against its twin ``(i <-> N + i)``, self excluded."""
    n2 = sim.shape[-1]
    n = n2 // 2
    eye = torch.eye(n2, dtype=torch.bool, device=sim.device)
    logits = sim.masked_fill(eye, float("-inf"))
    target = torch.cat([torch.arange(n, n2, device=sim.device), torch.arange(0, n, device=sim.device)])
    log_p = F.log_softmax(logits, dim=-1)
    return -log_p.gather(-1, target.expand(*log_p.shape[:-1]).unsqueeze(-1)).mean()


def instance_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """TS2Vec's instance-wise contrast (eq. 2 of TS2Vec): ``z1``, ``z2`` ``(B, T, F)`` -> 0-d.

    At every step ``t``, ``z1[i, t]`` must pick ``z2[i, t]`` among the other ``2B - 1``
    representations of that step (dot-product logits); 0 for ``B == 1``.
    """
    if z1.shape[0] == 1:
        return z1.new_zeros(())
    z = torch.cat([z1, z2], dim=0).transpose(0, 1)  # (T, 2B, F)
    return _contrast(z @ z.transpose(1, 2))


def temporal_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """TS2Vec's temporal contrast (eq. 1 of TS2Vec): ``z1[i, t]`` must pick ``z2[i, t]`` among the
    ``2T - 1`` other steps of series ``i``; ``(B, T, F)`` -> 0-d, 0 for ``T == 1``."""
    if z1.shape[1] == 1:
        return z1.new_zeros(())
    z = torch.cat([z1, z2], dim=1)  # (B, 2T, F)
    return _contrast(z @ z.transpose(1, 2))


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


def time_embedding_divergence_loss(
    z1: torch.Tensor, z2: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: DivergencePairs
) -> torch.Tensor:
    """Eq. 2: ``mean (G_1(z1[i,t] - z2[j,t']) - JSD(tau[i,t] || tau[j,t']))^2``.

    ``z1``, ``z2`` ``(B, T, F)`` (the two contexts), ``tau`` ``(B, T, K)`` distributions.
    """
    pred = head(z1[pairs.i, pairs.t] - z2[pairs.j, pairs.t_prime])
    target = jensen_shannon_divergence(tau[pairs.i, pairs.t], tau[pairs.j, pairs.t_prime])
    return F.mse_loss(pred, target)


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


def time_conditioned_forecast_loss(
    z1: torch.Tensor, z2: torch.Tensor, tau: torch.Tensor, head: nn.Module, pairs: ForecastPairs
) -> torch.Tensor:
    """Eq. 3: ``mean (G_2([z_{c1}[i,t], tau[i,t+Delta]]) - z_{c2}[i,t+Delta])^2``; contexts ``c1, c2``
    drawn per pair from the two crops. ``z1``, ``z2`` ``(B, T, F)``, ``tau`` ``(B, T, K)``."""
    z = torch.stack([z1, z2])  # (2, B, T, F)
    target_t = pairs.t + pairs.delta
    x = torch.cat([z[pairs.context_in, pairs.i, pairs.t], tau[pairs.i, target_t]], dim=-1)
    return F.mse_loss(head(x), z[pairs.context_out, pairs.i, target_t])


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
    scales = 0
    while z1.shape[1] > 1:
        b, t = z1.shape[:2]
        if weights["instance"]:
            parts["instance"] = parts["instance"] + weights["instance"] * instance_contrastive_loss(z1, z2)
        if scales >= temporal_unit:
            if weights["temporal"]:
                parts["temporal"] = parts["temporal"] + weights["temporal"] * temporal_contrastive_loss(z1, z2)
            if weights["divergence"]:
                pairs = DivergencePairs.sample(b, t, n_pairs, z1.device)
                parts["divergence"] = parts["divergence"] + weights["divergence"] * time_embedding_divergence_loss(z1, z2, tau, divergence_head, pairs)
            if weights["forecast"]:
                pairs = ForecastPairs.sample(b, t, n_pairs, max_delta, z1.device)
                parts["forecast"] = parts["forecast"] + weights["forecast"] * time_conditioned_forecast_loss(z1, z2, tau, forecast_head, pairs)
        scales += 1
        z1, z2 = _pool_time(z1), _pool_time(z2)
        if tau is not None:
            tau = _pool_time(tau)
            tau = tau / tau.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    if z1.shape[1] == 1:
        if weights["instance"]:
            parts["instance"] = parts["instance"] + weights["instance"] * instance_contrastive_loss(z1, z2)
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
