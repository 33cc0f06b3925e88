"""``trep_missing_data`` end to end on ArticularyWordRecognition and DodgerLoopGame (tiny settings)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.real_data
@pytest.mark.slow
def test_missing_data_curve_table_and_heatmap(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "trep_missing_data")
    results = pd.read_csv(latest_version(project / "data/07_model_output/trep_missing_data_results.csv"))
    assert len(results) == 4 and set(results["rate"]) == {0.0, 0.9}
    high = results[results["rate"] == 0.9]
    # unit "timestep": int(0.9 * N) of a split's N = n_series x 144 steps, drawn over the whole split
    assert np.allclose(high["removed_train"], int(0.9 * 275 * 144) / (275 * 144))
    assert np.allclose(high["removed_test"], int(0.9 * 300 * 144) / (300 * 144))
    assert results.loc[results["rate"] == 0.0, "removed_train"].eq(0).all()
    summary = pd.read_csv(latest_version(project / "data/08_reporting/trep_missing_data_report.csv"))
    published = summary.set_index(["rate", "method"])["published"]
    assert published[(0.9, "T-Rep")] == pytest.approx(0.865) and published[(0.9, "TS2Vec")] == pytest.approx(0.827)
    assert published[(0.0, "T-Rep")] == pytest.approx(0.98) and np.isnan(published[(0.0, "TS2Vec")])
    markdown = latest_version(project / "data/08_reporting/trep_missing_data.md").read_text()
    assert "| 90 |" in markdown and "[0.865]" in markdown
    assert latest_version(project / "data/08_reporting/trep_missing_data.png").stat().st_size > 5000
    assert latest_version(project / "data/08_reporting/trep_missing_data_heatmap.png").stat().st_size > 5000
    fitted = pickle.loads(latest_version(project / "data/06_models/trep_missing_data_encoders.pkl").read_bytes())
    # the paper's DodgerLoopGame series: a real segment of 25 missing steps, not one masked here
    assert fitted["dataset"] == "DodgerLoopGame" and fitted["gap"][1] == 25 and not fitted["masked_here"]
    start, length = fitted["gap"]
    assert np.isnan(fitted["series"][start : start + length]).all()
    assert set(fitted["encoders"]) == {"T-Rep", "TS2Vec"}
