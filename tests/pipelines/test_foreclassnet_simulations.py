"""``foreclassnet_simulations`` end to end through the real catalog (tiny conf/test settings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.slow
def test_simulation_tables_with_the_bayes_limit_and_the_adversarial_sets(tmp_path):
    project = make_project_copy(tmp_path)
    run_pipeline(project, "foreclassnet_simulations")  # includes simulate_ar_ma: nothing to run first
    reporting = project / "data/08_reporting"
    summary = pd.read_csv(latest_version(reporting / "foreclassnet_simulations_report.csv"))
    assert set(summary["table"].astype(str)) == {"2", "4", "5", "6", "7", "8"}
    table2 = summary[summary["table"].astype(str) == "2"]
    fcn = table2[(table2["method"] == "ForeClassNet") & (table2["column"] == "observed") & (table2["metric"] == "accuracy")]
    assert fcn["paper"].item() == 1.00 and fcn["n_seeds"].item() == 2  # beside the paper's number, over seeds
    hydra = table2[(table2["method"] == "MR-Hydra") & (table2["metric"] == "accuracy")]
    assert len(hydra) and (hydra["n_seeds"] == 1).all()  # baseline_seeds: [0]
    assert not ((table2["method"] == "ForeClassNet") & (table2["column"] == "full")).any()  # observed only
    oracle = table2[(table2["method"] == "Bayes limit (oracle)") & (table2["metric"] == "accuracy")]
    assert set(oracle["column"]) == {"observed", "full"} and oracle["mean"].between(0.5, 1.0).all()
    for table, test_sets in (("5", {"a"}), ("6", {"a", "b", "c"}), ("7", {"a"}), ("8", {"a", "b", "c"})):
        part = summary[summary["table"].astype(str) == table]
        assert set(part["column"]) == test_sets
    # the majority-class row is the share of the commonest training class on the test split
    majority = table2[(table2["method"] == "Majority class") & (table2["metric"] == "accuracy")]["mean"].item()
    assert 0.3 <= majority <= 0.7
    markdown = latest_version(reporting / "foreclassnet_simulations.md").read_text()
    for table in ("2", "4", "5", "6", "7", "8"):
        assert f"**Table {table}.**" in markdown
    assert "Bayes limit (oracle)" in markdown and "[1.00]" in markdown
    results = pd.read_csv(latest_version(project / "data/07_model_output/foreclassnet_simulation_results.csv"))
    assert np.isfinite(results.loc[results["metric"] == "forecast_mse", "value"]).all()
    assert latest_version(reporting / "foreclassnet_filter_lengths.png").stat().st_size > 1000
