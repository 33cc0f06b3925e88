"""The backbone contract, run over EVERY registered backbone (aeon-style estimator checks).

A new backbone is one class + one line in ``BACKBONES`` + tiny parameters below: this test then
checks it like every other one.
"""

from __future__ import annotations

import pytest
import torch

from tsmtl.models.backbones import BACKBONES, build_backbone, register_backbone
from tsmtl.models.resnet1d import ResNet1D, masked_mean

#: Tiny parameters of every registered backbone (a backbone missing here fails the contract).
TINY_PARAMS = {
    "resnet1d": {"widths": [4, 6], "kernel_sizes": [5, 3, 3]},
    "resnet2d": {"n_templates": 3, "template_length": 7, "width": 4, "n_blocks": 3},
    "fcn": {"widths": [4, 6, 5], "kernel_sizes": [7, 5, 3]},
    "inception": {"n_filters": 2, "depth": 4, "kernel_sizes": [6, 3, 2], "bottleneck": 3},
    "trep": {"repr_dims": 5, "hidden_dims": 4, "depth": 2, "time_embedding": "t2v_sin", "time_embedding_dims": 3},
    "ts2vec": {"repr_dims": 5, "hidden_dims": 4, "depth": 2},
}
IN_CHANNELS = 2


def _tiny(name: str, seed: int = 0) -> torch.nn.Module:
    assert name in TINY_PARAMS, f"add tiny parameters of backbone {name!r} to TINY_PARAMS"
    torch.manual_seed(seed)
    return build_backbone(name, IN_CHANNELS, TINY_PARAMS[name])


def _batch(lengths=(20, 13, 9, 20), seed=1):
    generator = torch.Generator().manual_seed(seed)
    T = max(lengths)
    x = torch.randn(len(lengths), IN_CHANNELS, T, generator=generator)
    lengths = torch.tensor(lengths)
    for i, length in enumerate(lengths):
        x[i, :, length:] = float("nan")  # padding may hold anything, NaN included
    return x, lengths


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_shapes_and_out_features(name):
    backbone = _tiny(name)
    x, lengths = _batch()
    features = backbone(x, lengths)
    assert features.shape == (4, backbone.out_features)
    assert torch.isfinite(features).all()
    if hasattr(backbone, "forward_steps"):
        steps = backbone.forward_steps(x, lengths)
        assert steps.shape == (4, backbone.out_features, x.shape[-1])
        # the per-step features pooled over the true steps are the features
        mask = torch.arange(x.shape[-1])[None, None, :] < lengths[:, None, None]
        torch.testing.assert_close(masked_mean(steps, mask, dims=(2,)), features)
        assert (steps[1, :, 13:] == 0).all()  # padded steps are zero


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_padded_series_equals_the_cut_series(name):
    backbone = _tiny(name).eval()
    x, lengths = _batch()
    padded = backbone(x, lengths)
    for i, length in enumerate(lengths.tolist()):
        alone = backbone(x[i : i + 1, :, :length], torch.tensor([length]))
        torch.testing.assert_close(padded[i : i + 1], alone, rtol=1e-5, atol=1e-6)
    if hasattr(backbone, "feature_maps"):
        maps = backbone.feature_maps(x, lengths)
        assert maps and all(m.values.shape[1] > 0 for m in maps)
        assert maps[-1].values.shape[1] == backbone.out_features


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_same_seed_same_backbone_and_output(name):
    x, lengths = _batch()
    first, second, other = _tiny(name, 3).eval(), _tiny(name, 3).eval(), _tiny(name, 4).eval()
    torch.testing.assert_close(first(x, lengths), second(x, lengths), rtol=0, atol=0)
    assert not torch.equal(first(x, lengths), other(x, lengths))


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_gradient_reaches_every_parameter(name):
    backbone = _tiny(name).train()
    x, lengths = _batch()
    backbone(x, lengths).square().sum().backward()
    missing = [n for n, p in backbone.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, f"no finite gradient for {missing}"
    assert any(p.grad.abs().sum() > 0 for p in backbone.parameters())


def test_registry_errors_and_registering_a_new_backbone():
    with pytest.raises(ValueError, match="unknown backbone 'lstm'; registered: \\['fcn'"):
        build_backbone("lstm", 1)
    with pytest.raises(ValueError, match="does not take the parameters"):
        build_backbone("resnet1d", 1, {"depth": 3})

    class Wider(ResNet1D):
        pass

    try:
        register_backbone("wider_test", Wider)
        assert isinstance(build_backbone("wider_test", 1, {"widths": [3]}), Wider)
        with pytest.raises(ValueError, match="already registered"):
            register_backbone("wider_test", ResNet1D)
    finally:
        BACKBONES.pop("wider_test", None)
