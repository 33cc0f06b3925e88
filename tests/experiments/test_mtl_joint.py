"""The joint-prediction comparison: grid, Delta_m per seed against single-task, ranks, winner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests.training.test_fit import SPECS as JOINT_SPECS
from tests.training.test_fit import _Joint
from tsmtl.experiments.mtl_joint import (
    SINGLE_TASK,
    best_model,
    grid_methods,
    joint_report,
    plot_task_weights,
    pretrain_trunk,
    pretrained_trunk_methods,
)
from tsmtl.models.trep import TRepEncoder
from tsmtl.tasks import TaskSpec
from tsmtl.training.fit import TrainingConfig, fit_joint

SPECS = {"alarm": TaskSpec("alarm", "binary", metrics=("auprc", "auroc")), "hr": TaskSpec("hr", "regression", metrics=("mae",))}


def _results(values):
    """values: {(model, seed): (auprc, mae)} -> run_grid-like long rows (plus a non-primary metric)."""
    rows = []
    for (model, seed), (auprc, mae) in values.items():
        for task, metric, value in (("alarm", "auprc", auprc), ("alarm", "auroc", 0.5), ("hr", "mae", mae)):
            rows.append({"model": model, "sharing": "-", "weighting": "-", "seed": seed, "task": task, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def test_delta_m_is_per_seed_against_that_seeds_single_task_models():
    results = _results(
        {
            (SINGLE_TASK, 0): (0.20, 10.0),
            (SINGLE_TASK, 1): (0.10, 8.0),
            ("hard + equal", 0): (0.30, 9.0),   # +50 % auprc, +10 % (lower mae)
            ("hard + equal", 1): (0.10, 10.0),  # 0 %, -25 %
            ("soft + equal", 0): (0.20, 10.0),  # 0, 0
            ("soft + equal", 1): (0.12, 8.0),   # +20 %, 0
        }
    )  # fmt: skip
    table, markdown = joint_report(results, SPECS)
    deltas_hard = [(50 + 10) / 2, (0 - 25) / 2]
    assert table.loc["hard + equal", "delta_m"] == pytest.approx(np.mean(deltas_hard))
    assert table.loc["hard + equal", "delta_m std"] == pytest.approx(np.std(deltas_hard, ddof=1))
    assert table.loc["soft + equal", "delta_m"] == pytest.approx(np.mean([0.0, 10.0]))
    assert np.isnan(table.loc[SINGLE_TASK, "delta_m"])
    assert table.loc["hard + equal", "alarm auprc"] == pytest.approx(0.20)
    assert table.loc["hard + equal", "hr mae std"] == pytest.approx(np.std([9.0, 10.0], ddof=1))
    # ranks per task on the seed means: auprc single .15, hard .20, soft .16 -> hard 1, soft 2, single 3
    # mae single 9.0, hard 9.5, soft 9.0 -> single and soft 1.5, hard 3
    assert table.loc["hard + equal", "average_rank"] == pytest.approx((1 + 3) / 2)
    assert table.loc["soft + equal", "average_rank"] == pytest.approx((2 + 1.5) / 2)
    assert table.loc[SINGLE_TASK, "average_rank"] == pytest.approx((3 + 1.5) / 2)
    assert best_model(table) == "hard + equal"
    assert "**hard + equal**" in markdown and "alarm auprc ↑" in markdown and "hr mae ↓" in markdown
    assert "0.200 ± 0.141" in markdown  # hard's auprc over two seeds


def test_without_single_task_runs_there_is_no_delta_m_and_no_winner():
    table, _ = joint_report(_results({("hard + equal", 0): (0.3, 9.0)}), SPECS)
    assert table["delta_m"].isna().all() and best_model(table) is None


def test_grid_is_the_product_or_the_listed_combinations():
    sharings = {"hard": {}, "soft": {"penalty_weight": 0.1}}
    weightings = {"equal": {}, "dwa": {"temperature": 3.0}}
    full = grid_methods("resnet1d", {"widths": [4]}, sharings, weightings)
    assert [label for label, *_ in full] == ["hard + equal", "hard + dwa", "soft + equal", "soft + dwa"]
    soft_dwa = full[3][3]
    assert soft_dwa.model.sharing_params == {"penalty_weight": 0.1} and soft_dwa.weighting_params == {"temperature": 3.0}
    cross = grid_methods("resnet1d", {}, sharings, weightings, combinations=[["soft", "equal"], ["hard", "dwa"]])
    assert [label for label, *_ in cross] == ["soft + equal", "hard + dwa"]
    with pytest.raises(ValueError, match="not \\[sharing, weighting\\] pairs"):
        grid_methods("resnet1d", {}, sharings, weightings, combinations=[["attention", "equal"]])


def test_weights_plot_has_a_panel_per_weighting_of_the_hard_sharing_runs():
    history = pd.DataFrame(
        [
            {"model": f"{s} + {w}", "sharing": s, "weighting": w, "seed": seed, "epoch": e, "task": t, "weight": 1.0 + e * (t == "hr"), "train_loss": 1.0}
            for s in ("hard", "soft") for w in ("equal", "gradnorm") for seed in (0, 1) for e in range(3) for t in ("alarm", "hr")
        ]
    )  # fmt: skip
    figure = plot_task_weights(history)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["hard + equal", "hard + gradnorm"]
    assert len(figure.axes[0].lines) == 2  # one curve per task
    assert list(figure.axes[1].lines[1].get_ydata()) == [1.0, 2.0, 3.0]


def test_pretrained_trep_trunk_frozen_stays_and_finetuned_moves(tmp_path):
    """The self-supervised trunk of issue #9: pretrained on the training inputs only, then loaded."""
    splits = {"train": _Joint(48, 0), "val": _Joint(16, 1), "test": _Joint(16, 2)}
    options = {"method": "trep", "encoder": {"repr_dims": 4, "hidden_dims": 4, "depth": 2, "time_embedding_dims": 3, "batch_size": 8, "iterations": 3, "n_pairs": 16}, "seed": 0}
    path, params = pretrain_trunk(splits["train"].X, options, tmp_path)
    assert path.exists() and params == {"repr_dims": 4, "hidden_dims": 4, "depth": 2, "time_embedding": "t2v_sin", "time_embedding_dims": 3}
    assert pretrain_trunk(splits["train"].X, options, tmp_path)[0] == path  # same data and settings: reused
    other, _ = pretrain_trunk(splits["val"].X, options, tmp_path)  # other data: pretrained anew
    assert other != path
    pretrained = torch.load(path, weights_only=True)
    rows = {label: config for label, _, _, config in pretrained_trunk_methods(path, "trep", params, options)}
    assert list(rows) == ["hard + equal (T-Rep scratch)", "hard + equal (T-Rep frozen)", "hard + equal (T-Rep finetuned)"]
    training = TrainingConfig(epochs=2, batch_size=16, lr=1e-2, progress=False)
    trunks = {}
    for label, config in rows.items():
        fit = fit_joint(splits, JOINT_SPECS, config, training, device="cpu", seed=0)
        trunks[label] = {k: v.cpu() for k, v in fit.model.trunk.state_dict().items()}
        assert np.isfinite(fit.score("test", "loss"))
    frozen, tuned, scratch = trunks["hard + equal (T-Rep frozen)"], trunks["hard + equal (T-Rep finetuned)"], trunks["hard + equal (T-Rep scratch)"]
    assert all(torch.equal(frozen[k], pretrained[k]) for k in pretrained)
    assert any(not torch.equal(tuned[k], pretrained[k]) for k in pretrained)
    assert any(not torch.allclose(scratch[k], pretrained[k]) for k in pretrained)
    with pytest.raises(ValueError, match="modes"):
        pretrained_trunk_methods(path, "trep", params, {"modes": ["linear"]})
    with pytest.raises(ValueError, match="needs pretrained"):
        TRepEncoder(2, freeze=True)
