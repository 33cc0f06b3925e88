"""``trep_forecasting`` end to end on the real ETTh1 file (tiny conf/test encoders)."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.fixture
def one_torch_thread():
    """Tiny encoders on a shared 2-core CPU run several times faster on one thread (README: OMP_NUM_THREADS=1)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.real_data
@pytest.mark.slow
def test_ett_forecasting_table_encoders_and_plot(tmp_path, real_data_dir, monkeypatch, one_torch_thread):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "trep_forecasting")
    results = pd.read_csv(latest_version(project / "data/07_model_output/trep_forecasting_results.csv"))
    assert set(results["method"]) == {"T-Rep", "TS2Vec", "Linear"}
    assert set(results["encoder"].fillna("")) == {"trep", "ts2vec", ""}
    assert set(results["setting"]) == {"multivariate", "univariate"}
    assert len(results) == 2 * 3  # settings x methods, one seed, one horizon
    # ETTh1's test months: 2,880 rows, 24-step targets inside them; features: 8 + the time-embedding's 4
    assert set(results["n_test"]) == {2880 - 24}
    assert set(results.loc[results["method"] == "T-Rep", "n_features"]) == {8 + 4}
    assert set(results.loc[(results["method"] == "Linear") & (results["setting"] == "multivariate"), "n_features"]) == {24 * 7}
    # the 24-step raw-window ridge beats a zero forecast (MSE 1 in the standardised space) on ETTh1
    assert (results.loc[results["method"] == "Linear", "mse"] < 1.0).all()
    encoders = pickle.loads(latest_version(project / "data/06_models/trep_forecasting_encoders.pkl").read_bytes())
    assert sorted(encoders) == [f"ETTh1/{s}/{e}/seed0" for s in ("multivariate", "univariate") for e in ("trep", "ts2vec")]
    z = encoders["ETTh1/multivariate/trep/seed0"].encode(results[["mse"]].to_numpy()[None, :, [0] * 7], window="full_series")
    assert z.shape == (1, 8)  # a fitted encoder from the catalog encodes new data
    report = pd.read_csv(latest_version(project / "data/08_reporting/trep_forecasting_report.csv"))
    cell = report[(report["method"] == "T-Rep") & (report["setting"] == "multivariate") & (report["horizon"] == 24)]
    assert cell["paper_mse"].item() == pytest.approx(0.511) and cell["paper_mae"].item() == pytest.approx(0.496)
    markdown = latest_version(project / "data/08_reporting/trep_forecasting.md").read_text()
    assert "**Multivariate**" in markdown and "[0.511]" in markdown and "[0.039]" in markdown
    assert latest_version(project / "data/08_reporting/trep_forecasting.png").stat().st_size > 1000
