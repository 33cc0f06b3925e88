"""Task weightings against hand computations on a two-task toy model.

The toy: a shared layer ``W`` (2x3), a fixed input ``x`` (3,), ``z = W x`` and per task a head
``v_t`` (2,) with ``L_t = 0.5 * (v_t . z - y_t)^2``. With ``e_t = v_t . z - y_t``:

* ``dL_t/dW = e_t * outer(v_t, x)`` (so ``||dL_t/dW|| = |e_t| ||v_t|| ||x||``),
* ``dL_t/dv_t = e_t * z``.

``W = [[0.5, -0.2, 0.1], [0.3, 0.4, -0.6]]`` and ``x = (1, 2, 1)`` give ``z = (0.2, 0.5)``.
The expected values below are written from these formulas, never from the module's code.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tsmtl.training.weighting import (
    WEIGHTINGS,
    DynamicWeightAverage,
    GradNorm,
    PCGrad,
    TaskWeighting,
    UncertaintyWeighting,
    build_weighting,
    register_weighting,
)

X = torch.tensor([1.0, 2.0, 1.0])
W0 = [[0.5, -0.2, 0.1], [0.3, 0.4, -0.6]]
Z = torch.tensor([0.2, 0.5])  # W0 @ X, by hand
V_A = [1.0, 0.5]  # v_a . z = 0.45
V_B_CONFLICT = [-1.0, 0.2]  # v_b . z = -0.1; v_a . v_b = -0.9 < 0
V_B_AGREE = [1.0, 0.2]  # v_b . z = 0.3; v_a . v_b = 1.1 > 0
TASKS = ["a", "b"]


class Toy(nn.Module):
    """Hard sharing: ``W`` shared by both tasks, heads ``v_a``, ``v_b``."""

    def __init__(self, v_b=V_B_CONFLICT, y=(-0.55, -2.1)) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.tensor(W0))
        self.heads = nn.ParameterDict(
            {"a": nn.Parameter(torch.tensor(V_A)), "b": nn.Parameter(torch.tensor(v_b))}
        )
        self.y = dict(zip(TASKS, y, strict=True))

    def losses(self, tasks=TASKS) -> dict[str, torch.Tensor]:
        z = self.W @ X
        return {t: 0.5 * (self.heads[t] @ z - self.y[t]) ** 2 for t in tasks}

    def shared_parameters(self):
        return [self.W]

    def last_shared_parameters(self):
        return [self.W]


class SoftToy(nn.Module):
    """Soft sharing: every task has its own trunk ``W_t`` (same formulas per task)."""

    def __init__(self, v_b=V_B_CONFLICT, y=(-0.55, -2.1)) -> None:
        super().__init__()
        self.trunks = nn.ParameterDict({t: nn.Parameter(torch.tensor(W0)) for t in TASKS})
        self.heads = nn.ParameterDict(
            {"a": nn.Parameter(torch.tensor(V_A)), "b": nn.Parameter(torch.tensor(v_b))}
        )
        self.y = dict(zip(TASKS, y, strict=True))

    def losses(self, tasks=TASKS) -> dict[str, torch.Tensor]:
        return {t: 0.5 * (self.heads[t] @ (self.trunks[t] @ X) - self.y[t]) ** 2 for t in tasks}

    def shared_parameters(self):
        return []

    def last_shared_parameters(self):
        return [self.trunks["a"], self.trunks["b"]]


def _hand(v_b=V_B_CONFLICT, y=(-0.55, -2.1)):
    """Per task: e_t, L_t, dL_t/dW (2, 3), dL_t/dv_t (2,), from the formulas."""
    v = {"a": torch.tensor(V_A), "b": torch.tensor(v_b)}
    out = {}
    for t, y_t in zip(TASKS, y, strict=True):
        e = float(v[t] @ Z) - y_t
        out[t] = {
            "e": e,
            "L": 0.5 * e**2,
            "dW": e * torch.outer(v[t], X),
            "dv": e * Z,
            "v": v[t],
        }
    return out


def _close(actual, expected, **kw):
    torch.testing.assert_close(
        torch.as_tensor(actual, dtype=torch.float32),
        torch.as_tensor(expected, dtype=torch.float32),
        **kw,
    )


def test_hand_values_of_the_toy():
    # sanity of the hand formulas used everywhere below: e_a = 1, e_b = 2
    h = _hand()
    assert h["a"]["e"] == pytest.approx(1.0) and h["b"]["e"] == pytest.approx(2.0)
    model = Toy()
    losses = model.losses()
    _close(losses["a"], 0.5)
    _close(losses["b"], 2.0)


# --------------------------------------------------------------------------------------- equal


def test_equal_is_the_sum_of_the_losses():
    model = Toy()
    weighting = build_weighting("equal", TASKS)
    logs = weighting.backward(model.losses(), model)
    h = _hand()
    _close(model.W.grad, h["a"]["dW"] + h["b"]["dW"])
    _close(model.heads["a"].grad, h["a"]["dv"])
    _close(model.heads["b"].grad, h["b"]["dv"])
    _close(logs["loss/total"], 0.5 + 2.0)
    assert logs["weight/a"].item() == 1.0 and logs["weight/b"].item() == 1.0
    assert set(logs) == {"weight/a", "weight/b", "loss/total"}
    assert not logs["loss/total"].requires_grad
    assert list(weighting.parameters()) == []


def test_equal_with_one_task_is_exactly_loss_backward():
    model, reference = Toy(), Toy()
    logs = build_weighting("equal", TASKS).backward(model.losses(["b"]), model)
    reference.losses(["b"])["b"].backward()
    assert torch.equal(model.W.grad, reference.W.grad)
    assert torch.equal(model.heads["b"].grad, reference.heads["b"].grad)
    assert model.heads["a"].grad is None
    assert set(logs) == {"weight/b", "loss/total"}


def test_backward_accumulates_into_existing_grads():
    model = Toy()
    model.W.grad = torch.ones(2, 3)
    build_weighting("equal", TASKS).backward(model.losses(["a"]), model)
    _close(model.W.grad, torch.ones(2, 3) + _hand()["a"]["dW"])


# ---------------------------------------------------------------------------------------- size


def test_size_weights_for_sizes_30_10():
    model = Toy()
    weighting = build_weighting("size", TASKS, task_sizes={"a": 30, "b": 10})
    weights = weighting.weights(model.losses())
    # K * n_t / sum n = 2 * 30/40, 2 * 10/40
    _close(weights["a"], 1.5)
    _close(weights["b"], 0.5)
    logs = weighting.backward(model.losses(), model)
    h = _hand()
    _close(model.W.grad, 1.5 * h["a"]["dW"] + 0.5 * h["b"]["dW"])
    _close(model.heads["a"].grad, 1.5 * h["a"]["dv"])
    _close(model.heads["b"].grad, 0.5 * h["b"]["dv"])
    _close(logs["loss/total"], 1.5 * 0.5 + 0.5 * 2.0)
    _close(logs["weight/a"], 1.5)


def test_size_one_task_step_and_three_tasks():
    model = Toy()
    weighting = build_weighting("size", TASKS, task_sizes={"a": 30, "b": 10})
    logs = weighting.backward(model.losses(["b"]), model)
    _close(model.W.grad, 0.5 * _hand()["b"]["dW"])
    _close(logs["weight/b"], 0.5)
    three = build_weighting("size", ["p", "q", "r"], task_sizes={"p": 1, "q": 2, "r": 5})
    weights = three.weights({t: torch.tensor(1.0) for t in ["p", "q", "r"]})
    _close([weights[t] for t in "pqr"], [3 / 8, 6 / 8, 15 / 8])


def test_size_needs_every_task_size():
    with pytest.raises(ValueError, match="task_sizes for every task.*'b'"):
        build_weighting("size", TASKS, task_sizes={"a": 3})
    with pytest.raises(ValueError, match="task_sizes"):
        build_weighting("size", TASKS)
    with pytest.raises(ValueError, match="positive"):
        build_weighting("size", TASKS, task_sizes={"a": 3, "b": 0})
    with pytest.raises(ValueError, match="unknown task"):
        build_weighting("size", TASKS, task_sizes={"a": 3, "b": 1, "c": 2})


# --------------------------------------------------------------------------------- uncertainty


def test_uncertainty_gradients_wrt_s_and_network():
    model = Toy()
    weighting = build_weighting("uncertainty", TASKS)
    assert isinstance(weighting, UncertaintyWeighting)
    s = weighting.log_variance
    assert isinstance(s, nn.Parameter) and s.shape == (2,)
    assert torch.equal(s.detach(), torch.zeros(2))  # initialised to 0
    with torch.no_grad():
        s.copy_(torch.tensor([0.5, -0.25]))
    logs = weighting.backward(model.losses(), model)
    h = _hand()
    prec = {"a": 0.5 * math.exp(-0.5), "b": 0.5 * math.exp(0.25)}  # 0.5 * exp(-s_t)
    # d total / d s_t = -0.5 exp(-s_t) L_t + 0.5
    _close(s.grad, [-prec["a"] * 0.5 + 0.5, -prec["b"] * 2.0 + 0.5])
    _close(model.W.grad, prec["a"] * h["a"]["dW"] + prec["b"] * h["b"]["dW"])
    _close(model.heads["a"].grad, prec["a"] * h["a"]["dv"])
    _close(model.heads["b"].grad, prec["b"] * h["b"]["dv"])
    _close(logs["weight/a"], prec["a"])
    _close(logs["weight/b"], prec["b"])
    # total = sum 0.5 exp(-s_t) L_t + 0.5 s_t
    _close(logs["loss/total"], prec["a"] * 0.5 + 0.25 + prec["b"] * 2.0 - 0.125)


def test_uncertainty_one_task_step_touches_only_that_s():
    model = Toy()
    weighting = build_weighting("uncertainty", TASKS)
    weighting.backward(model.losses(["a"]), model)
    # s = 0: d/ds_a = -0.5 * L_a + 0.5 = 0.25, nothing for b
    _close(weighting.log_variance.grad, [0.25, 0.0])
    _close(model.W.grad, 0.5 * _hand()["a"]["dW"])
    assert model.heads["b"].grad is None


# ----------------------------------------------------------------------------------------- dwa


def _dwa_expected(ratios, temperature=2.0):
    exps = [math.exp(r / temperature) for r in ratios]
    return [len(ratios) * e / sum(exps) for e in exps]


def test_dwa_weights_over_epochs():
    model = Toy()
    weighting = build_weighting("dwa", TASKS)  # T = 2
    assert weighting.temperature == 2.0
    losses = model.losses()
    # epoch 0: no history
    assert [weighting.weights(losses)[t].item() for t in TASKS] == [1.0, 1.0]
    weighting.end_epoch(0, {"a": 1.0, "b": 2.0})
    # epoch 1: one epoch of history only
    assert [weighting.weights(losses)[t].item() for t in TASKS] == [1.0, 1.0]
    weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
    # epoch 2: r_a = 0.5 / 1.0, r_b = 1.8 / 2.0
    w2 = [
        2 * math.exp(0.25) / (math.exp(0.25) + math.exp(0.45)),
        2 * math.exp(0.45) / (math.exp(0.25) + math.exp(0.45)),
    ]
    assert w2 == pytest.approx(_dwa_expected([0.5, 0.9]))
    logs = weighting.backward(model.losses(), model)
    _close([logs["weight/a"], logs["weight/b"]], w2)
    h = _hand()
    _close(model.W.grad, w2[0] * h["a"]["dW"] + w2[1] * h["b"]["dW"])
    _close(model.heads["b"].grad, w2[1] * h["b"]["dv"])
    _close(logs["loss/total"], w2[0] * 0.5 + w2[1] * 2.0)
    # the weights are fixed during the epoch: a second step uses the same
    logs_again = weighting.backward(model.losses(), model)
    assert torch.equal(logs_again["weight/a"], logs["weight/a"])
    weighting.end_epoch(2, {"a": 0.4, "b": 1.0})
    # epoch 3: r_a = 0.4 / 0.5, r_b = 1.0 / 1.8
    w3 = weighting.weights(losses)
    _close([w3["a"], w3["b"]], _dwa_expected([0.8, 1.0 / 1.8]))
    assert sum(v.item() for v in w3.values()) == pytest.approx(2.0)


def test_dwa_temperature_and_one_task_step():
    model = Toy()
    weighting = build_weighting("dwa", TASKS, temperature=0.5)
    weighting.end_epoch(0, {"a": 1.0, "b": 2.0})
    weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
    expected = _dwa_expected([0.5, 0.9], temperature=0.5)
    logs = weighting.backward(model.losses(["b"]), model)
    _close(logs["weight/b"], expected[1])
    _close(model.W.grad, expected[1] * _hand()["b"]["dW"])
    assert "weight/a" not in logs


def test_dwa_task_without_history_gets_weight_one():
    weighting = build_weighting("dwa", ["a", "b", "c"])
    weighting.end_epoch(0, {"a": 1.0, "b": 2.0, "c": 3.0})
    weighting.end_epoch(1, {"a": 0.5, "b": 1.8})  # c had no batch this epoch
    ones = {t: torch.tensor(1.0) for t in "abc"}
    weights = weighting.weights(ones)
    _close(weights["c"], 1.0)
    _close([weights["a"], weights["b"]], _dwa_expected([0.5, 0.9]))
    # the epoch after: c has one epoch of history (epoch 2), b and a two
    weighting.end_epoch(2, {"a": 0.4, "b": 1.0, "c": 2.0})
    weights = weighting.weights(ones)
    _close(weights["c"], 1.0)
    _close([weights["a"], weights["b"]], _dwa_expected([0.8, 1.0 / 1.8]))


def test_dwa_epochs_must_increase_and_gaps_drop_history():
    weighting = build_weighting("dwa", TASKS)
    weighting.end_epoch(0, {"a": 1.0, "b": 2.0})
    weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
    with pytest.raises(ValueError, match="epochs must increase"):
        weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
    weighting.end_epoch(3, {"a": 0.4, "b": 1.0})  # epoch 2 never reported: no L(e-2)
    weights = weighting.weights({t: torch.tensor(1.0) for t in TASKS})
    assert [weights[t].item() for t in TASKS] == [1.0, 1.0]
    with pytest.raises(ValueError, match="unknown task"):
        weighting.end_epoch(4, {"a": 1.0, "zzz": 1.0})


def test_dwa_state_dict_round_trip():
    weighting = build_weighting("dwa", TASKS)
    weighting.end_epoch(0, {"a": 1.0, "b": 2.0})
    weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
    restored = build_weighting("dwa", TASKS)
    restored.load_state_dict(weighting.state_dict())
    losses = {t: torch.tensor(1.0) for t in TASKS}
    for t in TASKS:
        assert torch.equal(restored.weights(losses)[t], weighting.weights(losses)[t])
    # the history came along: the next epoch's weights agree as well (and differ from a fresh
    # instance, which lacks L(1))
    fresh = build_weighting("dwa", TASKS)
    for w in (weighting, restored, fresh):
        w.end_epoch(2, {"a": 0.4, "b": 1.0})
    for t in TASKS:
        assert torch.equal(restored.weights(losses)[t], weighting.weights(losses)[t])
    assert fresh.weights(losses)["a"].item() == 1.0
    assert weighting.weights(losses)["a"].item() != 1.0


# ------------------------------------------------------------------------------------ gradnorm


def _gradnorm_hand(w, h, initial, alpha=1.5):
    """w: renormalised weights; h: _hand(); initial: L_t(0). Returns expected d L_grad / d w."""
    norm_x = math.sqrt(1 + 4 + 1)
    n = [abs(h[t]["e"]) * float(h[t]["v"].norm()) * norm_x for t in TASKS]
    G = [w[i] * n[i] for i in range(2)]
    ltilde = [h[t]["L"] / initial[i] for i, t in enumerate(TASKS)]
    r = [lt / (sum(ltilde) / 2) for lt in ltilde]
    target = [(sum(G) / 2) * r[i] ** alpha for i in range(2)]
    # d |G_t - target_t| / d w_t = sign(G_t - target_t) * n_t (target constant)
    grad = [math.copysign(1.0, G[i] - target[i]) * n[i] for i in range(2)]
    assert all(abs(G[i] - target[i]) > 1e-3 for i in range(2))  # the sign is unambiguous
    return grad


def test_gradnorm_first_step_by_hand():
    model = Toy()
    weighting = build_weighting("gradnorm", TASKS)
    assert isinstance(weighting, GradNorm) and weighting.alpha == 1.5
    assert torch.equal(weighting.task_weights.detach(), torch.ones(2))
    assert torch.isnan(weighting.initial_losses).all()
    with torch.no_grad():
        weighting.task_weights.copy_(torch.tensor([3.0, 1.0]))
    logs = weighting.backward(model.losses(), model)
    w = [1.5, 0.5]  # 2 * (3, 1) / 4
    _close(weighting.task_weights.detach(), w)
    _close([logs["weight/a"], logs["weight/b"]], w)
    _close(weighting.initial_losses, [0.5, 2.0])
    h = _hand()
    # first step: L_t(0) = L_t, so r = 1 and target = mean(G):
    # n_a = 1 * ||(1, .5)|| * ||x||, n_b = 2 * ||(-1, .2)|| * ||x||; G = (1.5 n_a, 0.5 n_b)
    n_a = 1.0 * math.sqrt(1.25) * math.sqrt(6)
    n_b = 2.0 * math.sqrt(1.04) * math.sqrt(6)
    G = [1.5 * n_a, 0.5 * n_b]
    mean_g = sum(G) / 2
    expected = [math.copysign(n_a, G[0] - mean_g), math.copysign(n_b, G[1] - mean_g)]
    assert expected == pytest.approx(_gradnorm_hand(w, h, [0.5, 2.0]))
    _close(weighting.task_weights.grad, expected)
    # the network gets the gradient of sum w_t L_t (w detached), nothing from L_grad
    _close(model.W.grad, 1.5 * h["a"]["dW"] + 0.5 * h["b"]["dW"])
    _close(model.heads["a"].grad, 1.5 * h["a"]["dv"])
    _close(model.heads["b"].grad, 0.5 * h["b"]["dv"])
    _close(logs["loss/total"], 1.5 * 0.5 + 0.5 * 2.0)


def test_gradnorm_second_step_uses_the_initial_losses():
    weighting = build_weighting("gradnorm", TASKS, alpha=1.5)
    first = Toy()
    weighting.backward(first.losses(), first)  # L(0) = (0.5, 2.0)
    y2 = (-0.25, -1.1)  # e = (0.7, 1.0): L = (0.245, 0.5)
    model = Toy(y=y2)
    with torch.no_grad():
        weighting.task_weights.copy_(torch.tensor([1.2, 0.4]))  # as after an optimizer step
    weighting.task_weights.grad = None
    logs = weighting.backward(model.losses(), model)
    w = [2 * 1.2 / 1.6, 2 * 0.4 / 1.6]
    _close(weighting.task_weights.detach(), w)
    _close([logs["weight/a"], logs["weight/b"]], w)
    h = _hand(y=y2)
    assert h["a"]["L"] == pytest.approx(0.245) and h["b"]["L"] == pytest.approx(0.5)
    # Ltilde = (0.49, 0.25), r = Ltilde / 0.37, target = mean(G) * r^1.5
    expected = _gradnorm_hand(w, h, [0.5, 2.0])
    _close(weighting.task_weights.grad, expected)
    # discriminating: taking these losses as L(0) (r = 1) would flip both signs
    assert expected == pytest.approx([-v for v in _gradnorm_hand(w, h, [0.245, 0.5])])
    _close(weighting.initial_losses, [0.5, 2.0])  # unchanged after the first step
    _close(model.W.grad, w[0] * h["a"]["dW"] + w[1] * h["b"]["dW"])


def test_gradnorm_alpha_changes_the_target():
    weighting = build_weighting("gradnorm", TASKS, alpha=0.0)
    first = Toy()
    weighting.backward(first.losses(), first)
    weighting.task_weights.grad = None
    with torch.no_grad():
        weighting.task_weights.copy_(torch.tensor([1.5, 0.5]))
    y2 = (-0.25, -1.1)
    model = Toy(y=y2)
    weighting.backward(model.losses(), model)
    # alpha = 0: target = mean(G) whatever the rates
    expected = _gradnorm_hand([1.5, 0.5], _hand(y=y2), [0.5, 2.0], 0.0)
    _close(weighting.task_weights.grad, expected)
    # alpha = 1.5 would give the opposite signs here
    with_rates = _gradnorm_hand([1.5, 0.5], _hand(y=y2), [0.5, 2.0], 1.5)
    assert expected == pytest.approx([-v for v in with_rates])


def test_gradnorm_clamps_positive_and_renormalises_to_k():
    model = Toy()
    weighting = build_weighting("gradnorm", TASKS)
    with torch.no_grad():
        weighting.task_weights.copy_(torch.tensor([-1.0, 2.0]))
    predicted = weighting.weights(model.losses())  # no side effect
    _close(weighting.task_weights.detach(), [-1.0, 2.0])
    logs = weighting.backward(model.losses(), model)
    w = weighting.task_weights.detach()
    assert (w > 0).all()
    _close(w.sum(), 2.0)
    eps = GradNorm.min_weight
    _close(w, [2 * eps / (2 + eps), 4 / (2 + eps)])
    _close(predicted["a"], w[0])
    _close(predicted["b"], w[1])
    # logs are copies: an optimizer step changing w in place does not change them
    with torch.no_grad():
        weighting.task_weights.add_(1.0)
    _close(logs["weight/b"], 4 / (2 + eps))


def test_gradnorm_soft_sharing_uses_each_task_own_last_layer():
    model = SoftToy()
    weighting = build_weighting("gradnorm", TASKS)
    weighting.backward(model.losses(), model)
    h = _hand()
    _close(weighting.task_weights.grad, _gradnorm_hand([1.0, 1.0], h, [0.5, 2.0]))
    _close(model.trunks["a"].grad, h["a"]["dW"])
    _close(model.trunks["b"].grad, h["b"]["dW"])


def test_gradnorm_state_dict_round_trip_restores_initial_losses():
    weighting = build_weighting("gradnorm", TASKS)
    first = Toy()
    weighting.backward(first.losses(), first)
    restored = build_weighting("gradnorm", TASKS)
    restored.load_state_dict(weighting.state_dict())
    assert torch.equal(restored.initial_losses, weighting.initial_losses)
    fresh = build_weighting("gradnorm", TASKS)
    grads = []
    for w in (weighting, restored, fresh):
        w.task_weights.grad = None
        with torch.no_grad():
            w.task_weights.copy_(torch.tensor([1.5, 0.5]))
        model = Toy(y=(-0.25, -1.1))
        w.backward(model.losses(), model)
        grads.append(w.task_weights.grad.clone())
    assert torch.equal(grads[0], grads[1])
    # a fresh one takes these losses as L(0) (r = 1): G - target changes sign for both tasks
    assert torch.equal(torch.sign(grads[0]), -torch.sign(grads[2]))
    _close(grads[0], _gradnorm_hand([1.5, 0.5], _hand(y=(-0.25, -1.1)), [0.5, 2.0]))


def test_gradnorm_errors():
    weighting = build_weighting("gradnorm", TASKS)

    class NoShared(Toy):
        def last_shared_parameters(self):
            return []

    model = NoShared()
    with pytest.raises(ValueError, match="last_shared_parameters"):
        weighting.backward(model.losses(), model)
    with pytest.raises(TypeError, match="last_shared_parameters"):
        weighting.backward(model.losses(), nn.Linear(2, 2))


# -------------------------------------------------------------------------------------- pcgrad


def test_pcgrad_projection_of_two_conflicting_vectors():
    g1 = torch.tensor([1.0, 0.0])
    g2 = torch.tensor([-1.0, 1.0])  # g1 . g2 = -1
    projected = PCGrad.project(torch.stack([g1, g2]))
    # g1 - (-1)/||g2||^2 g2 = (1, 0) + 0.5 (-1, 1); g2 - (-1)/||g1||^2 g1 = (-1, 1) + (1, 0)
    _close(projected[0], [0.5, 0.5])
    _close(projected[1], [0.0, 1.0])
    _close(projected[0] @ g2, 0.0)
    _close(projected[1] @ g1, 0.0)
    # non-conflicting (and zero) gradients are left alone, bit for bit
    agree = torch.tensor([[1.0, 0.3], [0.5, 1.0], [0.0, 0.0]])
    assert torch.equal(PCGrad.project(agree), agree)


def test_pcgrad_three_tasks_random_order_from_global_rng():
    grads = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]])
    # task 0 projected on g1 then g2: (0.5, 0.5, 0) -> . g2 = -0.5 -> + 0.25 g2 = (.25, .5, .25)
    # on g2 then g1: (0.5, 0, 0.5) -> . g1 = -0.5 -> + 0.25 g1 = (.25, .25, .5)
    orders = {(0.25, 0.5, 0.25), (0.25, 0.25, 0.5)}
    seen = set()
    for seed in range(20):
        torch.manual_seed(seed)
        first = PCGrad.project(grads)
        torch.manual_seed(seed)
        assert torch.equal(PCGrad.project(grads), first)
        row = tuple(round(v, 6) for v in first[0].tolist())
        assert row in orders
        seen.add(row)
    assert seen == orders


def test_pcgrad_backward_projects_shared_grads_only():
    model = Toy()  # v_a . v_b < 0 and e_a e_b > 0: the W gradients conflict
    weighting = build_weighting("pcgrad", TASKS)
    logs = weighting.backward(model.losses(), model)
    h = _hand()
    ga, gb = h["a"]["dW"].reshape(-1), h["b"]["dW"].reshape(-1)
    dot = float(ga @ gb)
    assert dot == pytest.approx(1.0 * 2.0 * -0.9 * 6.0)  # e_a e_b (v_a . v_b) ||x||^2 < 0
    ga_pc = ga - dot / float(gb @ gb) * gb
    gb_pc = gb - dot / float(ga @ ga) * ga
    _close(model.W.grad.reshape(-1), ga_pc + gb_pc)
    assert not torch.allclose(model.W.grad.reshape(-1), ga + gb)
    # task-specific grads are not projected
    _close(model.heads["a"].grad, h["a"]["dv"])
    _close(model.heads["b"].grad, h["b"]["dv"])
    assert logs["weight/a"].item() == 1.0 and logs["weight/b"].item() == 1.0
    _close(logs["loss/total"], 2.5)


def test_pcgrad_leaves_agreeing_gradients_alone():
    model, reference = Toy(v_b=V_B_AGREE), Toy(v_b=V_B_AGREE)
    build_weighting("pcgrad", TASKS).backward(model.losses(), model)
    build_weighting("equal", TASKS).backward(reference.losses(), reference)
    assert torch.equal(model.W.grad, reference.W.grad)
    h = _hand(v_b=V_B_AGREE)
    _close(model.W.grad, h["a"]["dW"] + h["b"]["dW"])


def test_pcgrad_soft_sharing_and_one_task_are_equal_weighting():
    model, reference = SoftToy(), SoftToy()
    build_weighting("pcgrad", TASKS).backward(model.losses(), model)
    build_weighting("equal", TASKS).backward(reference.losses(), reference)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad)
    model, reference = Toy(), Toy()
    build_weighting("pcgrad", TASKS).backward(model.losses(["a"]), model)
    reference.losses(["a"])["a"].backward()
    assert torch.equal(model.W.grad, reference.W.grad)


# ------------------------------------------------------------------------- every weighting


def _build(name):
    return build_weighting(name, TASKS, task_sizes={"a": 30, "b": 10})


@pytest.mark.parametrize("name", ["equal", "size", "uncertainty", "dwa", "gradnorm", "pcgrad"])
def test_extra_is_added_with_weight_one(name):
    lam = 0.3

    def run(with_extra):
        model = Toy()
        weighting = _build(name)
        if name == "dwa":
            weighting.end_epoch(0, {"a": 1.0, "b": 2.0})
            weighting.end_epoch(1, {"a": 0.5, "b": 1.8})
        extra = None
        if with_extra:
            # 0.5 * lam * (||W||^2 + ||v_a||^2): gradient lam * W, lam * v_a
            extra = 0.5 * lam * (model.W.pow(2).sum() + model.heads["a"].pow(2).sum())
        logs = weighting.backward(model.losses(), model, extra)
        own = [p.grad.clone() for p in weighting.parameters()]
        return model, logs, own

    plain, plain_logs, plain_own = run(False)
    model, logs, own = run(True)
    _close(model.W.grad - plain.W.grad, lam * torch.tensor(W0))
    _close(model.heads["a"].grad - plain.heads["a"].grad, lam * torch.tensor(V_A))
    _close(model.heads["b"].grad, plain.heads["b"].grad)
    extra_value = 0.5 * lam * (sum(v * v for row in W0 for v in row) + 1.25)
    _close(logs["loss/total"] - plain_logs["loss/total"], extra_value)
    for t in TASKS:
        assert torch.equal(logs[f"weight/{t}"], plain_logs[f"weight/{t}"])
    for g, g_plain in zip(own, plain_own, strict=True):  # the weighting's own grads ignore it
        assert torch.equal(g, g_plain)


@pytest.mark.parametrize("name", ["equal", "size", "uncertainty", "dwa"])
def test_one_task_steps_work(name):
    model = Toy()
    weighting = _build(name)
    for task in TASKS:
        logs = weighting.backward(model.losses([task]), model)
        assert set(logs) == {f"weight/{task}", "loss/total"}
        assert torch.isfinite(model.W.grad).all()


def test_registry_and_joint_batch_flag():
    assert {"equal", "size", "uncertainty", "dwa", "gradnorm", "pcgrad"} <= set(WEIGHTINGS)
    joint = {name for name, cls in WEIGHTINGS.items() if cls.needs_joint_batches}
    assert joint == {"gradnorm", "pcgrad"}
    for name, cls in WEIGHTINGS.items():
        assert cls.name == name
        assert _build(name).name == name
    assert isinstance(build_weighting("dwa", TASKS), DynamicWeightAverage)


def test_a_new_weighting_is_one_class_and_one_registry_line():
    try:

        @register_weighting("first_only")
        class FirstOnly(TaskWeighting):
            def weights(self, losses):
                present = self._present(losses)
                return {t: torch.tensor(1.0 if t == self.tasks[0] else 0.0) for t in present}

        model = Toy()
        logs = build_weighting("first_only", TASKS).backward(model.losses(), model)
        _close(model.W.grad, _hand()["a"]["dW"])
        _close(logs["weight/b"], 0.0)
        with pytest.raises(ValueError, match="already registered"):
            register_weighting("first_only")(FirstOnly)
    finally:
        WEIGHTINGS.pop("first_only", None)


def test_clear_errors():
    model = Toy()
    weighting = build_weighting("equal", TASKS)
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['c'\].*tasks are \['a', 'b'\]"):
        weighting.backward({"a": model.losses()["a"], "c": torch.tensor(1.0)}, model)
    with pytest.raises(ValueError, match="empty"):
        weighting.backward({}, model)
    for name in ("size", "uncertainty", "dwa", "gradnorm", "pcgrad"):
        with pytest.raises(ValueError, match="unknown task"):
            _build(name).backward({"c": torch.tensor(1.0, requires_grad=True)}, model)
    known = str(sorted(WEIGHTINGS))
    with pytest.raises(ValueError, match="unknown task weighting 'nope'") as info:
        build_weighting("nope", TASKS)
    assert known in str(info.value)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['temp'\].*\['temperature'\]"):
        build_weighting("dwa", TASKS, temp=1.0)
    with pytest.raises(ValueError, match="accepts none"):
        build_weighting("equal", TASKS, alpha=1.0)
    with pytest.raises(ValueError, match="temperature"):
        build_weighting("dwa", TASKS, temperature=0)
    with pytest.raises(ValueError, match="temperature"):
        build_weighting("dwa", TASKS, temperature="warm")
    with pytest.raises(ValueError, match="alpha"):
        build_weighting("gradnorm", TASKS, alpha=-1.0)
    with pytest.raises(ValueError, match="unique"):
        build_weighting("equal", ["a", "a"])
    with pytest.raises(ValueError, match="at least one task"):
        build_weighting("equal", [])
    with pytest.raises(TypeError, match="sequence of task names"):
        build_weighting("equal", "ab")


def test_weights_cast_to_the_loss_dtype():
    weighting = build_weighting("size", TASKS, task_sizes={"a": 30, "b": 10})
    weights = weighting.weights({"a": torch.tensor(1.0, dtype=torch.float64)})
    assert weights["a"].dtype == torch.float64
    weights = weighting.weights({"a": torch.tensor(1.0)})
    assert weights["a"].dtype == torch.float32


def test_state_dicts_hold_the_state():
    assert set(_build("uncertainty").state_dict()) == {"log_variance"}
    assert set(_build("gradnorm").state_dict()) == {"task_weights", "initial_losses"}
    assert set(_build("dwa").state_dict()) == {"loss_history", "epoch_weights", "last_epoch"}
    assert _build("size").state_dict() == {}
    assert _build("equal").state_dict() == {}


def test_fixed_weighting_is_alpha_ce_plus_beta_mse_by_hand():
    """ForeClassNet eq. 7: alpha * CE + beta * MSE with weights from the configuration."""
    w = nn.Parameter(torch.tensor(3.0))
    losses = {"class": w * 2.0, "forecast": w**2}  # d/dw: 2 and 2w = 6
    weighting = build_weighting("fixed", ["class", "forecast"], weights={"class": 0.5, "forecast": 2.0})
    logs = weighting.backward(losses, nn.Linear(1, 1), extra=w * 0.1)
    assert logs["loss/total"].item() == pytest.approx(0.5 * 6.0 + 2.0 * 9.0 + 0.3)
    assert w.grad.item() == pytest.approx(0.5 * 2.0 + 2.0 * 6.0 + 0.1)
    assert logs["weight/class"].item() == 0.5 and logs["weight/forecast"].item() == 2.0
    assert build_weighting("fixed", ["a", "b"]).weights({"a": torch.tensor(1.0)})["a"].item() == 1.0  # default 1
    with pytest.raises(ValueError, match="unknown tasks \\['clas'\\]"):
        build_weighting("fixed", ["class", "forecast"], weights={"clas": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        build_weighting("fixed", ["class"], weights={"class": -1.0})
