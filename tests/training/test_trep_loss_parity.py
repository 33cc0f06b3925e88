"""The fast T-Rep/TS2Vec training step computes the same losses as a plain re-derivation.

``make_step`` and ``hierarchical_loss`` take shortcuts for speed (crops encoded without padding,
the blocks whose dilation exceeds a crop run step by step on the overlap only, custom backward
passes for the Gram matrices and row gathers, the heads' first layers applied to the whole table
of representations). Here everything is recomputed the slow, obvious way -- full zero-padded
convolutions of each crop alone, Python loops over rows, pairs, steps and scales, the heads as
explicit matrix products -- on a fixed batch with fixed crops and the pairs the step drew, and
the loss *and every gradient* must agree (float64).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import tsmtl.models.trep as trep_models
import tsmtl.training.trep as trep_training
from tsmtl.models.trep import (
    TREP_TASK_WEIGHTS,
    TS2VEC_TASK_WEIGHTS,
    DivergencePairs,
    ForecastPairs,
    hierarchical_loss,
)
from tsmtl.training.trep import Crops, TRepConfig, TRepModel, make_step


# ------------------------------------------------------------------------- the re-derivation
def contrast_by_rows(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Mean over the ``2N`` rows of ``[first; second]`` ``(N, F)`` of ``-log softmax`` of the twin
    among the other ``2N - 1`` dot products (TS2Vec eqs. 1-2), one row at a time."""
    rows = torch.cat([first, second])
    n = first.shape[0]
    total = rows.new_zeros(())
    for r in range(2 * n):
        others = [c for c in range(2 * n) if c != r]
        logits = torch.stack([rows[r] @ rows[c] for c in others])
        twin = others.index(r + n if r < n else r - n)
        total = total - (logits[twin] - torch.logsumexp(logits, 0))
    return total / (2 * n)


def mlp(head: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The heads' ``Linear -> ReLU -> Linear`` as explicit products (not the module's forward)."""
    first, _, second = head.net
    return torch.relu(x @ first.weight.T + first.bias) @ second.weight.T + second.bias


def jsd(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    m = (p + q) / 2
    return 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()


def pool_by_hand(h: torch.Tensor) -> torch.Tensor:
    """``(B, T, X)`` -> ``(B, T // 2, X)``: the max of steps ``2s`` and ``2s + 1``."""
    return torch.stack([torch.maximum(h[:, 2 * s], h[:, 2 * s + 1]) for s in range(h.shape[1] // 2)], dim=1)


def loss_by_hand(z1, z2, tau, weights, divergence_head, forecast_head, divergence_pairs, forecast_pairs, temporal_unit=0):
    """T-Rep App. A.2 / TS2Vec Sec. 3.3 with loops, consuming the recorded pairs scale by scale."""
    total, scales = z1.new_zeros(()), 0
    divergence_pairs, forecast_pairs = list(divergence_pairs), list(forecast_pairs)
    while z1.shape[1] > 1:
        b, t = z1.shape[:2]
        if weights["instance"]:
            total = total + weights["instance"] * sum(contrast_by_rows(z1[:, s], z2[:, s]) for s in range(t)) / t
        if scales >= temporal_unit:
            if weights["temporal"]:
                total = total + weights["temporal"] * sum(contrast_by_rows(z1[i], z2[i]) for i in range(b)) / b
            if weights["divergence"]:
                p = divergence_pairs.pop(0)
                errors = []
                for i, s, j, u in zip(p.i.tolist(), p.t.tolist(), p.j.tolist(), p.t_prime.tolist(), strict=True):
                    assert s != u
                    errors.append((mlp(divergence_head, z1[i, s] - z2[j, u])[0] - jsd(tau[i, s], tau[j, u])) ** 2)
                total = total + weights["divergence"] * torch.stack(errors).mean()
            if weights["forecast"]:
                p = forecast_pairs.pop(0)
                contexts = (z1, z2)
                errors = []
                for i, s, d, c_in, c_out in zip(p.i.tolist(), p.t.tolist(), p.delta.tolist(), p.context_in.tolist(), p.context_out.tolist(), strict=True):
                    assert 0 <= s + d < t
                    pred = mlp(forecast_head, torch.cat([contexts[c_in][i, s], tau[i, s + d]]))
                    errors.append(((pred - contexts[c_out][i, s + d]) ** 2).mean())
                total = total + weights["forecast"] * torch.stack(errors).mean()
        scales += 1
        z1, z2 = pool_by_hand(z1), pool_by_hand(z2)
        if tau is not None:
            tau = pool_by_hand(tau)
            tau = tau / tau.sum(-1, keepdim=True)
    if weights["instance"]:
        total = total + weights["instance"] * contrast_by_rows(z1[:, 0], z2[:, 0])
    assert not divergence_pairs and not forecast_pairs  # every drawn pair was used
    return total / (scales + 1)


def encode_alone(encoder, x: torch.Tensor, time: torch.Tensor):
    """One crop ``(B, L, C)`` through the encoder with full zero-padded convolutions (no masking, no dropout)."""
    observed = ~torch.isnan(x).any(-1, keepdim=True)
    u = (torch.nan_to_num(x) @ encoder.input_fc.weight.T + encoder.input_fc.bias) * observed
    tau = None
    if encoder.time_embedding is not None:
        tau = encoder.time_embedding(time)
        u = torch.cat([u, tau], dim=-1)
    h = u.transpose(1, 2)
    for block in encoder.tcn.blocks:
        d = block.conv1.dilation[0]
        residual = h if block.projector is None else F.conv1d(h, block.projector.weight, block.projector.bias)
        g = F.conv1d(F.gelu(h), block.conv1.weight, block.conv1.bias, padding=d, dilation=d)
        h = F.conv1d(F.gelu(g), block.conv2.weight, block.conv2.bias, padding=d, dilation=d) + residual
    return h.transpose(1, 2), tau


# ------------------------------------------------------------------------------------ tests
@pytest.fixture
def recorded_pairs(monkeypatch):
    """Record the pairs that ``hierarchical_loss`` draws (in order, one per scale and task)."""
    drawn = {"divergence": [], "forecast": []}
    for name, cls in (("divergence", DivergencePairs), ("forecast", ForecastPairs)):
        sample = cls.sample.__func__

        def recording(klass, *args, _sample=sample, _name=name, **kwargs):
            pairs = _sample(klass, *args, **kwargs)
            drawn[_name].append(pairs)
            return pairs

        monkeypatch.setattr(cls, "sample", classmethod(recording))
    return drawn


def _assert_same_gradients(fast: dict[str, torch.Tensor], slow: dict[str, torch.Tensor]) -> None:
    assert fast.keys() == slow.keys()
    for name in fast:
        torch.testing.assert_close(fast[name], slow[name], rtol=1e-9, atol=1e-12, msg=name)


@pytest.mark.parametrize(
    ("weights", "b", "t", "n_pairs", "temporal_unit", "large_contrast"),
    [
        (TREP_TASK_WEIGHTS, 3, 11, 40, 0, None),  # 2BT = 66 > 40 pairs at scale 0, fewer rows than pairs after
        (TREP_TASK_WEIGHTS, 2, 9, 7, 1, None),  # the pair rows always fewer than the table's
        ({"instance": 0.1, "temporal": 0.2, "divergence": 0.3, "forecast": 0.4}, 1, 6, 12, 0, None),  # B = 1: no instance contrast
        (TS2VEC_TASK_WEIGHTS, 4, 13, 800, 0, None),
        (TREP_TASK_WEIGHTS, 3, 11, 40, 0, 4),  # the contrasts' backward for long series (two products)
    ],
)
def test_hierarchical_loss_equals_the_loop_rederivation(monkeypatch, recorded_pairs, weights, b, t, n_pairs, temporal_unit, large_contrast):
    if large_contrast is not None:
        monkeypatch.setattr(trep_models, "_LARGE_CONTRAST", large_contrast)
    torch.manual_seed(0)
    z1 = torch.randn(b, t, 5, dtype=torch.float64, requires_grad=True)
    z2 = torch.randn(b, t, 5, dtype=torch.float64, requires_grad=True)
    tau = torch.softmax(torch.randn(b, t, 3, dtype=torch.float64), -1).requires_grad_()
    config = TRepConfig(repr_dims=5, hidden_dims=4, depth=1, time_embedding_dims=3, head_hidden=6, task_weights=weights, time_embedding="mlp")
    model = TRepModel(2, config).double()
    heads = [h for h in (model.divergence_head, model.forecast_head) if h is not None]
    uses_tau = bool(weights["divergence"] or weights["forecast"])
    fast, parts = hierarchical_loss(z1, z2, tau if uses_tau else None, weights, model.divergence_head, model.forecast_head,
                                    temporal_unit=temporal_unit, n_pairs=n_pairs, max_delta=2)
    inputs = {"z1": z1, "z2": z2, **({"tau": tau} if uses_tau else {})}
    params = {f"head{k}.{name}": p for k, h in enumerate(heads) for name, p in h.named_parameters()}
    fast_grads = dict(zip([*inputs, *params], torch.autograd.grad(fast, [*inputs.values(), *params.values()]), strict=True))
    slow = loss_by_hand(z1, z2, tau, weights, model.divergence_head, model.forecast_head,
                        recorded_pairs["divergence"], recorded_pairs["forecast"], temporal_unit)
    slow_grads = dict(zip([*inputs, *params], torch.autograd.grad(slow, [*inputs.values(), *params.values()]), strict=True))
    assert fast.item() == pytest.approx(slow.item(), rel=1e-12)
    assert sum(parts.values()).item() == pytest.approx(fast.item(), rel=1e-12)
    _assert_same_gradients(fast_grads, slow_grads)


@pytest.mark.parametrize(
    ("method", "len_a", "len_b", "overlap"),
    [
        ("trep", 6, 9, 4),  # crop a reaches the step-by-step blocks (dilation 8 >= 6) before crop b
        ("trep", 12, 7, 5),  # crop b does; crop a never does (dilations 1..8 < 12)
        ("ts2vec", 5, 5, 5),  # both crops the whole overlap
    ],
)
def test_training_step_equals_separate_passes_and_the_loop_loss(monkeypatch, recorded_pairs, method, len_a, len_b, overlap):
    """One ``make_step`` against: each crop encoded alone with full convolutions, then the loop loss."""
    settings = {"repr_dims": 4, "hidden_dims": 3, "depth": 3, "batch_size": 3, "n_pairs": 10, "head_hidden": 5, "max_train_length": None}
    config = TRepConfig(time_embedding_dims=2, **settings) if method == "trep" else TRepConfig.ts2vec(**settings)
    torch.manual_seed(0)
    model = TRepModel(2, config).double().train()
    model.encoder.mask_mode = "all_true"  # the random parts of the recipe are off; everything else is the step
    model.encoder.repr_dropout.p = 0.0
    b, t = 3, 20
    x = torch.randn(b, t, 2, dtype=torch.float64)
    x[1, 7, 0] = float("nan")  # a missing value inside both crops
    start_a = torch.tensor([0, 3, 20 - (len_a + len_b - overlap)])
    crops = Crops(start_a, len_a, start_a + len_a - overlap, len_b, overlap)
    monkeypatch.setattr(trep_training, "sample_crops", lambda *args, **kwargs: crops)
    trained = {name: p for name, p in model.named_parameters() if p.requires_grad}  # not the weight average
    assert trained and all(not name.startswith("averaged.") for name in trained)
    loss, _ = make_step(config)(model, x)
    fast = dict(zip(trained, torch.autograd.grad(loss, list(trained.values()), allow_unused=True), strict=True))

    rows = torch.arange(b).unsqueeze(1)
    xa, xb = x[rows, start_a.unsqueeze(1) + torch.arange(len_a)], x[rows, crops.start_b.unsqueeze(1) + torch.arange(len_b)]
    time_a = (start_a.unsqueeze(1) + torch.arange(len_a)).double()
    time_b = (crops.start_b.unsqueeze(1) + torch.arange(len_b)).double()
    za, tau_a = encode_alone(model.encoder, xa, time_a)
    zb, _ = encode_alone(model.encoder, xb, time_b)
    tau = None if tau_a is None else tau_a[:, len_a - overlap :]
    slow_loss = loss_by_hand(za[:, len_a - overlap :], zb[:, :overlap], tau, config.task_weights, model.divergence_head,
                             model.forecast_head, recorded_pairs["divergence"], recorded_pairs["forecast"])
    slow = dict(zip(trained, torch.autograd.grad(slow_loss, list(trained.values()), allow_unused=True), strict=True))
    assert math.isfinite(loss.item())
    assert loss.item() == pytest.approx(slow_loss.item(), rel=1e-12)
    for name in trained:
        assert fast[name] is not None and slow[name] is not None, name  # every weight takes part
        torch.testing.assert_close(fast[name], slow[name], rtol=1e-9, atol=1e-12, msg=name)
