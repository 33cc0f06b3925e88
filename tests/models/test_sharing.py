"""Multitask architectures: hard, task-specific layers, soft (L2-tied) and task attention (MTAN)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsmtl.models.backbones import build_backbone
from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.sharing import (
    SHARINGS,
    ModelConfig,
    SharedTrunk,
    SoftSharing,
    TaskAttention,
    build_multitask_model,
)
from tsmtl.tasks import TaskSpec

TASKS = {
    "kind": TaskSpec("kind", "classification", 3),
    "alarm": TaskSpec("alarm", "binary"),
    "next": TaskSpec("next", "regression", 4),
}
#: Sharings of a registered backbone over any tasks and padded input (ForeClassNet has its own
#: encoder, one forecast + one class task and full-length input: tests/models/test_foreclassnet.py).
GENERIC_SHARINGS = sorted(set(SHARINGS) - {"foreclassnet"})
BACKBONE_PARAMS = {
    "resnet1d": {"widths": [4, 6], "kernel_sizes": [5, 3, 3]},
    "resnet2d": {"n_templates": 3, "template_length": 7, "width": 4, "n_blocks": 3},
}


def _model(sharing: str, backbone: str = "resnet1d", seed: int = 0, **params) -> nn.Module:
    torch.manual_seed(seed)
    return build_multitask_model(ModelConfig(backbone, BACKBONE_PARAMS[backbone], sharing, params), 2, TASKS)


def _batch(lengths=(16, 11, 7, 16)):
    torch.manual_seed(5)
    x = torch.randn(len(lengths), 2, max(lengths))
    for i, length in enumerate(lengths):
        x[i, :, length:] = 0.0
    return x, torch.tensor(lengths)


@pytest.mark.parametrize("sharing", GENERIC_SHARINGS)
@pytest.mark.parametrize("backbone", ["resnet1d", "resnet2d"])
def test_every_sharing_gives_every_task_its_output_shape(sharing, backbone):
    model = _model(sharing, backbone)
    x, lengths = _batch()
    outputs = model(x, lengths)
    assert outputs["kind"].shape == (4, 3) and outputs["alarm"].shape == (4,) and outputs["next"].shape == (4, 4)
    assert set(model(x, lengths, tasks=["alarm"])) == {"alarm"}
    with pytest.raises(KeyError, match="unknown tasks"):
        model(x, lengths, tasks=["nope"])


@pytest.mark.parametrize("sharing", GENERIC_SHARINGS)
@pytest.mark.parametrize("backbone", ["resnet1d", "resnet2d"])
def test_padding_never_leaks_into_any_sharing(sharing, backbone):
    model = _model(sharing, backbone).eval()
    x, lengths = _batch()
    padded = model(x, lengths)
    for i, length in enumerate(lengths.tolist()):
        alone = model(x[i : i + 1, :, :length], torch.tensor([length]))
        for task in TASKS:
            torch.testing.assert_close(padded[task][i : i + 1], alone[task], rtol=1e-5, atol=1e-6)


def test_hard_sharing_trains_the_shared_trunk_and_only_the_task_heads_used():
    model = _model("hard")
    assert isinstance(model, SharedTrunk) and model.towers is None
    x, lengths = _batch()
    model(x, lengths, tasks=["kind"])["kind"].sum().backward()
    assert all(p.grad is not None for p in model.trunk.parameters())
    assert model.heads["kind"].layers[0].weight.grad is not None
    assert model.heads["alarm"].layers[0].weight.grad is None
    assert {id(p) for p in model.shared_parameters()} == {id(p) for p in model.trunk.parameters()}
    last = model.last_shared_parameters()
    assert last and all(any(p is q for q in model.trunk.parameters()) for p in last)


def test_task_specific_layers_have_towers_of_the_configured_depth():
    model = _model("task_layers", tower_depth=2, tower_width=5)
    linears = [m for m in model.towers["next"] if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(6, 5), (5, 5)]
    x, lengths = _batch()
    assert model.features(x, lengths, task="next").shape == (4, 5)
    assert model.features(x, lengths).shape == (4, 6)  # the shared trunk's features
    with pytest.raises(ValueError, match="tower_depth"):
        _model("task_layers", tower_depth=-1)


def test_soft_sharing_penalty_is_the_pairwise_l2_distance_of_the_trunks():
    model = _model("soft", penalty_weight=0.5)
    assert isinstance(model, SoftSharing) and model.shared_parameters() == []
    trunks = list(model.trunks.values())
    assert len(trunks) == 3 and trunks[0] is not trunks[1]
    names = [n for n, _ in trunks[0].named_parameters()]
    expected = 0.0
    for s in range(3):  # sum over pairs s < t, written out
        for t in range(s + 1, 3):
            for name in names:
                diff = dict(trunks[s].named_parameters())[name] - dict(trunks[t].named_parameters())[name]
                expected += float((diff**2).sum())
    torch.testing.assert_close(model.regularisation(), torch.tensor(0.5 * expected), rtol=1e-5, atol=0)
    model.regularisation().backward()  # the penalty pulls every trunk
    assert all(p.grad is not None for trunk in trunks for p in trunk.parameters())
    # each task's own trunk serves it
    x, lengths = _batch()
    torch.testing.assert_close(model.features(x, lengths, task="next"), model.trunks["next"](x, lengths))
    with pytest.raises(ValueError, match="name a task"):
        model.features(x, lengths)
    # one task: nothing to tie
    single = SoftSharing(lambda: ResNet1D(2, widths=[3]), {"kind": TASKS["kind"]})
    assert single.regularisation() is None


@pytest.mark.parametrize("backbone", ["resnet1d", "resnet2d"])
def test_task_attention_masks_the_shared_maps_per_task(backbone):
    model = _model("attention", backbone).eval()
    assert isinstance(model, TaskAttention)
    x, lengths = _batch()
    shared = model.trunk(x, lengths)
    # every attended feature is the shared feature times a mask in (0, 1): never larger
    for task in TASKS:
        attended = model.features(x, lengths, task=task)
        assert attended.shape == shared.shape
        assert (attended <= shared + 1e-6).all() and (attended >= 0).all()
    # different tasks attend differently (task-specific masks)
    assert not torch.allclose(model.features(x, lengths, task="kind"), model.features(x, lengths, task="next"))
    shared_ids = {id(p) for p in model.shared_parameters()}
    assert all(id(p) in shared_ids for p in model.trunk.parameters())
    assert not any(id(p) in shared_ids for p in model.attention.parameters())


def test_task_attention_needs_feature_maps():
    class Plain(nn.Module):
        out_features = 3

        def forward(self, x, lengths=None):
            return x.mean(-1)

    with pytest.raises(ValueError, match="feature_maps"):
        TaskAttention(Plain(), TASKS, 2)


def test_unknown_sharing_and_parameters_raise():
    with pytest.raises(ValueError, match="unknown sharing 'cross_stitch'"):
        build_multitask_model(ModelConfig(sharing="cross_stitch"), 1, TASKS)
    with pytest.raises(ValueError, match="does not take"):
        build_multitask_model(ModelConfig(sharing="soft", sharing_params={"weight": 1.0}), 1, TASKS)
    with pytest.raises(ValueError, match="takes no parameters"):
        build_multitask_model(ModelConfig(sharing="hard", sharing_params={"tower_depth": 1}), 1, TASKS)


def test_same_seed_same_model():
    a, b = _model("attention", seed=2), _model("attention", seed=2)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), name
    assert build_backbone("resnet1d", 2, BACKBONE_PARAMS["resnet1d"]).out_features == 6
