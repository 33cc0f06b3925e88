"""``mtl_joint`` end to end through the real catalog on the real PhysioNet and ETTh1 files (tiny settings)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


@pytest.mark.real_data
@pytest.mark.slow
def test_mtl_joint_writes_both_tables_and_the_weights_plot(tmp_path, real_data_dir, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(real_data_dir.resolve()))  # the run happens in a temporary project
    project = make_project_copy(tmp_path)
    run_pipeline(project, "mtl_joint")
    reporting = project / "data/08_reporting"

    splits = pickle.loads(latest_version(project / "data/05_model_input/mtl_joint_physionet_splits.pkl").read_bytes())
    patients = {split: set(np.unique(data.groups)) for split, data in splits.items()}
    assert not (patients["train"] & patients["val"] or patients["train"] & patients["test"] or patients["val"] & patients["test"])
    assert sum(len(p) for p in patients.values()) == 50
    assert np.isnan(splits["train"].targets["Temp_next"]).any()  # partial labels reach the fit

    for dataset, tasks in (("physionet", ["sepsis", "HR_next", "Temp_next"]), ("etth1", ["OT@4", "OT@8", "HUFL@4", "HUFL@8"])):
        results = pd.read_csv(latest_version(project / f"data/07_model_output/mtl_joint_{dataset}_results.csv"))
        models = {"single-task", "hard + equal", "hard + gradnorm", "attention + equal", "attention + gradnorm"}
        if dataset == "physionet":  # the T-Rep trunk pretrained on the training patients (conf/test)
            models |= {f"hard + equal (T-Rep {mode})" for mode in ("scratch", "frozen", "finetuned")}
        assert set(results["model"]) == models and set(results["seed"]) == {0, 1}
        assert set(results["task"]) == set(tasks) and results["value"].notna().all()
        table = pd.read_csv(latest_version(reporting / f"mtl_joint_{dataset}_report.csv"))
        assert set(table["model"]) == models and (table["n_seeds"] == 2).all()
        assert table.loc[table["model"] == "single-task", "delta_m"].isna().all()
        assert table.loc[table["model"] != "single-task", "delta_m"].notna().all()
        markdown = latest_version(reporting / f"mtl_joint_{dataset}.md").read_text()
        assert "Δm %" in markdown and "Best multitask model by Δm" in markdown and "± " in markdown
        history = pd.read_csv(latest_version(project / f"data/07_model_output/mtl_joint_{dataset}_weights_history.csv"))
        gradnorm = history[(history["model"] == "hard + gradnorm") & (history["epoch"] == 1)]
        assert len(gradnorm) == 2 * len(tasks) and gradnorm.groupby("seed")["weight"].sum().round(4).eq(len(tasks)).all()
        with Image.open(latest_version(reporting / f"mtl_joint_{dataset}_weights.png")) as image:
            assert image.size[0] > 300
    pretrained = list((project / "data/06_models/mtl_joint/physionet/pretrained").glob("*/encoder.pt"))
    assert len(pretrained) == 1
    # regression metrics of PhysioNet in original units: the heart-rate MAE is in beats per minute
    results = pd.read_csv(latest_version(project / "data/07_model_output/mtl_joint_physionet_results.csv"))
    hr = results[(results["task"] == "HR_next") & (results["metric"] == "mae")]["value"]
    assert (hr > 1.0).all() and (hr < 60.0).all()
