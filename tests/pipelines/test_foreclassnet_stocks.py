"""``foreclassnet_stocks`` end to end on the shared S&P 500 prices and earnings dates (tiny settings)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.real_data
@pytest.mark.slow
def test_table_11_on_a_random_and_a_chronological_split(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "foreclassnet_stocks")
    prepared = pickle.loads(latest_version(project / "data/05_model_input/foreclassnet_stocks_forecast_classify.pkl").read_bytes())
    assert set(prepared) == {"random", "chronological"}
    chrono = prepared["chronological"]
    # windows are relative to their last observed close: that point is exactly 1
    np.testing.assert_allclose(chrono["train"]["observed"].X[:, 0, -1], 1.0)
    balance = pd.read_csv(latest_version(project / "data/08_reporting/foreclassnet_stocks_balance_report.csv"))
    dates = balance[balance["split_kind"] == "chronological"].set_index("split")
    # train ends at least the embargo before the test split starts: no shared trading day
    assert (pd.Timestamp(dates.loc["test", "first_date"]) - pd.Timestamp(dates.loc["train", "last_date"])).days >= 70
    assert (pd.Timestamp(dates.loc["val", "first_date"]) >= pd.Timestamp(dates.loc["train", "last_date"]))
    summary = pd.read_csv(latest_version(project / "data/08_reporting/foreclassnet_stocks_report.csv"))
    assert set(summary["table"]) == {"11-random", "11-chronological"}
    assert set(summary["column"]) == {"observed"}  # nobody sees the reaction close
    majority = summary[(summary["method"] == "Majority class") & (summary["metric"] == "accuracy")]
    test_share = balance[(balance["split"] == "test")].set_index("split_kind")["class_1_share"]
    for table, kind in (("11-random", "random"), ("11-chronological", "chronological")):
        assert majority[majority["table"] == table]["mean"].item() == pytest.approx(max(test_share[kind], 1 - test_share[kind]))
    fcn = summary[(summary["method"] == "ForeClassNet") & (summary["metric"] == "accuracy")]
    assert (fcn["paper"] == 0.75).all()
    markdown = latest_version(project / "data/08_reporting/foreclassnet_stocks.md").read_text()
    assert "chronological split" in markdown and "% class 1" in markdown
