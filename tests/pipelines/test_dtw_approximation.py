"""End-to-end run of the ``dtw_approximation`` pipeline on in-memory datasets (conf/test parameters)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from tsmtl.experiments.dtw_approximation import dtw_targets
from tsmtl.pipelines.dtw_approximation import create_pipeline
from tsmtl.pipelines.dtw_approximation.nodes import window_folder

TEST_PARAMETERS = Path(__file__).resolve().parents[2] / "conf" / "test" / "parameters_dtw_approximation.yml"


class _KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so the test can read intermediate outputs."""

    def _release(self) -> None:
        pass


@pytest.mark.slow
def test_pipeline_runs_end_to_end(tmp_path):
    params = yaml.safe_load(TEST_PARAMETERS.read_text())["dtw_approximation"]
    params["checkpoint_dir"] = str(tmp_path / "models")
    pipeline = create_pipeline()
    datasets = {f"params:dtw_approximation.{key}": MemoryDataset(value) for key, value in params.items()}
    datasets["params:seed"] = MemoryDataset(0)
    datasets["params:device"] = MemoryDataset("cpu")
    outputs = sorted(pipeline.all_outputs())
    datasets.update({name: _KeptMemoryDataset() for name in outputs})
    catalog = DataCatalog(datasets=datasets)
    assert pipeline.inputs() <= set(datasets), pipeline.inputs() - set(datasets)

    SequentialRunner().run(pipeline, catalog)

    windows, models = params["windows"], params["models"]
    n_test = params["data"]["n_test"]
    errors = catalog["dtw_approximation_errors_report"].load()
    assert len(errors) == len(windows) * len(models) * n_test
    counts = errors.groupby(["window", "model"]).size()
    assert set(counts.index) == {(float(w), m) for w in windows for m in models}
    assert (counts == n_test).all()
    np.testing.assert_allclose(errors["error"], (errors["prediction"] - errors["target"]).abs())
    # the targets in the table are the DTW distances of the test pairs
    test_pairs = catalog["dtw_approximation_pairs"].load()["test"]
    for window in windows:
        rows = errors[(errors["window"] == float(window)) & (errors["model"] == models[0])].sort_values("pair")
        np.testing.assert_allclose(rows["target"], dtw_targets(test_pairs, window))

    summary = catalog["dtw_approximation_summary_report"].load()
    assert len(summary) == len(windows) * len(models) and (summary["n_pairs"] == n_test).all()
    history = catalog["dtw_approximation_training_report"].load()
    assert len(history) == len(windows) * len(models) * params["training"]["epochs"]

    assert isinstance(catalog["dtw_approximation_error_boxplot"].load(), Figure)
    maps = catalog["dtw_approximation_importance_maps"].load()
    assert isinstance(maps, Figure)
    assert len([ax for ax in maps.axes if ax.get_visible()]) == len(windows) * params["importance"]["n_pairs"]

    for model in models:
        for window in windows:
            runs = list((tmp_path / "models" / model / window_folder(window)).iterdir())
            assert len(runs) == 1, runs  # one run folder, named by the data and settings
            assert (runs[0] / "best.pt").is_file() and (runs[0] / "last.pt").is_file()
