"""Task specs and the masked task losses (partial labels are masked, never imputed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tsmtl.tasks import TaskSpec, specs_from_params, task_loss


def test_classification_loss_is_torch_cross_entropy_over_the_labelled_cases():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 1.0]], requires_grad=True)
    spec = TaskSpec("c", "classification", 3)
    full = torch.tensor([0, 2, 1, 1])
    # every case labelled: exactly F.cross_entropy (bit for bit: Table I's numbers rely on it)
    assert torch.equal(task_loss(spec, logits, full), F.cross_entropy(logits, full))
    partial = torch.tensor([0, -1, 1, -1])
    expected = -(math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-1))) + math.log(math.exp(3) / (1 + math.exp(3) + math.e))) / 2
    assert task_loss(spec, logits, partial).item() == pytest.approx(expected, rel=1e-6)
    nothing = task_loss(spec, logits, torch.full((4,), -1))
    assert nothing.item() == 0.0
    nothing.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))  # no label: no gradient, no NaN


def test_class_weights_and_balanced_resolution():
    spec = TaskSpec("c", "classification", 2, class_weights=[1.0, 3.0])
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1])
    ce = F.cross_entropy(logits, y, reduction="none")
    assert task_loss(spec, logits, y).item() == pytest.approx(float((ce[0] + 3 * ce[1]) / 4))
    balanced = TaskSpec("c", "classification", 2, class_weights="balanced").resolve_class_weights(np.array([0, 0, 0, 1, -1]))
    assert balanced.class_weights == pytest.approx((4 / 6, 4 / 2))
    binary = TaskSpec("b", "binary", class_weights="balanced").resolve_class_weights(np.array([0, 0, 0, 1, np.nan]))
    assert binary.class_weights == pytest.approx(3.0)
    with pytest.raises(ValueError, match="positive training labels"):
        TaskSpec("b", "binary", class_weights="balanced").resolve_class_weights(np.zeros(3))


def test_binary_loss_masks_missing_labels_and_applies_the_positive_weight():
    logits = torch.tensor([0.3, -1.2, 2.0, 0.0])
    target = torch.tensor([1.0, float("nan"), 0.0, 1.0])
    spec = TaskSpec("b", "binary", class_weights=2.0)

    def bce(z, y, w):  # by hand: -(w y log s(z) + (1 - y) log(1 - s(z)))
        s = 1 / (1 + math.exp(-z))
        return -(w * y * math.log(s) + (1 - y) * math.log(1 - s))

    expected = (bce(0.3, 1, 2.0) + bce(2.0, 0, 2.0) + bce(0.0, 1, 2.0)) / 3
    assert task_loss(spec, logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert task_loss(TaskSpec("b", "binary"), logits[:1].reshape(1, 1), target[:1]).item() == pytest.approx(bce(0.3, 1, 1.0), rel=1e-6)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_regression_loss_masks_missing_entries_elementwise(loss):
    output = torch.tensor([[1.0, 2.0], [0.0, -1.0]], requires_grad=True)
    target = torch.tensor([[1.5, float("nan")], [1.0, float("nan")]])
    errors = [0.5, 1.0]
    expected = sum(e**2 for e in errors) / 2 if loss == "mse" else sum(errors) / 2
    value = task_loss(TaskSpec("r", "regression", 2, loss=loss), output, target)
    assert value.item() == pytest.approx(expected)
    value.backward()
    assert output.grad[0, 1] == 0 and output.grad[1, 1] == 0  # missing entries get no gradient
    # one-step regression: (B,) targets for (B, 1) outputs
    assert task_loss(TaskSpec("r", "regression", 1), torch.tensor([[2.0]]), torch.tensor([1.0])).item() == pytest.approx(1.0)


def test_spec_validation_and_yaml():
    specs = specs_from_params([{"name": "sepsis", "type": "binary", "metrics": ["auprc", "auroc"]}, {"name": "HR_next", "type": "regression"}])
    assert specs["sepsis"].loss == "bce" and specs["sepsis"].primary_metric == "auprc"
    assert specs["HR_next"].loss == "mse" and specs["HR_next"].metrics == ("mae", "mse")
    with pytest.raises(ValueError, match="listed twice"):
        specs_from_params([{"name": "a", "type": "binary"}, {"name": "a", "type": "binary"}])
    with pytest.raises(ValueError, match="unknown keys \\['loss_weight'\\]"):
        TaskSpec.from_params({"name": "a", "type": "binary", "loss_weight": 2})
    with pytest.raises(ValueError, match="does not fit a classification task"):
        TaskSpec("a", "classification", 3, loss="mse")
    with pytest.raises(ValueError, match="type must be one of"):
        TaskSpec("a", "ranking")
    with pytest.raises(ValueError, match="task names"):
        TaskSpec("a.b", "binary")
    with pytest.raises(ValueError, match="one output"):
        TaskSpec("a", "binary", n_outputs=2)
    with pytest.raises(ValueError, match="one weight per class"):
        TaskSpec("a", "classification", 3, class_weights=[1.0, 2.0])
