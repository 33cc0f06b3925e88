"""``trep_classification`` end to end on a real UEA file and an aeon set (tiny conf/test settings)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.real_data
@pytest.mark.slow
def test_accuracy_table_of_three_methods_beside_the_published_numbers(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "trep_classification")
    results = pd.read_csv(latest_version(project / "data/07_model_output/trep_classification_results.csv"))
    # 2 datasets x (2 encoders x 2 seeds + ResNet1D x 1 seed)
    assert len(results) == 10
    assert set(results["dataset"]) == {"NATOPS", "BasicMotions"}
    assert set(results["source"]) == {"uea", "aeon"}
    assert results["accuracy"].between(0, 1).all()
    natops = results[(results["dataset"] == "NATOPS") & (results["method"] == "T-Rep")]
    # TimeDim: T = 51, k = 5, 10 windows of 8 dimensions; 180 training series: C searched
    assert natops["feature_dims"].eq(80).all() and natops["svm_searched"].astype(bool).all()
    basic = results[(results["dataset"] == "BasicMotions") & (results["method"] == "TS2Vec")]
    assert basic["feature_dims"].eq(8).all()
    assert not basic["svm_searched"].astype(bool).any() and basic["svm_C"].eq(1.0).all()  # 40 series: plain fit
    summary = pd.read_csv(latest_version(project / "data/08_reporting/trep_classification_report.csv"))
    published = summary.set_index(["dataset", "method"])["published"]
    assert published[("NATOPS", "T-Rep")] == pytest.approx(0.804) and published[("NATOPS", "TS2Vec")] == pytest.approx(0.897)
    assert np.isnan(published[("NATOPS", "ResNet1D (supervised)")])
    assert summary.set_index(["dataset", "method"])["n_seeds"][("BasicMotions", "T-Rep")] == 2
    markdown = latest_version(project / "data/08_reporting/trep_classification.md").read_text()
    assert "| NATOPS | 180 / 180 |" in markdown and "[0.804]" in markdown and "**Average (2 sets)**" in markdown
    availability = pd.read_csv(latest_version(project / "data/08_reporting/trep_classification_availability.csv"))
    assert availability["present"].all()
    encoders = pickle.loads(latest_version(project / "data/06_models/trep_classification_encoders.pkl").read_bytes())
    assert set(encoders) == {"NATOPS", "BasicMotions"} and set(encoders["NATOPS"]) == {"T-Rep", "TS2Vec"}
    x = np.zeros((2, 51, 24), dtype=np.float32)
    assert encoders["NATOPS"]["T-Rep"].encode(x).shape == (2, 51, 8)  # a fitted encoder encodes new data
