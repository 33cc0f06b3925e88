"""T-Rep's modules and losses against hand computations and independent libraries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from tsmtl.models.trep import (
    DilatedTCN,
    DivergencePairs,
    ForecastHead,
    ForecastPairs,
    MLPTimeEmbedding,
    RBFTimeEmbedding,
    Time2VecEmbedding,
    TRepEncoder,
    check_task_weights,
    hierarchical_loss,
    instance_contrastive_loss,
    jensen_shannon_divergence,
    temporal_contrastive_loss,
    time_conditioned_forecast_loss,
    time_embedding_divergence_loss,
)


def test_jsd_matches_scipy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7), size=5)
    q = rng.dirichlet(np.ones(7), size=5)
    ours = jensen_shannon_divergence(torch.tensor(p), torch.tensor(q)).numpy()
    # scipy returns the Jensen-Shannon *distance*, the square root of the divergence
    expected = np.array([jensenshannon(a, b) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    assert jensen_shannon_divergence(torch.tensor(p), torch.tensor(p)).abs().max() < 1e-9


@pytest.mark.parametrize("embedding", [Time2VecEmbedding, MLPTimeEmbedding, RBFTimeEmbedding])
def test_time_embeddings_are_distributions(embedding):
    torch.manual_seed(0)
    module = embedding(dims=6)
    tau = module(torch.arange(50, dtype=torch.float32).reshape(2, 25))
    assert tau.shape == (2, 25, 6)
    assert (tau > 0).all()
    torch.testing.assert_close(tau.sum(-1), torch.ones(2, 25))
    assert not torch.allclose(tau[0, 0], tau[0, 20])  # depends on time


def test_rbf_embedding_is_a_radial_basis():
    module = RBFTimeEmbedding(dims=3, scale=10.0)
    with torch.no_grad():
        module.centres.copy_(torch.tensor([2.0, 7.0]))
        module.log_widths.copy_(torch.log(torch.tensor([1.0, 2.0])))
        module.linear.weight.fill_(0.0)
        module.linear.bias.fill_(0.0)
    t = torch.tensor([3.0])
    rbf = torch.tensor([np.exp(-1 / 2), np.exp(-16 / 8)], dtype=torch.float32)
    raw = torch.sigmoid(torch.cat([torch.zeros(1), rbf]))
    torch.testing.assert_close(module(t)[0], raw / raw.sum())


def _hand_contrast(a: np.ndarray, b: np.ndarray) -> float:
    """Cross-entropy with dot-product logits, each row against its twin, self excluded (loops)."""
    z = np.concatenate([a, b])
    n = len(a)
    losses = []
    for row in range(2 * n):
        twin = row + n if row < n else row - n
        logits = np.array([z[row] @ z[col] for col in range(2 * n) if col != row])
        cols = [col for col in range(2 * n) if col != row]
        log_p = logits - np.log(np.exp(logits).sum())
        losses.append(-log_p[cols.index(twin)])
    return float(np.mean(losses))


def test_contrastive_losses_equal_a_hand_computation():
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    instance = np.mean([_hand_contrast(z1[:, t], z2[:, t]) for t in range(4)])
    temporal = np.mean([_hand_contrast(z1[i], z2[i]) for i in range(3)])
    t1, t2 = torch.tensor(z1), torch.tensor(z2)
    assert instance_contrastive_loss(t1, t2).item() == pytest.approx(instance, rel=1e-9)
    assert temporal_contrastive_loss(t1, t2).item() == pytest.approx(temporal, rel=1e-9)
    assert instance_contrastive_loss(t1[:1], t2[:1]).item() == 0.0
    assert temporal_contrastive_loss(t1[:, :1], t2[:, :1]).item() == 0.0


def test_hierarchical_contrastive_loss_over_scales_by_hand():
    rng = np.random.default_rng(2)
    z1, z2 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))

    def pool(z):  # max-pool by 2 along time, floor
        return np.stack([z[:, 2 * k : 2 * k + 2].max(axis=1) for k in range(z.shape[1] // 2)], axis=1)

    scales, total, a, b = 0, 0.0, z1, z2
    while a.shape[1] > 1:  # T = 5, 2, then 1
        total += 0.5 * np.mean([_hand_contrast(a[:, t], b[:, t]) for t in range(a.shape[1])])
        total += 0.5 * np.mean([_hand_contrast(a[i], b[i]) for i in range(a.shape[0])])
        scales += 1
        a, b = pool(a), pool(b)
    total += 0.5 * _hand_contrast(a[:, 0], b[:, 0])
    scales += 1
    loss, parts = hierarchical_loss(torch.tensor(z1), torch.tensor(z2), None, {"instance": 0.5, "temporal": 0.5})
    assert scales == 3
    assert loss.item() == pytest.approx(total / scales, rel=1e-9)
    assert parts["divergence"].item() == 0.0


def test_divergence_and_forecast_tasks_on_given_pairs():
    torch.manual_seed(0)
    z1, z2 = torch.randn(2, 6, 4), torch.randn(2, 6, 4)
    tau = torch.softmax(torch.randn(2, 6, 3), dim=-1)
    pairs = DivergencePairs(torch.tensor([0, 1]), torch.tensor([1, 5]), torch.tensor([1, 0]), torch.tensor([3, 2]))
    head = torch.nn.Linear(4, 1)
    loss = time_embedding_divergence_loss(z1, z2, tau, lambda d: head(d).squeeze(-1), pairs)
    expected = 0.0
    for i, t, j, u in [(0, 1, 1, 3), (1, 5, 0, 2)]:
        pred = head(z1[i, t] - z2[j, u]).item()
        target = jensenshannon(tau[i, t].numpy(), tau[j, u].numpy()) ** 2
        expected += (pred - target) ** 2 / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)

    forecast = ForecastHead(4, 3, hidden=5)
    fp = ForecastPairs(torch.tensor([1, 0]), torch.tensor([2, 4]), torch.tensor([3, -4]), torch.tensor([0, 1]), torch.tensor([1, 1]))
    loss = time_conditioned_forecast_loss(z1, z2, tau, forecast, fp)
    inputs = torch.stack([torch.cat([z1[1, 2], tau[1, 5]]), torch.cat([z2[0, 4], tau[0, 0]])])
    targets = torch.stack([z2[1, 5], z2[0, 0]])
    torch.testing.assert_close(loss, ((forecast(inputs) - targets) ** 2).mean())


def test_pair_samplers_respect_the_papers_conditions():
    torch.manual_seed(0)
    pairs = DivergencePairs.sample(3, 7, 2000, torch.device("cpu"))
    assert (pairs.t != pairs.t_prime).all() and pairs.t.max() < 7 and pairs.t_prime.min() >= 0
    assert set(pairs.i.tolist()) == {0, 1, 2}
    fp = ForecastPairs.sample(3, 7, 2000, max_delta=4, device=torch.device("cpu"))
    target = fp.t + fp.delta
    assert target.min() >= 0 and target.max() < 7 and fp.delta.abs().max() == 4
    assert set(fp.context_in.tolist()) == {0, 1}


def test_task_weights_must_sum_to_one():
    assert check_task_weights({"instance": 0.5, "temporal": 0.5})["forecast"] == 0.0
    with pytest.raises(ValueError, match="sum to 1"):
        check_task_weights({"instance": 0.5})
    with pytest.raises(ValueError, match="unknown pretext"):
        check_task_weights({"instance": 1.0, "contrast": 0.0})
    with pytest.raises(ValueError, match="need time-embeddings"):
        hierarchical_loss(torch.zeros(2, 4, 3), torch.zeros(2, 4, 3), None, {"instance": 0.5, "forecast": 0.5})


def test_padded_batch_equals_each_series_alone():
    torch.manual_seed(0)
    encoder = TRepEncoder(2, repr_dims=4, hidden_dims=3, depth=3, time_embedding="t2v_sin", time_embedding_dims=3).eval()
    x = torch.randn(2, 12, 2)
    valid = torch.ones(2, 12, dtype=torch.bool)
    valid[1, 7:] = False
    time = torch.arange(12.0).expand(2, 12) + torch.tensor([[0.0], [5.0]])
    z, _ = encoder.encode_steps(x, time, valid=valid)
    alone, _ = encoder.encode_steps(x[1:, :7], time[1:, :7])
    torch.testing.assert_close(z[1:, :7], alone, rtol=1e-5, atol=1e-6)


def test_a_masked_step_changes_nothing_beyond_the_receptive_field():
    torch.manual_seed(0)
    encoder = TRepEncoder(1, repr_dims=4, hidden_dims=3, depth=2, time_embedding_dims=3).eval()
    reach = encoder.half_receptive_field
    assert reach == DilatedTCN([1, 1, 1, 1]).half_receptive_field == 2 * (1 + 2 + 4)
    x = torch.randn(1, 60, 1)
    mask = torch.ones(1, 60, dtype=torch.bool)
    mask[0, 30] = False
    full, _ = encoder.encode_steps(x, mask=torch.ones_like(mask))
    masked, _ = encoder.encode_steps(x, mask=mask)
    changed = (full - masked).abs().amax(dim=-1)[0] > 1e-7
    steps = torch.nonzero(changed).flatten()
    assert changed[30] and steps.min() >= 30 - reach and steps.max() <= 30 + reach
    assert changed[30 - reach] or changed[30 + reach]  # the receptive field is not smaller
    # a missing value (NaN) is masked the same way
    nan_x = x.clone()
    nan_x[0, 30] = float("nan")
    torch.testing.assert_close(encoder.encode_steps(nan_x, mask=torch.ones_like(mask))[0], masked)
