"""``trep_anomaly`` end to end (tiny conf/test settings): KDD-TSAD_135 and PhysioNet always; Yahoo
S5 either absent ("not registered", the run goes on) or a miniature copy in the release layout."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline
from tsmtl.data.yahoo import YAHOO_DATASET
from tsmtl.training.trep import TRep

A34_HEADER = "timestamps,value,anomaly,changepoint,trend,noise,seasonality1,seasonality2,seasonality3"


def write_miniature_yahoo(root, n_points: int = 240) -> int:
    """One series per benchmark (both file layouts): a noisy sine with two spikes in the second
    half labelled anomalous. Returns the number of anomalous points in all."""
    rng = np.random.default_rng(0)
    layouts = {"A1Benchmark/real_1.csv": "a12", "A2Benchmark/synthetic_1.csv": "a12",
               "A3Benchmark/A3Benchmark-TS1.csv": "a34", "A4Benchmark/A4Benchmark-TS1.csv": "a34"}  # fmt: skip
    total = 0
    for path, layout in layouts.items():
        values = np.sin(np.arange(n_points) / 6.0) + 0.1 * rng.normal(size=n_points)
        labels = np.zeros(n_points, dtype=int)
        for spike in (170, 205):
            values[spike] += 6.0
            labels[spike] = 1
        total += int(labels.sum())
        stamps = 1416722400 + 3600 * np.arange(n_points)
        target = root / YAHOO_DATASET / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if layout == "a12":
            body = "timestamp,value,is_anomaly\n" + "".join(f"{t},{v:.6f},{a}\n" for t, v, a in zip(stamps, values, labels))
        else:
            body = A34_HEADER + "\n" + "".join(f"{t},{v:.6f},{a},0,0,0,0,0,0\n" for t, v, a in zip(stamps, values, labels))
        target.write_text(body)
    return total


def _outputs(project):
    results = pd.read_csv(latest_version(project / "data/07_model_output/trep_anomaly_results.csv"))
    summary = pd.read_csv(latest_version(project / "data/08_reporting/trep_anomaly_report.csv"))
    markdown = latest_version(project / "data/08_reporting/trep_anomaly.md").read_text()
    encoders = pickle.loads(latest_version(project / "data/06_models/trep_anomaly_encoders.pkl").read_bytes())
    return results, summary, markdown, encoders


@pytest.mark.real_data
@pytest.mark.slow
def test_without_yahoo_the_run_reports_it_not_registered(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))
    assert not (real_data_dir / "yahoo_s5").exists()
    project = make_project_copy(tmp_path)
    run_pipeline(project, "trep_anomaly")
    results, summary, markdown, encoders = _outputs(project)
    assert set(results["dataset"]) == {"KDD-TSAD_135", "PhysioNet 2019 (set A)"}
    assert set(results["method"]) == {"T-Rep", "TS2Vec", "Baseline (raw)"}
    f1 = results[results["metric"].isin(["f1", "f1_patient_mean", "f1_windows"])]["value"]
    assert f1.between(0, 1).all()
    assert "Yahoo S5: not registered" in markdown and "register_yahoo" in markdown
    assert "| T-Rep |" in markdown and "[0.665]" in markdown and "[0.241]" in markdown  # published Sepsis numbers
    paper = summary[(summary["method"] == "T-Rep") & (summary["metric"] == "f1_patient_mean")]["paper"]
    assert paper.item() == pytest.approx(0.665)
    assert set(encoders) == {"KDD-TSAD_135/trep/seed0", "KDD-TSAD_135/ts2vec/seed0", "sepsis/trep/seed0", "sepsis/ts2vec/seed0"}
    # a fitted encoder from the catalog encodes new data without refitting
    model = encoders["sepsis/trep/seed0"]
    assert isinstance(model, TRep) and model.encode(np.zeros((2, 6, 10))).shape == (2, 6, 8)
    assert latest_version(project / "data/08_reporting/trep_anomaly.png").stat().st_size > 5000


@pytest.mark.real_data
@pytest.mark.slow
def test_a_registered_yahoo_copy_is_evaluated(tmp_path, real_data_dir, monkeypatch):
    data = tmp_path / "data_root"
    data.mkdir()
    (data / "physionet2019_sepsis").symlink_to((real_data_dir / "physionet2019_sepsis").resolve())
    n_anomalies = write_miniature_yahoo(data / "yahoo_s5")
    monkeypatch.setenv("TSMTL_DATA_DIR", str(data))
    project = make_project_copy(tmp_path)
    run_pipeline(project, "trep_anomaly")
    results, summary, markdown, encoders = _outputs(project)
    assert "Yahoo S5" in set(results["dataset"])
    yahoo = summary[(summary["dataset"] == "Yahoo S5") & (summary["metric"] == "f1")].set_index("method")
    assert set(yahoo.index) == {"T-Rep", "TS2Vec", "Baseline (raw)"}
    assert yahoo.loc["T-Rep", "paper"] == pytest.approx(0.757) and yahoo.loc["Baseline (raw)", "paper"] == pytest.approx(0.110)
    # the spikes are 6 standard deviations high: the raw baseline flags them
    assert yahoo.loc["Baseline (raw)", "mean"] > 0.5
    yahoo_line = next(line for line in markdown.splitlines() if line.startswith("- Yahoo S5:"))
    assert "4 series from A1, A2, A3, A4" in yahoo_line and f"{n_anomalies} anomalous test points" in yahoo_line
    assert "Yahoo S5/trep/seed0" in encoders
