"""Model records of any tsmtl network (tsmtl.training.saved_models.module_record)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsmtl.models.siamese import SiameseResNet1D
from tsmtl.training.saved_models import evaluate_record, module_record, rebuild_model


def test_module_record_rebuilds_the_same_function_after_a_weights_only_round_trip(tmp_path):
    torch.manual_seed(0)
    config = {"in_channels": 2, "widths": [4, 8, 8], "kernel_sizes": [5, 3, 3], "embedding_dim": 6}
    model = SiameseResNet1D(**config)
    with torch.no_grad():  # move the batch-norm statistics away from their defaults
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1)
    model.eval()
    record = module_record(model, config, method="ResNet1D", split_seed=3)
    path = tmp_path / "record.pt"
    torch.save(record, path)
    loaded = torch.load(path, weights_only=True)

    rebuilt = rebuild_model(loaded)
    assert type(rebuilt) is SiameseResNet1D and not rebuilt.training
    assert loaded["method"] == "ResNet1D" and loaded["split_seed"] == 3
    a, b = torch.randn(5, 2, 30), torch.randn(5, 2, 30)
    torch.testing.assert_close(rebuilt(a, b), model(a, b), rtol=0, atol=0)


def test_module_record_refuses_classes_outside_tsmtl_and_configs_that_do_not_fit():
    with pytest.raises(TypeError, match="tsmtl networks only"):
        module_record(nn.Linear(2, 3), {"in_features": 2, "out_features": 3})
    record = module_record(
        SiameseResNet1D(in_channels=1, widths=[4, 4, 4], embedding_dim=3),
        {"in_channels": 1, "widths": [4, 4, 4], "embedding_dim": 3},
    )
    with pytest.raises(ValueError, match="do not fit"):
        rebuild_model({**record, "config": {**record["config"], "embedding_dim": 5}})
    with pytest.raises(ValueError, match="tsmtl classes only"):
        rebuild_model({**record, "class": "os.system"})
    with pytest.raises(ValueError, match="does not have"):
        rebuild_model({**record, "class": "tsmtl.models.siamese.NoSuchNet"})
    with pytest.raises(ValueError, match="multitask classifiers"):
        evaluate_record(record, {})
