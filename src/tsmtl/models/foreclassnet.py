"""ForeClassNet: Boltzmann convolutions, Welford mean-variance layers and concrete dropout.

Coulson & Wells, "Boltzmann convolutions and Welford mean-variance layers with an application
to time series forecasting and classification" (the ForeClassing problem: the class of a series
is only realised ``H`` steps in the future, so the network first forecasts those steps, with
their uncertainty, and classifies from the observed series *and* the forecast).

Layers
------
:class:`ConcreteDropout`, :class:`SpatialConcreteDropout`
    Dropout with a learned probability (Gal, Hron & Kendall, "Concrete Dropout", NeurIPS
    2017), wrapping a ``Linear`` / ``Conv1d``; active at inference (Monte Carlo dropout).
:class:`BoltzmannConv1d`
    Eqs. 1-4: causal dilated convolutions of several filter lengths, mixed by a learned
    Boltzmann distribution over the lengths; optionally with the fixed hand-crafted filters of
    eqs. 8-10 (:func:`hand_crafted_filters`).
:class:`WelfordMeanVariance`, :func:`welford_mean_variance`
    Eq. 6: the online mean and population variance over successive stochastic forward passes.
:class:`ForeClassNet`
    The network of Sec. 3.2 / Figure 2 for one forecast task and one classification task,
    a :class:`~tsmtl.models.sharing.MultiTaskModel` (registered as the ``foreclassnet``
    sharing).

Loss (eq. 7)
------------
``beta * MSE(forecast) + alpha * CE(class) + sum of the concrete-dropout regularisers`` with
``alpha = beta = 1`` is exactly what the project's trainer minimises for this model with the
``equal`` task weighting: the per-task losses of :func:`tsmtl.tasks.task_loss` plus
:meth:`ForeClassNet.regularisation`, added unweighted.

The library knows nothing of Kedro; everything here is plain torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.models.sharing import MultiTaskModel
from tsmtl.tasks import TaskSpec

#: The filter lengths of the paper (Sec. 2.1 and 3.2: ``z = {3, 6, 12, 18, 24, 30, 36}``).
PAPER_FILTER_LENGTHS: tuple[int, ...] = (3, 6, 12, 18, 24, 30, 36)


# ---------------------------------------------------------------------------------------------
# Concrete dropout
# ---------------------------------------------------------------------------------------------


class ConcreteDropout(nn.Module):
    """Concrete dropout (Gal, Hron & Kendall 2017) on the *input* of a wrapped layer.

    The dropout probability ``p = sigmoid(p_logit)`` is a parameter. Each forward draws
    ``u ~ U(0, 1)`` of the noise shape and the relaxed Bernoulli *drop* mask (Gal et al.,
    eq. 5, temperature ``t``)::

        drop = sigmoid((log p - log(1 - p) + log u - log(1 - u)) / t)

    then feeds ``x * (1 - drop) / (1 - p)`` to the layer (inverted dropout: the expected
    input is unchanged). ``log p - log(1 - p)`` is ``p_logit`` itself, and ``1 - drop`` is
    computed as ``sigmoid(-(...) / t)``, which is the same number without the cancellation.
    As ``t -> 0`` the mask tends to a Bernoulli(``1 - p``) keep mask; at ``t = 0.1`` it is
    nearly binary (so in float32 many entries round to exactly 0 or 1).

    Regulariser (Gal et al., eq. 3; the KL term of the variational objective)::

        weight_regulariser * ||W||^2 / (1 - p)
        + dropout_regulariser * input_dim * (p log p + (1 - p) log(1 - p))

    *Signs.* The KL divergence holds ``(1 - p) l^2 / 2 ||M||^2 - K H(p)`` for the weight
    matrix ``M`` of a layer whose input is dropped *without* rescaling, ``K`` its input
    dimension and ``H(p) = -p log p - (1 - p) log(1 - p)`` the Bernoulli entropy. With the
    inverted-dropout rescaling the layer's own weight is ``W = (1 - p) M``, so
    ``(1 - p) ||M||^2 = ||W||^2 / (1 - p)``: the first term. The second term is
    ``-K H(p) = K (p log p + (1 - p) log(1 - p))``, the *negative* entropy times the input
    dimension, which is <= 0 and minimised by ``p = 0.5`` (value ``-K log 2``): it pulls ``p``
    towards 0.5 while the weight term (growing with ``p``) and the data term pull it down.
    The constants follow Gal et al.: ``weight_regulariser = l^2 / (tau N)``,
    ``dropout_regulariser = 2 / (tau N)`` (prior length scale ``l``, model precision ``tau``,
    ``N`` training cases); the defaults ``1e-6`` / ``1e-5`` are those of the concrete-dropout
    implementation the paper used (github.com/aurelio-amerio/ConcreteDropout). ``||W||^2``
    is the layer's ``weight`` only (the kernel, as in that implementation), not its bias.

    Monte Carlo dropout: the mask is drawn in training *and* in evaluation mode (that is what
    makes repeated forward passes samples of the approximate posterior predictive), unless
    ``mc=False``, in which case evaluation mode is deterministic (``layer(x)``).

    Parameters
    ----------
    layer : nn.Linear or nn.Conv1d
        The wrapped layer; its input is dropped. ``input_dim`` is ``in_features`` (Linear)
        or ``in_channels`` (Conv1d).
    p_init : float
        Initial dropout probability, in (0, 1).
    temperature : float
        Temperature ``t`` of the relaxed Bernoulli, > 0.
    weight_regulariser, dropout_regulariser : float
        >= 0, see above.
    mc : bool
        Keep dropout active in evaluation mode.
    eps : float
        ``u`` is clamped to ``[eps, 1 - eps]`` so that ``log u`` and ``log(1 - u)`` are finite.

    Shapes
    ------
    ``x``: whatever the layer takes, ``(..., in_features)`` for ``Linear`` (the mask has the
    shape of ``x``: every element is dropped independently, also across time steps of a
    time-distributed layer).
    """

    def __init__(
        self,
        layer: nn.Module,
        p_init: float = 0.1,
        temperature: float = 0.1,
        weight_regulariser: float = 1e-6,
        dropout_regulariser: float = 1e-5,
        mc: bool = True,
        eps: float = 1e-7,
    ) -> None:
        super().__init__()
        if not 0.0 < float(p_init) < 1.0:
            raise ValueError(f"p_init must lie in (0, 1), got {p_init}")
        if float(temperature) <= 0.0:
            raise ValueError(f"the concrete temperature must be > 0, got {temperature}")
        if float(weight_regulariser) < 0.0 or float(dropout_regulariser) < 0.0:
            raise ValueError(
                "the concrete-dropout regularisers must be >= 0, got "
                f"weight_regulariser={weight_regulariser}, "
                f"dropout_regulariser={dropout_regulariser}"
            )
        if isinstance(layer, nn.Linear):
            self.input_dim = int(layer.in_features)
        elif isinstance(layer, nn.Conv1d):
            self.input_dim = int(layer.in_channels)
        else:
            raise TypeError(
                f"concrete dropout wraps nn.Linear or nn.Conv1d, got {type(layer).__name__}"
            )
        self.layer = layer
        p = float(p_init)
        self.p_logit = nn.Parameter(torch.tensor(math.log(p) - math.log1p(-p)))
        self.temperature = float(temperature)
        self.weight_regulariser = float(weight_regulariser)
        self.dropout_regulariser = float(dropout_regulariser)
        self.mc = bool(mc)
        self.eps = float(eps)

    @property
    def p(self) -> torch.Tensor:
        """The dropout probability ``sigmoid(p_logit)``, a 0-d tensor."""
        return torch.sigmoid(self.p_logit)

    @property
    def active(self) -> bool:
        """Whether forward passes drop (training mode, or evaluation with ``mc=True``)."""
        return self.training or self.mc

    def noise_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        """The shape of the mask for input ``x``: ``x.shape`` (every element independently)."""
        return tuple(x.shape)

    def keep_mask(self, shape: Sequence[int], device=None, dtype=None) -> torch.Tensor:
        """A relaxed keep mask ``1 - drop`` of ``shape``, values in [0, 1].

        Its mean is about ``1 - p`` at low temperature (exactly so as ``t -> 0``); a warmer
        relaxation pulls it towards 1/2.
        """
        dtype = dtype or self.p_logit.dtype
        u = torch.rand(tuple(shape), device=device or self.p_logit.device, dtype=dtype)
        u = u.clamp(self.eps, 1.0 - self.eps)
        drop_logit = (self.p_logit.to(dtype) + torch.log(u) - torch.log1p(-u)) / self.temperature
        return torch.sigmoid(-drop_logit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.active:
            keep = self.keep_mask(self.noise_shape(x), device=x.device, dtype=x.dtype)
            x = x * keep / (1.0 - self.p.to(x.dtype))
        return self.layer(x)

    def regularisation(self) -> torch.Tensor:
        """The 0-d regulariser ``wr ||W||^2 / (1 - p) + dr K (p log p + (1 - p) log(1 - p))``."""
        p = self.p
        weight_term = self.weight_regulariser * self.layer.weight.square().sum() / (1.0 - p)
        # log p and log(1 - p) from the logit, stable for p near 0 or 1.
        negative_entropy = p * F.logsigmoid(self.p_logit) + (1.0 - p) * F.logsigmoid(-self.p_logit)
        return weight_term + self.dropout_regulariser * self.input_dim * negative_entropy

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, weight_regulariser={self.weight_regulariser}, "
            f"dropout_regulariser={self.dropout_regulariser}, mc={self.mc}"
        )


class SpatialConcreteDropout(ConcreteDropout):
    """Concrete dropout of whole channels of a ``Conv1d``'s input (spatial dropout).

    Input ``x`` ``(B, C_in, T)``; the mask has shape ``(B, C_in, 1)``: one relaxed keep value
    per series and channel, the same at every time step. ``input_dim`` in the regulariser is
    ``C_in`` (the number of units that can be dropped). Everything else as
    :class:`ConcreteDropout`.

    The default temperature is 2/3, the default of the spatial concrete-dropout layers of
    Gal's reference code and of the implementation the paper used; the dense layers use 0.1.
    """

    def __init__(
        self, layer: nn.Conv1d, p_init: float = 0.1, temperature: float = 2.0 / 3.0, **kwargs: Any
    ) -> None:
        if not isinstance(layer, nn.Conv1d):
            raise TypeError(f"spatial concrete dropout wraps nn.Conv1d, got {type(layer).__name__}")
        super().__init__(layer, p_init=p_init, temperature=temperature, **kwargs)

    def noise_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        if x.dim() != 3:
            raise ValueError(f"spatial concrete dropout expects (B, C, T), got {tuple(x.shape)}")
        return (x.shape[0], x.shape[1], 1)


def concrete_dropout_modules(module: nn.Module) -> Iterator[ConcreteDropout]:
    """Every :class:`ConcreteDropout` inside ``module`` (itself included)."""
    return (m for m in module.modules() if isinstance(m, ConcreteDropout))


def concrete_dropout_regularisation(module: nn.Module) -> torch.Tensor:
    """The sum of the regularisers of every concrete dropout inside ``module`` (0-d; 0 if none)."""
    terms = [m.regularisation() for m in concrete_dropout_modules(module)]
    if not terms:
        reference = next(module.parameters(), None)
        return torch.zeros((), device=None if reference is None else reference.device)
    return torch.stack(terms).sum()


def set_mc_dropout(module: nn.Module, mc: bool) -> nn.Module:
    """Set ``mc`` on every concrete dropout inside ``module`` (False: deterministic in eval)."""
    for m in concrete_dropout_modules(module):
        m.mc = bool(mc)
    return module


# ---------------------------------------------------------------------------------------------
# Boltzmann convolutions
# ---------------------------------------------------------------------------------------------


class CausalConv1d(nn.Conv1d):
    """A ``Conv1d`` left-padded with ``dilation * (kernel_size - 1)`` zeros (causal, eqs. 3-4).

    ``(B, C_in, T) -> (B, C_out, T)``; the output at ``t`` sees only inputs at
    ``t, t - d, ..., t - d (K - 1)`` (zeros before the start). Torch's convolution is a
    cross-correlation: ``out(t) = sum_k w[k] x(t - d (K - 1 - k))``, so the paper's filter
    ``W(j)`` (eq. 3: ``W * x(t) = sum_j W(j) x(t - d j)``) is ``w[K - 1 - j]``: the torch
    weight is the paper's filter reversed.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            int(kernel_size),
            dilation=int(dilation),
            groups=groups,
            bias=bias,
        )
        self.left_padding = int(dilation) * (int(kernel_size) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(F.pad(x, (self.left_padding, 0)), self.weight, self.bias)


def hand_crafted_filters(length: int) -> np.ndarray:
    """The decreasing, increasing and peak filters of eqs. 8-10, ``(3, length)`` float64.

    Row ``r``, column ``j`` is ``W_r(j)``, the weight of ``x(t - d j)`` in eq. 3 (column 0
    multiplies the current step)::

        decreasing (8): (-1)^(j + 1)          -> -1, 1, -1, ...
        increasing (9): (-1)^j                ->  1, -1, 1, ...
        peak (10), n = (h - 3) / 3 = h / 3 - 1:
            -3/h * C(n, j)                for 0 <= j <= n
             6/h * C(n, j - h/3)          for h/3 <= j <= 2n + 1
            -3/h * C(n, j - 2n - 2)       for 2n + 2 <= j <= h - 1

    i.e. three blocks of the ``n``-th row of Pascal's triangle, weighted -3/h, 6/h, -3/h (the
    filter sums to zero). Length 3 gives the worked example of Sec. 2.1:
    ``[-1, 1, -1]``, ``[1, -1, 1]``, ``[-1, 2, -1]``; length 6 gives the peak
    ``[-1/2, -1/2, 1, 1, -1/2, -1/2]``. The peak filter needs a length divisible by 3 (all of
    the paper's lengths are).

    Sign convention: the decreasing filter of length 2 is ``x(t - 1) - x(t)``, positive where
    the series decreases (with the causal index order of eq. 3).
    """
    h = int(length)
    if h < 3 or h % 3:
        raise ValueError(
            f"the peak filter (eq. 10) needs a length divisible by 3 and >= 3, got {length}"
        )
    j = np.arange(h)
    decreasing = (-1.0) ** (j + 1)
    increasing = (-1.0) ** j
    n = h // 3 - 1
    row = np.array([math.comb(n, i) for i in range(n + 1)], dtype=np.float64)
    peak = np.concatenate([-3.0 / h * row, 6.0 / h * row, -3.0 / h * row])
    return np.stack([decreasing, increasing, peak])


class BoltzmannConv1d(nn.Module):
    """A Boltzmann convolutional layer (eqs. 1-4).

    One causal, dilated convolution per filter length ``z_j``; the output is their mixture
    under the Boltzmann distribution of the learned energies ``p`` (eq. 1, 2)::

        P(length = z_j) = softmax(p / T)_j
        BC(x) = sum_j P(length = z_j) * conv_{z_j}(x)

    Each convolution is causal (left zero padding, :class:`CausalConv1d`) with dilation ``d``
    (eqs. 3-4) and, when learnable, wrapped in :class:`SpatialConcreteDropout` (Sec. 2.1). The
    layer is linear: activations are applied by the network around it. The energies start at
    0 (a uniform distribution; our choice, the paper does not say).

    Hand-crafted layer (``hand_crafted=True``, Sec. 3.2): each convolution holds the fixed
    decreasing, increasing and peak filters of its length (:func:`hand_crafted_filters`),
    applied to *each input channel separately* (a depthwise convolution, ``groups =
    in_channels``, no bias): output channel ``3 g + r`` is filter ``r`` (0 decreasing, 1
    increasing, 2 peak) on input channel ``g``, so ``out_channels`` must be
    ``3 * in_channels``. The filters are frozen (``requires_grad=False``), there is no dropout
    (they are not random), and only the energies (and a learned temperature) are trained.

    Parameters
    ----------
    in_channels, out_channels : int
    filter_lengths : sequence of int
        The set ``z`` (default the paper's 3, 6, 12, 18, 24, 30, 36).
    dilation : int
        ``d`` of eqs. 3-4.
    temperature : float
        ``T`` of eq. 1 (> 0; the paper uses 1). Small ``T`` sharpens the distribution towards
        the most energetic length, large ``T`` flattens it towards uniform.
    learn_temperature : bool
        Learn ``log T`` as well.
    hand_crafted : bool
    concrete_dropout : mapping, optional
        Keyword arguments of the :class:`SpatialConcreteDropout` around each learnable
        convolution (``p_init``, ``temperature``, ``weight_regulariser``,
        ``dropout_regulariser``, ``mc``). Ignored when ``hand_crafted``.

    Shapes
    ------
    ``(B, in_channels, T) -> (B, out_channels, T)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_lengths: Sequence[int] = PAPER_FILTER_LENGTHS,
        dilation: int = 1,
        temperature: float = 1.0,
        learn_temperature: bool = False,
        hand_crafted: bool = False,
        concrete_dropout: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        lengths = tuple(int(k) for k in filter_lengths)
        if not lengths or min(lengths) < 1 or len(set(lengths)) != len(lengths):
            raise ValueError(
                f"filter_lengths must be distinct positive integers, got {filter_lengths}"
            )
        if int(dilation) < 1:
            raise ValueError(f"dilation must be >= 1, got {dilation}")
        if float(temperature) <= 0.0:
            raise ValueError(f"the Boltzmann temperature must be > 0, got {temperature}")
        in_channels, out_channels = int(in_channels), int(out_channels)
        if hand_crafted and out_channels != 3 * in_channels:
            raise ValueError(
                f"a hand-crafted Boltzmann layer has 3 filters per input channel: "
                f"out_channels must be {3 * in_channels}, got {out_channels}"
            )
        convolutions: list[nn.Module] = []
        for length in lengths:
            if hand_crafted:
                conv = CausalConv1d(
                    in_channels,
                    out_channels,
                    length,
                    dilation=dilation,
                    groups=in_channels,
                    bias=False,
                )
                filters = torch.from_numpy(
                    np.ascontiguousarray(hand_crafted_filters(length)[:, ::-1])
                )
                weight = (
                    filters.to(conv.weight.dtype).repeat(in_channels, 1).unsqueeze(1)
                )  # (3 C_in, 1, K)
                conv.weight = nn.Parameter(weight, requires_grad=False)
                convolutions.append(conv)
            else:
                conv = CausalConv1d(in_channels, out_channels, length, dilation=dilation)
                convolutions.append(SpatialConcreteDropout(conv, **dict(concrete_dropout or {})))
        self.convolutions = nn.ModuleList(convolutions)
        self.energies = nn.Parameter(torch.zeros(len(lengths)))
        log_temperature = torch.tensor(math.log(float(temperature)))
        if learn_temperature:
            self.log_temperature = nn.Parameter(log_temperature)
        else:
            self.register_buffer("log_temperature", log_temperature)
        self.filter_lengths = lengths
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.dilation = int(dilation)
        self.hand_crafted = bool(hand_crafted)

    @property
    def temperature(self) -> torch.Tensor:
        """``T`` of eq. 1 (0-d tensor)."""
        return self.log_temperature.exp()

    def distribution(self) -> torch.Tensor:
        """``softmax(p / T)`` (eq. 1): ``(len(filter_lengths),)``, differentiable."""
        return torch.softmax(self.energies / self.temperature, dim=0)

    def filter_length_distribution(self) -> np.ndarray:
        """:meth:`distribution` as a float64 array (for plots after training); sums to 1."""
        return self.distribution().detach().cpu().double().numpy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 2: ``(B, in_channels, T) -> (B, out_channels, T)``."""
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"BoltzmannConv1d expects (B, {self.in_channels}, T), got {tuple(x.shape)}"
            )
        probabilities = self.distribution().to(x.dtype)
        out = None
        for j, conv in enumerate(self.convolutions):
            term = probabilities[j] * conv(x)
            out = term if out is None else out + term
        return out

    def regularisation(self) -> torch.Tensor:
        """The sum of the spatial concrete-dropout regularisers (0 for a hand-crafted layer)."""
        return concrete_dropout_regularisation(self)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, filter_lengths={self.filter_lengths}, "
            f"dilation={self.dilation}, hand_crafted={self.hand_crafted}"
        )


# ---------------------------------------------------------------------------------------------
# Welford mean-variance
# ---------------------------------------------------------------------------------------------


def welford_update(
    mean: torch.Tensor, var: torch.Tensor, x: torch.Tensor, n: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of eq. 6: the mean and population variance after the ``n``-th value ``x``.

    ``mean_n = mean_{n-1} + (x_n - mean_{n-1}) / n`` and
    ``s2_n = (1 - 1/n) s2_{n-1} + (x_n - mean_{n-1}) (x_n - mean_n) / n`` (elementwise).
    Since ``x_n - mean_n = (1 - 1/n)(x_n - mean_{n-1})`` the increment is never negative, so
    the variance stays >= 0 in floating point too.
    """
    if n < 1:
        raise ValueError(f"the Welford count starts at 1, got {n}")
    delta = x - mean
    new_mean = mean + delta / n
    new_var = (1.0 - 1.0 / n) * var + delta * (x - new_mean) / n
    return new_mean, new_var


def welford_mean_variance(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and population variance (``ddof=0``) of ``samples`` over dim 0, by eq. 6.

    Runs the online recursion over the ``S`` passes in order (``mean_0 = s2_0 = 0``; after
    the first pass ``mean_1 = x_1``, ``s2_1 = 0``). Differentiable.

    Parameters
    ----------
    samples : Tensor ``(S, *shape)``, S >= 1
        ``S`` stochastic forward passes, e.g. ``(S, B, H)``.

    Returns
    -------
    mean, var : Tensor ``shape``
    """
    if samples.dim() < 1 or samples.shape[0] < 1:
        raise ValueError(
            "welford_mean_variance needs at least one sample along dim 0, "
            f"got {tuple(samples.shape)}"
        )
    mean = torch.zeros_like(samples[0])
    var = torch.zeros_like(samples[0])
    for n in range(1, samples.shape[0] + 1):
        mean, var = welford_update(mean, var, samples[n - 1], n)
    return mean, var


class WelfordMeanVariance(nn.Module):
    """The Welford mean-variance layer (Sec. 2.2, eq. 6).

    Two ways to use it:

    * stateless, as a layer: ``mean, var = layer(samples)`` with ``samples`` ``(S, B, ...)``
      (:func:`welford_mean_variance`);
    * online: ``update(x)`` once per stochastic forward pass, ``x`` ``(B, ...)``, returns the
      running ``(mean, var)`` after that pass; ``reset()`` starts over (e.g. for a new batch).
      The running tensors keep their autograd history; call ``reset()`` or pass detached
      values when that is not wanted.

    The variance is the *population* variance (division by ``n``), as in the paper: it is 0
    after one pass instead of undefined.
    """

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.var: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget every pass seen so far."""
        self.count = 0
        self.mean = None
        self.var = None

    def update(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add one pass ``x`` ``(B, ...)``; the running mean and population variance."""
        if self.mean is None:
            self.mean, self.var = torch.zeros_like(x), torch.zeros_like(x)
        elif self.mean.shape != x.shape:
            raise ValueError(
                f"Welford update of shape {tuple(x.shape)} after passes of shape "
                f"{tuple(self.mean.shape)}; reset() first"
            )
        self.count += 1
        self.mean, self.var = welford_update(self.mean, self.var, x, self.count)
        return self.mean, self.var

    def forward(self, samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(S, B, ...) -> (mean (B, ...), var (B, ...))`` by the recursion of eq. 6."""
        return welford_mean_variance(samples)


# ---------------------------------------------------------------------------------------------
# ForeClassNet
# ---------------------------------------------------------------------------------------------


@dataclass
class ForeClassNetPrediction:
    """What :meth:`ForeClassNet.predict` returns (tensors on the model's device).

    Attributes
    ----------
    class_probabilities : Tensor ``(B, K)``
        The mean over the MC passes of ``softmax(logits)``; rows sum to 1.
    forecast_mean : Tensor ``(B, H * C)``
        Channel-major (``[c * H + h]`` is channel ``c``, step ``m + 1 + h``).
    forecast_variance : Tensor ``(B, H * C)``
        Population variance of the pooled forecast samples, >= 0.
    """

    class_probabilities: torch.Tensor
    forecast_mean: torch.Tensor
    forecast_variance: torch.Tensor


def _dense_stack(widths: Sequence[int], width_in: int, dropout: Mapping[str, Any]) -> nn.ModuleList:
    layers = []
    for width in widths:
        layers.append(ConcreteDropout(nn.Linear(width_in, int(width)), **dropout))
        width_in = int(width)
    return nn.ModuleList(layers)


def _run_dense(layers: nn.ModuleList, x: torch.Tensor, activation) -> torch.Tensor:
    """The dense layers in order, ``activation`` between them (the last one linear)."""
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < len(layers) - 1:
            x = activation(x)
    return x


class ForeClassNet(MultiTaskModel):
    """ForeClassNet (Sec. 3.2, Figure 2): forecast, Welford mean-variance, then classify.

    For ``x`` ``(B, C, m)`` (``m = n_observed`` observed steps)::

        hand-crafted BC (C -> 3C, d = 1) || learnable BC (C -> conv_widths[0], d = 1)
            -> concatenate -> leaky ReLU                              (B, 3C + w_0, m)
        learnable BC (-> conv_widths[l], d = 2^l) -> leaky ReLU,  l = 1, 2, ...
        time-distributed dense layers (concrete dropout, leaky ReLU between them) -> C units:
            the learned representation phi_1..phi_m of the observed series      (B, C, m)
        forecast head: flatten (B, C m) -> dense layers (concrete dropout, ReLU between)
            -> H C outputs: the next H points of every channel                  (B, C H)
        Welford mean-variance (eq. 6) over S = welford_samples stochastic passes of all the
            layers above -> forecast mean and population variance             (B, C, H) each
        concatenate (Sec. 2.2): [phi_t, 0] for t <= m, [mean_t, var_t] for the H future
            steps                                                           (B, 2C, m + H)
        classification head: flatten -> dense layers (concrete dropout, ReLU between) -> K

    The S passes are one forward of the batch repeated S times (every copy draws its own
    dropout masks), so "successive forward passes" cost one batched pass. The representation
    ``phi`` given to the classifier is that of the first pass (one posterior sample, like any
    MC-dropout forward); the observed steps' variance column is 0 (they are observed).
    Concrete dropout stays active in evaluation mode (MC dropout): outputs are random in
    ``eval()`` too; :meth:`predict` averages ``n_samples`` passes.

    Outputs: the forecast task's output is the Welford *mean* forecast ``(B, H C)``,
    flattened channel-major (``[c * H + h]`` = channel ``c``, step ``m + 1 + h``; for one
    channel simply the H future values), trained with MSE against the future values (eq. 7,
    ``beta = 1``); the classification task's output is the logits ``(B, K)`` (categorical
    cross-entropy, ``alpha = 1``). :meth:`regularisation` adds every concrete-dropout
    regulariser, as in the paper.

    Our choices where the text is silent: the Boltzmann layers are linear mixtures (eq. 2)
    and the activation follows the mixture; leaky ReLU (slope 0.01) after the Boltzmann
    layers and between the time-distributed dense layers, ReLU inside the two heads; the
    representation layer and both output layers are linear; energies start at 0 (uniform).

    Training as in the paper: ``TrainingConfig(optimizer="adam", weight_decay=0.0)`` (the
    concrete-dropout weight term already is the L2 prior; the project default is AdamW with
    weight decay 1e-2) and the ``equal`` task weighting (``alpha = beta = 1``).

    Padding: ``lengths`` is accepted, but only full-length series (``lengths`` None or all
    ``m``) are supported; padded input raises ``NotImplementedError``. The flatten layers fix
    the length to ``m`` anyway, and masking a causal Boltzmann stack was not worth it for the
    full-length simulations the model is meant for.

    Parameters
    ----------
    in_channels : int
        ``C``.
    tasks : mapping name -> TaskSpec
        Exactly one ``regression`` task (the forecast, ``n_outputs = H * C``) and one
        ``classification`` task (``K`` classes).
    n_observed : int
        ``m``, the length of every input series.
    filter_lengths : sequence of int
        ``z`` of every Boltzmann layer (paper: 3, 6, 12, 18, 24, 30, 36; the hand-crafted
        layer needs lengths divisible by 3).
    conv_widths : sequence of int
        Filters of the learnable Boltzmann layers: ``conv_widths[0]`` is the one parallel to
        the hand-crafted layer (dilation 1), each further entry one more layer with the
        dilation doubled (2, 4, ...). Default ``(16, 16, 16)``: our choice.
    dense_widths : sequence of int
        Hidden widths of the time-distributed dense layers before the ``C``-unit output.
        Default ``(32,)``: our choice.
    forecast_hidden : sequence of int
        Hidden widths of the forecast head. Default ``(64,)``: our choice.
    class_hidden : sequence of int
        Hidden widths of the classification head. Default ``(32,)``: our choice.
    welford_samples : int
        ``S``, stochastic passes per forward for the Welford layer (>= 1; with 1 the variance
        is 0). Default 10: our choice (the paper gives no number).
    predict_samples : int
        Default ``n_samples`` of :meth:`predict` (30: our choice).
    boltzmann_temperature : float
        ``T`` of eq. 1 (paper: 1).
    learn_temperature : bool
        Learn ``T`` in every Boltzmann layer (paper: no).
    p_init : float
        Initial dropout probability of every concrete dropout (0.1, the reference
        implementation's default).
    dropout_temperature : float
        Concrete temperature of the dense layers' dropout (0.1).
    spatial_dropout_temperature : float
        Concrete temperature of the convolutions' spatial dropout (2/3, the reference
        implementation's default for spatial dropout).
    weight_regulariser, dropout_regulariser : float
        Of every concrete dropout (1e-6, 1e-5: the reference implementation's defaults;
        Gal et al. suggest ``l^2 / N`` and ``2 / N``).
    mc_dropout : bool
        Keep dropout active in evaluation mode (True: the paper's MC dropout).
    negative_slope : float
        Of the leaky ReLUs (paper: 0.01).

    Paper-like sizes for a GPU (Figure 2's node counts are not in the text, so these are our
    estimate, not the paper's numbers): ``conv_widths=(64, 64, 64, 64)``,
    ``dense_widths=(64, 32)``, ``forecast_hidden=(128,)``, ``class_hidden=(128, 64)``,
    ``welford_samples=30``, Adam, batch 64, 100 epochs (Sec. 4).
    """

    def __init__(
        self,
        in_channels: int,
        tasks: Mapping[str, TaskSpec],
        n_observed: int,
        *,
        filter_lengths: Sequence[int] = PAPER_FILTER_LENGTHS,
        conv_widths: Sequence[int] = (16, 16, 16),
        dense_widths: Sequence[int] = (32,),
        forecast_hidden: Sequence[int] = (64,),
        class_hidden: Sequence[int] = (32,),
        welford_samples: int = 10,
        predict_samples: int = 30,
        boltzmann_temperature: float = 1.0,
        learn_temperature: bool = False,
        p_init: float = 0.1,
        dropout_temperature: float = 0.1,
        spatial_dropout_temperature: float = 2.0 / 3.0,
        weight_regulariser: float = 1e-6,
        dropout_regulariser: float = 1e-5,
        mc_dropout: bool = True,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__(tasks)
        regression = [name for name, spec in self.tasks.items() if spec.type == "regression"]
        classification = [
            name for name, spec in self.tasks.items() if spec.type == "classification"
        ]
        if len(self.tasks) != 2 or len(regression) != 1 or len(classification) != 1:
            kinds = {name: spec.type for name, spec in self.tasks.items()}
            raise ValueError(
                "ForeClassNet needs exactly one regression (forecast) task and one "
                f"classification task, got {kinds}"
            )
        self.forecast_task, self.class_task = regression[0], classification[0]
        self.in_channels = C = int(in_channels)
        self.n_observed = m = int(n_observed)
        if C < 1 or m < 1:
            raise ValueError(
                f"in_channels and n_observed must be >= 1, got {in_channels}, {n_observed}"
            )
        n_forecast = self.tasks[self.forecast_task].n_outputs
        if n_forecast % C:
            raise ValueError(
                f"the forecast task {self.forecast_task!r} has {n_forecast} outputs, "
                "not a multiple of the "
                f"{C} channels (n_outputs = horizon * in_channels)"
            )
        self.horizon = H = n_forecast // C
        self.n_classes = self.tasks[self.class_task].n_outputs
        conv_widths = [int(w) for w in conv_widths]
        if not conv_widths or min(conv_widths) < 1:
            raise ValueError(f"conv_widths needs at least one positive width, got {conv_widths}")
        if int(welford_samples) < 1 or int(predict_samples) < 1:
            raise ValueError(
                "welford_samples and predict_samples must be >= 1, "
                f"got {welford_samples}, {predict_samples}"
            )
        self.welford_samples = int(welford_samples)
        self.predict_samples = int(predict_samples)
        self.negative_slope = float(negative_slope)

        common = {
            "p_init": p_init,
            "weight_regulariser": weight_regulariser,
            "dropout_regulariser": dropout_regulariser,
            "mc": mc_dropout,
        }
        spatial = {**common, "temperature": spatial_dropout_temperature}
        dense = {**common, "temperature": dropout_temperature}
        boltzmann = {
            "filter_lengths": filter_lengths,
            "temperature": boltzmann_temperature,
            "learn_temperature": learn_temperature,
        }

        # Encoder: hand-crafted || learnable, then learnable layers with the dilation doubling.
        self.hand_crafted = BoltzmannConv1d(C, 3 * C, hand_crafted=True, dilation=1, **boltzmann)
        learnable = [
            BoltzmannConv1d(C, conv_widths[0], dilation=1, concrete_dropout=spatial, **boltzmann)
        ]
        width = 3 * C + conv_widths[0]
        for level, out in enumerate(conv_widths[1:], start=1):
            learnable.append(
                BoltzmannConv1d(
                    width, out, dilation=2**level, concrete_dropout=spatial, **boltzmann
                )
            )
            width = out
        self.learnable = nn.ModuleList(learnable)
        self.time_distributed = _dense_stack([*dense_widths, C], width, dense)
        # Forecast head on the flattened representation, then the Welford layer.
        self.forecast_head = _dense_stack([*forecast_hidden, H * C], C * m, dense)
        self.welford = WelfordMeanVariance()
        # Classification head on [phi, 0 | mean, var] over the m + H positions.
        self.class_head = _dense_stack([*class_hidden, self.n_classes], 2 * C * (m + H), dense)

    # -- the pieces -----------------------------------------------------------------------

    def _leaky(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def _check_input(self, x: torch.Tensor, lengths: torch.Tensor | None) -> None:
        if x.dim() != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.n_observed:
            raise ValueError(
                f"ForeClassNet expects (B, {self.in_channels}, {self.n_observed}), "
                f"got {tuple(x.shape)}"
            )
        if lengths is not None and bool((torch.as_tensor(lengths) != self.n_observed).any()):
            raise NotImplementedError(
                f"ForeClassNet takes full-length series only (every length {self.n_observed}); "
                "padded input is not supported"
            )

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """The learned per-step representation ``phi``: ``x (N, C, m) -> phi (N, C, m)``.

        Causal: ``phi`` at step ``t`` depends on ``x`` at steps ``<= t`` only (the Boltzmann
        layers are causal, the dense layers act on each step alone). One stochastic pass.
        """
        h = torch.cat([self.hand_crafted(x), self.learnable[0](x)], dim=1)
        h = self._leaky(h)
        for layer in self.learnable[1:]:
            h = self._leaky(layer(h))
        steps = _run_dense(self.time_distributed, h.transpose(1, 2), self._leaky)  # (N, m, C)
        return steps.transpose(1, 2)

    def forecast_samples(
        self, x: torch.Tensor, n_samples: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_samples`` (default ``welford_samples``) stochastic forecast passes.

        Returns
        -------
        phi : Tensor ``(B, C, m)``
            The representation of the first pass.
        samples : Tensor ``(S, B, H * C)``
            One forecast per pass (channel-major).
        """
        S = self.welford_samples if n_samples is None else int(n_samples)
        B = x.shape[0]
        phi = self.representation(x.repeat(S, 1, 1))  # copy s of series b at s * B + b
        forecasts = _run_dense(self.forecast_head, phi.flatten(1), torch.relu)
        return phi[:B], forecasts.view(S, B, -1)

    def class_input(self, phi: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
        """The concatenation of Sec. 2.2: ``(B, 2C, m + H)``.

        Channels ``0..C-1`` hold ``phi_1..phi_m`` then the forecast means; channels
        ``C..2C-1`` hold zeros (observed: no variance) then the forecast variances.
        """
        B = phi.shape[0]
        observed = torch.cat([phi, torch.zeros_like(phi)], dim=1)
        future = torch.cat(
            [
                mean.view(B, self.in_channels, self.horizon),
                var.view(B, self.in_channels, self.horizon),
            ],
            dim=1,
        )
        return torch.cat([observed, future], dim=2)

    def _branches(self, x: torch.Tensor, want_class: bool) -> dict[str, torch.Tensor]:
        phi, samples = self.forecast_samples(x)
        mean, var = self.welford(samples)
        out = {"phi": phi, "samples": samples, "mean": mean, "var": var}
        if want_class:
            out["class_input"] = self.class_input(phi, mean, var).flatten(1)
            out["logits"] = _run_dense(self.class_head, out["class_input"], torch.relu)
        return out

    # -- the MultiTaskModel interface ------------------------------------------------------

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        tasks: Sequence[str] | None = None,
    ) -> dict[str, torch.Tensor]:
        """``{forecast_task: mean forecast (B, H C), class_task: logits (B, K)}`` for ``tasks``.

        The forecast branch (``welford_samples`` passes) always runs; the classification head
        only when its task is asked for.
        """
        names = self._check(tasks)
        self._check_input(x, lengths)
        out = self._branches(x, want_class=self.class_task in names)
        result = {}
        for name in names:
            result[name] = out["mean"] if name == self.forecast_task else out["logits"]
        return result

    def features(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None, task: str | None = None
    ) -> torch.Tensor:
        """What a head sees, flattened: ``task=None`` or the forecast task -> ``phi`` ``(B, C m)``
        (one pass); the classification task -> the Sec. 2.2 concatenation ``(B, 2C (m + H))``."""
        self._check_input(x, lengths)
        if task is None or self._check([task])[0] == self.forecast_task:
            return self.representation(x).flatten(1)
        return self._branches(x, want_class=True)["class_input"]

    def shared_parameters(self) -> list[nn.Parameter]:
        """Everything both tasks' losses depend on: the encoder and the forecast head (the
        classifier sees the forecast), trainable ones only (not the hand-crafted filters)."""
        modules = (self.hand_crafted, self.learnable, self.time_distributed, self.forecast_head)
        return [p for module in modules for p in module.parameters() if p.requires_grad]

    def last_shared_parameters(self) -> list[nn.Parameter]:
        """GradNorm's ``W``: the forecast output layer (weight and bias)."""
        return list(self.forecast_head[-1].layer.parameters())

    def regularisation(self) -> torch.Tensor:
        """The sum of every concrete-dropout regulariser (0-d)."""
        return concrete_dropout_regularisation(self)

    # -- inference helpers -----------------------------------------------------------------

    @torch.no_grad()
    def predict(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None, n_samples: int | None = None
    ) -> ForeClassNetPrediction:
        """Monte Carlo prediction over ``n_samples`` forward passes (default ``predict_samples``).

        ``class_probabilities`` is the mean of the passes' softmaxes; the forecast mean and
        variance pool all ``n_samples * welford_samples`` forecast samples (Welford over the
        pooled samples). Dropout is drawn whatever the mode when ``mc_dropout`` is True; with
        ``mc_dropout=False`` in eval mode every pass is the same and the variance is 0.
        """
        self._check_input(x, lengths)
        n = self.predict_samples if n_samples is None else int(n_samples)
        if n < 1:
            raise ValueError(f"n_samples must be >= 1, got {n}")
        probabilities = None
        pooled = []
        for _ in range(n):
            out = self._branches(x, want_class=True)
            p = torch.softmax(out["logits"], dim=-1)
            probabilities = p if probabilities is None else probabilities + p
            pooled.append(out["samples"])
        mean, var = welford_mean_variance(torch.cat(pooled, dim=0))
        return ForeClassNetPrediction(
            class_probabilities=probabilities / n, forecast_mean=mean, forecast_variance=var
        )

    def filter_length_distributions(self) -> dict[str, np.ndarray]:
        """``{layer name: P(filter length)}`` of every Boltzmann layer (e.g. ``"hand_crafted"``,
        ``"learnable.0"``), each a float64 array over ``filter_lengths`` summing to 1."""
        return {
            name: module.filter_length_distribution()
            for name, module in self.named_modules()
            if isinstance(module, BoltzmannConv1d)
        }


__all__ = [
    "PAPER_FILTER_LENGTHS",
    "BoltzmannConv1d",
    "CausalConv1d",
    "ConcreteDropout",
    "ForeClassNet",
    "ForeClassNetPrediction",
    "SpatialConcreteDropout",
    "WelfordMeanVariance",
    "concrete_dropout_modules",
    "concrete_dropout_regularisation",
    "hand_crafted_filters",
    "set_mc_dropout",
    "welford_mean_variance",
    "welford_update",
]
