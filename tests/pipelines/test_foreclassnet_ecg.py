"""``foreclassnet_ecg`` end to end on the real ECG5000 file (tiny conf/test settings)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.real_data
@pytest.mark.slow
def test_ecg_tables_both_smote_orders_and_the_official_split(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "foreclassnet_ecg")
    prepared = pickle.loads(latest_version(project / "data/05_model_input/foreclassnet_ecg_forecast_classify.pkl").read_bytes())
    assert set(prepared) == {"9", "10", "10-paper-order", "official"}
    # Table 10 balances only the training split; the paper's order balances before splitting,
    # so its test split is balanced too (the leak the report shows)
    assert len(np.unique(np.unique(prepared["10"]["train"]["observed"].y, return_counts=True)[1])) == 1
    assert len(np.unique(np.unique(prepared["10"]["test"]["observed"].y, return_counts=True)[1])) > 1
    assert len(np.unique(np.unique(prepared["10-paper-order"]["test"]["observed"].y, return_counts=True)[1])) <= 2
    assert prepared["official"]["test"]["observed"].n_cases == 4500 and prepared["official"]["train"]["future"].shape[-1] == 5
    summary = pd.read_csv(latest_version(project / "data/08_reporting/foreclassnet_ecg_report.csv"))
    assert set(summary["table"].astype(str)) == {"9", "10", "10-paper-order", "official"}
    official = summary[(summary["table"].astype(str) == "official") & (summary["method"] == "Inception") & (summary["column"] == "full") & (summary["metric"] == "accuracy")]
    assert official["paper"].item() == pytest.approx(0.9416)  # aeon's published InceptionTime result
    markdown = latest_version(project / "data/08_reporting/foreclassnet_ecg.md").read_text()
    assert "**Table 10-paper-order.**" in markdown and "weighted F1" in markdown
    assert latest_version(project / "data/08_reporting/foreclassnet_ecg_saliency.png").stat().st_size > 1000
