"""``simulate_ar_ma`` (ForeClassNet Sec. 4) end to end with SequentialRunner and MemoryDatasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from tsmtl.data.synthetic import (
    FORECLASSNET_KINDS,
    PAPER_FORECAST_HORIZON,
    PAPER_LENGTH,
    PAPER_N_SERIES,
    foreclassnet_simulation,
)
from tsmtl.pipelines.common import split_task_group
from tsmtl.pipelines.simulate_ar_ma import create_pipeline
from tsmtl.pipelines.simulate_ar_ma.nodes import simulate_foreclassnet, use_mislabelled_train_labels

CONF = Path(__file__).resolve().parents[2] / "conf"


def profile(env: str) -> dict[str, Any]:
    return yaml.safe_load((CONF / env / "parameters_simulate_ar_ma.yml").read_text())["simulate_ar_ma"]


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, to read an intermediate result after the run."""

    def _release(self) -> None:
        pass


def run(params: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's outputs plus the intermediate ``ar_ma_forecast_classify``."""
    inputs = {"params:simulate_ar_ma": params, "params:simulate_ar_ma.split": params["split"],
              "params:simulate_ar_ma.forecast": params["forecast"]}  # fmt: skip
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in inputs.items()})
    catalog["ar_ma_forecast_classify"] = kept = KeptMemoryDataset()
    outputs = {name: ds.load() for name, ds in SequentialRunner().run(create_pipeline(), catalog).items()}
    return {**outputs, "ar_ma_forecast_classify": kept.load()}


@pytest.fixture(scope="module")
def test_profile() -> dict[str, Any]:
    return profile("test")


@pytest.fixture(scope="module")
def outputs(test_profile) -> dict[str, Any]:
    return run(test_profile)


def simulated(params: dict[str, Any], kind: str):
    n_per_class = params["n_series"] // len(FORECLASSNET_KINDS[kind]["classes"])
    return foreclassnet_simulation(kind, n_per_class, params["length"], params["seed"], params["burnin"])


def test_paper_profile_matches_the_paper():
    paper = profile("base")
    assert set(paper["kinds"]) == set(FORECLASSNET_KINDS)
    assert (paper["n_series"], paper["length"]) == (PAPER_N_SERIES, PAPER_LENGTH) == (10_000, 50)
    assert paper["forecast"]["horizon"] == PAPER_FORECAST_HORIZON == 10
    assert paper["split"]["protocol"] == "holdout_80_20_val10"
    quick = profile("quick")
    assert quick["n_series"] // 2 == 300 and quick["forecast"] == paper["forecast"]


def test_outputs_and_split_sizes(outputs, test_profile):
    assert set(outputs) == {"ar_ma_forecast_classify", "ar_ma_forecast_classify_report",
                            "ar_ma_simulation_report", "ar_ma_label_noise_report"}  # fmt: skip
    prepared = outputs["ar_ma_forecast_classify"]
    assert list(prepared) == test_profile["kinds"]
    for kind, parts in prepared.items():
        # 60 series: test floor(0.2 * 60 + 0.5) = 12; val floor(0.1 * 48 + 0.5) = 5; train 43.
        sizes = {split: item["observed"].n_cases for split, item in parts.items()}
        assert sizes == {"train": 43, "val": 5, "test": 12}, kind
        for item in parts.values():
            assert item["observed"].X.shape[1:] == (1, 40)  # the first 40 points are observed
            assert item["future"].shape == (item["observed"].n_cases, 1, 10)  # the last 10 forecast
    report = outputs["ar_ma_simulation_report"].set_index("kind")
    assert report.loc["ar_mixture", "n_per_class"] == 20 and report.loc["ar_vs_ar", "n_per_class"] == 30


def test_observed_and_future_rebuild_the_simulated_series(outputs, test_profile):
    for kind, parts in outputs["ar_ma_forecast_classify"].items():
        raw = simulated(test_profile, kind)
        for item in parts.values():
            index = item["observed"].meta["source_index"]
            rebuilt = np.concatenate([item["observed"].X, item["future"]], axis=2)
            np.testing.assert_array_equal(rebuilt, raw.X[index])


def test_noisy_labels_on_train_only(outputs, test_profile):
    raw = simulated(test_profile, "ar_vs_ar_mislabelled")
    parts = outputs["ar_ma_forecast_classify"]["ar_vs_ar_mislabelled"]
    train = parts["train"]["observed"]
    index = train.meta["source_index"]
    np.testing.assert_array_equal(train.y, raw.meta["y_mislabelled"][index])
    np.testing.assert_array_equal(train.meta["y_clean"], raw.y[index])
    n_switched = int((train.y != raw.y[index]).sum())
    assert n_switched > 0
    for split in ("val", "test"):
        observed = parts[split]["observed"]
        np.testing.assert_array_equal(observed.y, raw.y[observed.meta["source_index"]])  # clean
        assert "y_clean" not in observed.meta
    noise = outputs["ar_ma_label_noise_report"].set_index(["task", "split"])["n_labels_switched"]
    assert noise[("ar_vs_ar_mislabelled", "train")] == n_switched
    assert noise.drop(("ar_vs_ar_mislabelled", "train")).eq(0).all()
    # Sec. 4.3 reuses the Sec. 4.2 series (same seed): only the training labels differ.
    clean = outputs["ar_ma_forecast_classify"]["ar_vs_ar"]
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(clean[split]["observed"].X, parts[split]["observed"].X)
    np.testing.assert_array_equal(clean["train"]["observed"].y, train.meta["y_clean"])


def test_the_label_swap_refuses_misaligned_indices(test_profile):
    params = {**test_profile, "kinds": ["ar_vs_ar_mislabelled"]}
    tasks, _ = simulate_foreclassnet(params)
    splits = split_task_group(tasks, params["split"])
    train = splits["ar_vs_ar_mislabelled"]["train"]
    train.meta["source_index"] = train.meta["source_index"][::-1].copy()
    with pytest.raises(ValueError, match="source_index"):
        use_mislabelled_train_labels(tasks, splits)


def test_unknown_kind_is_refused(test_profile):
    with pytest.raises(ValueError, match="ar_vs_ma"):
        simulate_foreclassnet({**test_profile, "kinds": ["ar_vs_arma"]})
