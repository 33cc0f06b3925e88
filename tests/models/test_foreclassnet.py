"""ForeClassNet (Coulson & Wells): concrete dropout, Boltzmann convolutions, Welford, network."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tsmtl.models.foreclassnet import (
    BoltzmannConv1d,
    ConcreteDropout,
    ForeClassNet,
    SpatialConcreteDropout,
    WelfordMeanVariance,
    hand_crafted_filters,
    set_mc_dropout,
    welford_mean_variance,
)
from tsmtl.models.sharing import SHARINGS, ModelConfig, build_multitask_model
from tsmtl.tasks import TaskSpec, task_loss

SPECS = {
    "future": TaskSpec("future", "regression", 3 * 2),  # H = 3 steps of C = 2 channels
    "kind": TaskSpec("kind", "classification", 3),
}
TINY = {
    "filter_lengths": (3, 6),
    "conv_widths": (4, 4),
    "dense_widths": (6,),
    "forecast_hidden": (8,),
    "class_hidden": (8,),
    "welford_samples": 4,
    "predict_samples": 5,
}


def _value(tensor: torch.Tensor) -> float:
    return float(tensor.detach())


def _model(seed: int = 0, **overrides) -> ForeClassNet:
    torch.manual_seed(seed)
    return ForeClassNet(2, SPECS, n_observed=12, **{**TINY, **overrides})


# -- Welford (eq. 6) ---------------------------------------------------------------------------


def test_welford_recursion_equals_numpy_mean_and_population_variance():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(7, 5, 3)) * 3.0 + 1.0  # (S, B, H)
    mean, var = welford_mean_variance(torch.from_numpy(samples))
    np.testing.assert_allclose(mean.numpy(), samples.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(var.numpy(), samples.var(axis=0, ddof=0), rtol=1e-12, atol=1e-12)
    # one pass: the mean is the pass, the population variance 0
    one_mean, one_var = welford_mean_variance(torch.from_numpy(samples[:1]))
    np.testing.assert_array_equal(one_mean.numpy(), samples[0])
    np.testing.assert_array_equal(one_var.numpy(), 0.0)


def test_welford_incremental_update_equals_the_batched_recursion():
    samples = torch.randn(6, 4, 2, dtype=torch.float64)
    layer = WelfordMeanVariance()
    for n in range(1, 7):
        mean, var = layer.update(samples[n - 1])
        assert layer.count == n
        torch.testing.assert_close(mean, samples[:n].mean(0))
        torch.testing.assert_close(var, samples[:n].var(0, unbiased=False))
    batched = layer(samples)
    torch.testing.assert_close(mean, batched[0], rtol=0, atol=0)
    torch.testing.assert_close(var, batched[1], rtol=0, atol=0)
    layer.reset()
    assert layer.count == 0 and layer.mean is None
    torch.testing.assert_close(layer.update(samples[3])[0], samples[3])
    with pytest.raises(ValueError, match="reset"):
        layer.update(torch.zeros(3))


def test_welford_is_differentiable():
    samples = torch.randn(5, 3, requires_grad=True)
    mean, var = welford_mean_variance(samples)
    (mean.sum() + var.sum()).backward()
    # d/dx_s of sum(var) = 2 (x_s - mean) / S, of sum(mean) = 1 / S
    expected = 1 / 5 + 2 * (samples.detach() - samples.detach().mean(0)) / 5
    torch.testing.assert_close(samples.grad, expected)


# -- Concrete dropout --------------------------------------------------------------------------


def test_concrete_dropout_regulariser_is_the_formula():
    layer = nn.Linear(4, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(12, dtype=torch.float32).view(3, 4) / 10)
    dropout = ConcreteDropout(layer, p_init=0.3, weight_regulariser=1e-2, dropout_regulariser=1e-1)
    assert _value(dropout.p) == pytest.approx(0.3)
    sum_w2 = sum((i / 10) ** 2 for i in range(12))  # 5.06, the bias is not in it
    expected = 1e-2 * sum_w2 / 0.7 + 1e-1 * 4 * (0.3 * math.log(0.3) + 0.7 * math.log(0.7))
    assert _value(dropout.regularisation()) == pytest.approx(expected, rel=1e-5)
    # spatial: input_dim is the number of channels, the weight term the whole kernel
    conv = nn.Conv1d(5, 2, 3)
    spatial = SpatialConcreteDropout(
        conv, p_init=0.2, weight_regulariser=1e-3, dropout_regulariser=1e-2
    )
    expected = 1e-3 * _value(conv.weight.square().sum()) / 0.8 + 1e-2 * 5 * (
        0.2 * math.log(0.2) + 0.8 * math.log(0.8)
    )
    assert _value(spatial.regularisation()) == pytest.approx(expected, rel=1e-5)


def test_the_dropout_term_is_minimised_at_one_half_and_an_optimiser_step_moves_p():
    dropout = ConcreteDropout(
        nn.Linear(8, 2), p_init=0.1, weight_regulariser=0.0, dropout_regulariser=1.0
    )
    values = []
    for p in (0.1, 0.3, 0.5, 0.7, 0.9):
        with torch.no_grad():
            dropout.p_logit.fill_(math.log(p / (1 - p)))
        values.append(_value(dropout.regularisation()))
    assert min(values) == values[2] == pytest.approx(-8 * math.log(2))
    with torch.no_grad():
        dropout.p_logit.fill_(math.log(0.1 / 0.9))
    optimiser = torch.optim.SGD(dropout.parameters(), lr=0.1)
    before = _value(dropout.p)
    for _ in range(3):
        optimiser.zero_grad()
        dropout.regularisation().backward()
        optimiser.step()
    assert 0.1 == pytest.approx(before) and before < _value(dropout.p) < 0.5


def test_relaxed_mask_lies_in_the_unit_interval_and_keeps_about_one_minus_p():
    torch.manual_seed(0)
    near_binary = ConcreteDropout(nn.Linear(3, 1), p_init=0.3, temperature=0.1)
    mask = near_binary.keep_mask((200_000,))
    assert _value(mask.min()) >= 0.0 and _value(mask.max()) <= 1.0
    assert _value(mask.mean()) == pytest.approx(0.7, abs=0.01)
    # strictly inside (0, 1) where the floating point can show it (float64, t = 2/3)
    smooth = SpatialConcreteDropout(nn.Conv1d(2, 2, 1), p_init=0.3).double()
    smooth_mask = smooth.keep_mask((200_000,))
    assert _value(smooth_mask.min()) > 0.0 and _value(smooth_mask.max()) < 1.0
    # a warmer relaxation pulls the mean keep value from 1 - p towards 1/2 (t -> inf: 1/2)
    assert 0.5 < _value(smooth_mask.mean()) < 0.7 - 0.01

    # the lower the temperature, the closer to a Bernoulli(1 - p) keep mask
    def near_ends(values):
        return _value(((values < 0.05) | (values > 0.95)).float().mean())

    assert near_ends(mask) > 0.85 and near_ends(mask) > near_ends(smooth_mask) + 0.2


def test_dropout_keeps_the_expected_input_and_spatial_dropout_drops_whole_channels():
    torch.manual_seed(1)
    linear = ConcreteDropout(nn.Linear(1, 1, bias=False), p_init=0.4)
    with torch.no_grad():
        linear.layer.weight.fill_(1.0)
    x = torch.full((100_000, 1), 2.0)
    assert _value(linear(x).mean()) == pytest.approx(2.0, abs=0.03)  # inverted dropout: x / (1 - p)
    conv = nn.Conv1d(3, 3, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3).unsqueeze(-1))
    spatial = SpatialConcreteDropout(conv, p_init=0.5, temperature=0.1)
    out = spatial(torch.ones(8, 3, 10))
    torch.testing.assert_close(out, out[..., :1].expand_as(out))  # one mask value per channel


def test_concrete_dropout_stays_active_in_eval_mode_unless_mc_is_false():
    torch.manual_seed(2)
    dropout = ConcreteDropout(nn.Linear(16, 4), p_init=0.3).eval()
    x = torch.randn(5, 16)
    assert not torch.allclose(dropout(x), dropout(x))
    dropout.mc = False
    torch.testing.assert_close(dropout(x), dropout.layer(x), rtol=0, atol=0)
    dropout.train()  # training always drops
    assert not torch.allclose(dropout(x), dropout(x))


# -- Boltzmann convolutions (eqs. 1-4) ---------------------------------------------------------


def _causal_conv(x, conv, dilation):
    """By hand: out(t) = sum_j W(j) x(t - d j), W(j) = torch weight [K - 1 - j], zeros before 0."""
    weight = conv.weight.detach()
    K = weight.shape[-1]
    T = x.shape[-1]
    out = torch.zeros(x.shape[0], weight.shape[0], T, dtype=x.dtype)
    for t in range(T):
        for j in range(K):
            if t - dilation * j >= 0:
                out[:, :, t] += x[:, :, t - dilation * j] @ weight[:, :, K - 1 - j].T
    if conv.bias is not None:
        out += conv.bias.detach()[None, :, None]
    return out


@pytest.mark.parametrize("dilation", [1, 3])
def test_boltzmann_layer_is_the_energy_weighted_sum_of_its_convolutions(dilation):
    torch.manual_seed(3)
    layer = BoltzmannConv1d(2, 5, filter_lengths=(3, 6, 12), dilation=dilation, temperature=2.0)
    set_mc_dropout(layer, False).eval()
    energies = [0.5, -1.0, 2.0]
    with torch.no_grad():
        layer.energies.copy_(torch.tensor(energies))
    weights = np.exp(np.array(energies) / 2.0)
    weights /= weights.sum()  # eq. 1 with T = 2
    np.testing.assert_allclose(layer.filter_length_distribution(), weights, rtol=1e-6)
    assert layer.filter_length_distribution().sum() == pytest.approx(1.0)
    x = torch.randn(4, 2, 30)
    expected = sum(
        w * _causal_conv(x, wrapped.layer, dilation)
        for w, wrapped in zip(weights, layer.convolutions, strict=True)
    )
    out = layer(x)
    assert out.shape == (4, 5, 30)
    torch.testing.assert_close(out, expected.float(), rtol=1e-5, atol=1e-5)


def test_boltzmann_temperature_scales_the_energies():
    layer = BoltzmannConv1d(1, 2, filter_lengths=(3, 6, 12, 18, 24), temperature=1.0)
    energies = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    with torch.no_grad():
        layer.energies.copy_(energies)
    base = layer.filter_length_distribution()
    for T in (0.1, 10.0, 1000.0):
        layer.log_temperature.fill_(math.log(T))
        np.testing.assert_allclose(
            layer.filter_length_distribution(), torch.softmax(energies / T, 0).numpy(), rtol=1e-5
        )
    assert layer.filter_length_distribution() == pytest.approx(
        np.full(5, 0.2), abs=1e-3
    )  # hot: uniform
    layer.log_temperature.fill_(math.log(0.1))
    assert layer.filter_length_distribution()[-1] > base[-1] > 0.5  # cold: the top energy
    learned = BoltzmannConv1d(1, 2, filter_lengths=(3, 6), temperature=0.5, learn_temperature=True)
    assert isinstance(learned.log_temperature, nn.Parameter) and _value(
        learned.temperature
    ) == pytest.approx(0.5)
    assert "log_temperature" not in dict(layer.named_parameters())
    with pytest.raises(ValueError, match="temperature"):
        BoltzmannConv1d(1, 2, temperature=0.0)


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_boltzmann_layer_is_causal(dilation):
    torch.manual_seed(4)
    layer = BoltzmannConv1d(2, 3, filter_lengths=(3, 6, 12), dilation=dilation)
    set_mc_dropout(layer, False).eval()
    x = torch.randn(2, 2, 40)
    base = layer(x)
    for t in (0, 7, 25, 38):
        changed = x.clone()
        changed[..., t + 1 :] = torch.randn_like(changed[..., t + 1 :]) * 5
        out = layer(changed)
        torch.testing.assert_close(out[..., : t + 1], base[..., : t + 1], rtol=0, atol=0)
        if t < 38:
            assert not torch.allclose(out[..., t + 1 :], base[..., t + 1 :])


# -- Hand-crafted filters (eqs. 8-10) ----------------------------------------------------------


def test_length_three_filters_are_the_worked_example():
    np.testing.assert_array_equal(hand_crafted_filters(3), [[-1, 1, -1], [1, -1, 1], [-1, 2, -1]])


def test_longer_peak_filters_follow_the_binomial_formula():
    six = hand_crafted_filters(6)
    np.testing.assert_array_equal(six[0], [-1, 1, -1, 1, -1, 1])  # decreasing (8)
    np.testing.assert_array_equal(six[1], [1, -1, 1, -1, 1, -1])  # increasing (9)
    np.testing.assert_allclose(six[2], [-0.5, -0.5, 1, 1, -0.5, -0.5])  # n = 1: Pascal row 1 1
    # h = 12, n = 3: -3/12 * (1 3 3 1), 6/12 * (1 3 3 1), -3/12 * (1 3 3 1)
    twelve = [-0.25, -0.75, -0.75, -0.25, 0.5, 1.5, 1.5, 0.5, -0.25, -0.75, -0.75, -0.25]
    np.testing.assert_allclose(hand_crafted_filters(12)[2], twelve)
    for h in (3, 6, 12, 18, 24, 30, 36):
        assert hand_crafted_filters(h)[2].sum() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="divisible by 3"):
        hand_crafted_filters(8)


def test_hand_crafted_convolution_reproduces_the_worked_example():
    layer = BoltzmannConv1d(1, 3, filter_lengths=(3,), hand_crafted=True)
    x1, x2, x3, x4, x5, x6 = 0.3, -1.2, 2.5, 0.7, -0.4, 1.9
    out = (
        layer(torch.tensor([[[x1, x2, x3, x4, x5, x6]]], dtype=torch.float32))[0]
        .detach()
        .double()
        .numpy()
    )
    expected = [
        [-x1, x1 - x2, -x3 + x2 - x1, -x4 + x3 - x2, -x5 + x4 - x3, -x6 + x5 - x4],  # W1 * x(i)
        [x1, x2 - x1, x3 - x2 + x1, x4 - x3 + x2, x5 - x4 + x3, x6 - x5 + x4],  # W2 * x(i)
        [
            -x1,
            -x2 + 2 * x1,
            -x3 + 2 * x2 - x1,
            -x4 + 2 * x3 - x2,
            -x5 + 2 * x4 - x3,
            -x6 + 2 * x5 - x4,
        ],  # W3
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_hand_crafted_even_length_filters_run_in_causal_order_per_channel_and_are_frozen():
    layer = BoltzmannConv1d(2, 6, filter_lengths=(6,), hand_crafted=True)
    x = torch.randn(1, 2, 9, dtype=torch.float64)
    out = layer.double()(x)[0]
    a, b = x[0, 0], x[0, 1]
    t = 8
    # eq. 3, W(j) multiplies x(t - j): decreasing of length 6 at t on channel 0
    torch.testing.assert_close(
        out[0, t], -a[t] + a[t - 1] - a[t - 2] + a[t - 3] - a[t - 4] + a[t - 5]
    )
    torch.testing.assert_close(
        out[1, t], a[t] - a[t - 1] + a[t - 2] - a[t - 3] + a[t - 4] - a[t - 5]
    )
    torch.testing.assert_close(
        out[2, t], -0.5 * (a[t] + a[t - 1]) + a[t - 2] + a[t - 3] - 0.5 * (a[t - 4] + a[t - 5])
    )
    # channel g -> outputs 3g..3g+2 (depthwise)
    torch.testing.assert_close(
        out[3, t], -b[t] + b[t - 1] - b[t - 2] + b[t - 3] - b[t - 4] + b[t - 5]
    )
    torch.testing.assert_close(out[3, 2], -b[2] + b[1] - b[0])  # zeros before the start
    # frozen: no gradient to the filters, and no dropout around them; the energies learn
    conv = layer.convolutions[0]
    assert not conv.weight.requires_grad and conv.bias is None
    assert layer.energies.requires_grad
    assert _value(layer.regularisation()) == 0.0
    with pytest.raises(ValueError, match="3 filters per input channel"):
        BoltzmannConv1d(2, 5, hand_crafted=True)


# -- ForeClassNet ------------------------------------------------------------------------------


def test_foreclassnet_output_shapes_and_tasks_asked_for():
    model = _model()
    x = torch.randn(5, 2, 12)
    out = model(x)
    assert out["future"].shape == (5, 6) and out["kind"].shape == (5, 3)
    assert set(model(x, tasks=["future"])) == {"future"}
    assert set(model(x, torch.full((5,), 12), tasks=["kind"])) == {"kind"}
    assert model.features(x).shape == (5, 2 * 12)
    assert model.features(x, task="kind").shape == (5, 2 * 2 * (12 + 3))
    reg = model.regularisation()
    assert reg.dim() == 0 and reg.requires_grad
    with pytest.raises(KeyError, match="unknown tasks"):
        model(x, tasks=["nope"])
    with pytest.raises(NotImplementedError, match="full-length"):
        model(x, torch.tensor([12, 12, 9, 12, 12]))
    with pytest.raises(ValueError, match="expects"):
        model(torch.randn(5, 2, 11))
    with pytest.raises(ValueError, match="exactly one regression"):
        ForeClassNet(2, {"kind": SPECS["kind"]}, n_observed=12)
    with pytest.raises(ValueError, match="multiple"):
        ForeClassNet(4, SPECS, n_observed=12)


def test_foreclassnet_class_input_is_the_paper_concatenation():
    model = _model()
    phi = torch.randn(2, 2, 12)
    mean, var = torch.randn(2, 6), torch.rand(2, 6)
    z = model.class_input(phi, mean, var)
    assert z.shape == (2, 4, 15)
    torch.testing.assert_close(z[:, :2, :12], phi)
    assert torch.all(z[:, 2:, :12] == 0)  # observed: variance 0
    torch.testing.assert_close(z[:, :2, 12:], mean.view(2, 2, 3))  # channel-major forecast
    torch.testing.assert_close(z[:, 2:, 12:], var.view(2, 2, 3))


def test_foreclassnet_forecast_is_the_welford_mean_of_its_passes():
    model = _model().eval()
    x = torch.randn(3, 2, 12)
    torch.manual_seed(7)
    phi, samples = model.forecast_samples(x)
    assert phi.shape == (3, 2, 12) and samples.shape == (4, 3, 6)
    assert samples.std(0).min() > 0  # MC dropout: the passes differ, in eval mode too
    torch.manual_seed(7)
    out = model(x, tasks=["future"])["future"]
    torch.testing.assert_close(out, samples.mean(0))


def test_foreclassnet_representation_is_causal():
    model = set_mc_dropout(_model(conv_widths=(3, 3, 3)), False).eval()  # dilations 1, 2, 4
    x = torch.randn(2, 2, 12)
    base = model.representation(x)
    for t in (0, 4, 10):
        changed = x.clone()
        changed[..., t + 1 :] += torch.randn_like(changed[..., t + 1 :]) * 3
        torch.testing.assert_close(
            model.representation(changed)[..., : t + 1], base[..., : t + 1], rtol=0, atol=0
        )
    # with the masks drawn (same seed, same masks) it is causal as well
    set_mc_dropout(model, True)
    torch.manual_seed(3)
    base = model.representation(x)
    changed = x.clone()
    changed[..., 6:] = 0.0
    torch.manual_seed(3)
    torch.testing.assert_close(
        model.representation(changed)[..., :6], base[..., :6], rtol=0, atol=0
    )


def test_predict_gives_probabilities_and_nonnegative_variances():
    model = _model()
    x = torch.randn(4, 2, 12)
    prediction = model.predict(x, n_samples=6)
    assert prediction.class_probabilities.shape == (4, 3)
    torch.testing.assert_close(prediction.class_probabilities.sum(-1), torch.ones(4))
    assert prediction.forecast_mean.shape == prediction.forecast_variance.shape == (4, 6)
    assert torch.all(prediction.forecast_variance >= 0) and prediction.forecast_variance.max() > 0
    assert not prediction.class_probabilities.requires_grad
    deterministic = set_mc_dropout(_model(), False).eval().predict(x, n_samples=3)
    assert torch.all(deterministic.forecast_variance == 0)
    distributions = model.filter_length_distributions()
    assert set(distributions) == {"hand_crafted", "learnable.0", "learnable.1"}
    for probabilities in distributions.values():
        assert probabilities.shape == (2,) and probabilities.sum() == pytest.approx(1.0)


def test_shared_parameters_are_the_encoder_and_the_forecast_head():
    model = _model()
    shared = {id(p) for p in model.shared_parameters()}
    assert all(p.requires_grad for p in model.shared_parameters())
    assert not any(id(p) in shared for p in model.class_head.parameters())
    assert all(id(p) in shared for p in model.forecast_head.parameters())
    assert id(model.hand_crafted.energies) in shared
    assert not any(id(p) in shared for p in model.hand_crafted.convolutions.parameters())  # frozen
    last = model.last_shared_parameters()
    assert [tuple(p.shape) for p in last] == [(6, 8), (6,)]


def _ar_problem(n: int, m: int, horizon: int, seed: int):
    """Two classes: AR(1) with phi = 0.8 or -0.8; target: the next ``horizon`` values."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    phi = np.where(y == 0, 0.8, -0.8)
    series = np.zeros((n, m + horizon))
    for t in range(1, m + horizon):
        series[:, t] = phi * series[:, t - 1] + rng.normal(scale=0.5, size=n)
    x = torch.tensor(series[:, None, :m], dtype=torch.float32)
    future = torch.tensor(series[:, m:], dtype=torch.float32)
    return x, future, torch.tensor(y)


def test_a_few_adam_steps_reduce_the_foreclassnet_loss():
    specs = {
        "future": TaskSpec("future", "regression", 2),
        "kind": TaskSpec("kind", "classification", 2),
    }
    torch.manual_seed(0)
    model = ForeClassNet(1, specs, n_observed=16, **{**TINY, "conv_widths": (4,)})
    x, future, y = _ar_problem(32, 16, 2, seed=0)

    def loss() -> torch.Tensor:
        torch.manual_seed(123)  # the same dropout masks before and after: a fair comparison
        out = model(x)
        return (
            task_loss(specs["future"], out["future"], future)
            + task_loss(specs["kind"], out["kind"], y)
            + model.regularisation()
        )

    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    with torch.no_grad():
        before = _value(loss())
    energies = model.learnable[0].energies.detach().clone()
    torch.manual_seed(1)
    for _ in range(25):
        optimiser.zero_grad()
        total = loss()
        total.backward()
        optimiser.step()
    with torch.no_grad():
        after = _value(loss())
    assert after < 0.8 * before
    assert not torch.equal(energies, model.learnable[0].energies.detach())  # the energies learn
    assert all(not p.requires_grad or p.grad is not None for p in model.parameters())


def test_build_multitask_model_builds_foreclassnet_through_the_registry():
    assert "foreclassnet" in SHARINGS
    params = {
        "n_observed": 40,
        "conv_widths": [4, 4],
        "filter_lengths": [3, 6],
        "welford_samples": 3,
    }
    model = build_multitask_model(
        ModelConfig(backbone="none", sharing="foreclassnet", sharing_params=params),
        1,
        {
            "next": TaskSpec("next", "regression", 10),
            "kind": TaskSpec("kind", "classification", 2),
        },
    )
    assert isinstance(model, ForeClassNet) and model.horizon == 10 and model.n_observed == 40
    out = model(torch.randn(3, 1, 40), torch.full((3,), 40))
    assert out["next"].shape == (3, 10) and out["kind"].shape == (3, 2)
    with pytest.raises(ValueError, match="n_observed"):
        build_multitask_model(ModelConfig(backbone="none", sharing="foreclassnet"), 1, SPECS)
    with pytest.raises(ValueError, match="does not take"):
        build_multitask_model(
            ModelConfig(
                backbone="none",
                sharing="foreclassnet",
                sharing_params={"n_observed": 4, "widths": 3},
            ),
            2,
            SPECS,
        )


def test_foreclassnet_trains_with_fit_joint():
    from tsmtl.data.joint import JointTaskData
    from tsmtl.training.fit import MethodConfig, TrainingConfig, fit_joint

    def split(n, seed):
        x, future, y = _ar_problem(n, 16, 2, seed)
        return JointTaskData(
            X=x.numpy(),
            lengths=np.full(n, 16),
            targets={"future": future.numpy(), "kind": y.numpy()},
            name=f"ar{seed}",
        )

    specs = {
        "future": TaskSpec("future", "regression", 2),
        "kind": TaskSpec("kind", "classification", 2),
    }
    method = MethodConfig.from_params(
        {
            "backbone": "none",
            "sharing": "foreclassnet",
            "sharing_params": {**TINY, "n_observed": 16, "conv_widths": [4], "welford_samples": 2},
        }
    )
    fit = fit_joint(
        {"train": split(32, 0), "val": split(16, 1), "test": split(16, 2)},
        specs,
        method,
        TrainingConfig(epochs=2, batch_size=16, lr=1e-2, progress=False),
        device="cpu",
    )
    for key in ("accuracy/kind", "mse/future", "loss"):
        assert np.isfinite(fit.scores["test"][key]), key
    assert isinstance(fit.model, ForeClassNet)


def test_regularisation_is_the_sum_over_every_concrete_dropout():
    model = _model()
    layers = [m for m in model.modules() if isinstance(m, ConcreteDropout)]
    # 2 learnable Boltzmann layers x 2 lengths (spatial) + time-distributed 2 + forecast 2 + class 2
    assert len(layers) == 2 * 2 + 2 + 2 + 2
    assert sum(isinstance(m, SpatialConcreteDropout) for m in layers) == 4
    torch.testing.assert_close(
        model.regularisation(), torch.stack([m.regularisation() for m in layers]).sum()
    )
