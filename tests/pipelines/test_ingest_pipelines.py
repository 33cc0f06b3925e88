"""Ingest + preprocess end to end, through the real catalog, on tiny data."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.kedro_project import latest_version, make_project_copy, run_pipeline


def _write_ucr(root, name, n_per_class, length, classes=(1, 2), gap=False, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "ucr" / name
    folder.mkdir(parents=True)
    for split in ("TRAIN", "TEST"):
        rows = []
        for label in classes:
            for _ in range(n_per_class):
                values = rng.normal(loc=label, size=length)
                if gap:
                    values[3:5] = np.nan
                rows.append("\t".join([str(label), *(("NaN" if np.isnan(v) else f"{v:.6f}") for v in values)]))
        (folder / f"{name}_{split}.tsv").write_text("\n".join(rows) + "\n")


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    root = tmp_path / "shared_data"
    _write_ucr(root, "ECG200", n_per_class=5, length=16, classes=(-1, 1))
    _write_ucr(root, "DodgerLoopDay", n_per_class=5, length=24, classes=(1, 2, 3), gap=True, seed=1)
    monkeypatch.setenv("TSMTL_DATA_DIR", str(root))
    return root


def test_ingest_ucr_runs_on_whatever_is_present_and_versions_its_outputs(tmp_path, tiny_data):
    project = make_project_copy(tmp_path)
    run_pipeline(project, "ingest_ucr")

    splits = pickle.loads(latest_version(project / "data/05_model_input/ucr_task_splits.pkl").read_bytes())
    assert set(splits) == {"ECG200", "DodgerLoopDay"}
    ecg = splits["ECG200"]
    # TRAIN+TEST merged (20 cases) then stratified 60/20/20
    assert {k: v.n_cases for k, v in ecg.items()} == {"train": 12, "val": 4, "test": 4}
    assert set(np.unique(ecg["train"].y)) == {-1, 1}
    # each class keeps its share in every split
    for part in ecg.values():
        _, counts = np.unique(part.y, return_counts=True)
        assert counts[0] == counts[1]
    # indices disjoint across splits
    seen = np.concatenate([p.meta["source_index"] for p in ecg.values()])
    assert len(np.unique(seen)) == 20

    availability = pd.read_csv(latest_version(project / "data/08_reporting/ucr_availability.csv"))
    present = dict(zip(availability["task"], availability["present"]))
    assert present["ECG200"] and present["DodgerLoopDay"] and not present["CricketX"]
    assert len(availability) == 25  # the paper's 25 tasks, present or not

    report = pd.read_csv(latest_version(project / "data/08_reporting/ucr_task_report.csv"))
    dodger = report[report["task"] == "DodgerLoopDay"]
    assert dodger["has_gaps"].all() and (dodger["n_classes"] == 3).all()


def test_default_pipeline_runs_on_embedded_data(tmp_path, monkeypatch):
    monkeypatch.setenv("TSMTL_DATA_DIR", str(tmp_path / "nothing_here"))  # the default run needs no data dir
    project = make_project_copy(tmp_path)
    run_pipeline(project)
    splits = pickle.loads(latest_version(project / "data/05_model_input/embedded_task_splits.pkl").read_bytes())
    assert {"GunPoint", "ArrowHead", "ItalyPowerDemand"} <= set(splits)
    gunpoint = splits["GunPoint"]
    assert sum(p.n_cases for p in gunpoint.values()) == 200  # 50 train + 150 test merged
    windows = pickle.loads(latest_version(project / "data/05_model_input/embedded_anomaly_windows.pkl").read_bytes())
    assert windows["windows"].shape[1] == 64 and windows["labels"].max() == 1
    # the quick MTL demo: five methods on the three embedded tasks, ranks and the markdown table
    table = pd.read_csv(latest_version(project / "data/08_reporting/embedded_mtl.ucr_mtl_accuracy_report.csv"))
    assert set(table["task"]) == {"GunPoint", "ArrowHead", "ItalyPowerDemand"}
    assert {"1NN-DTW rank", "ResNet2D w/ MTL rank"} <= set(table.columns)
    assert (project / "data/06_models/embedded_mtl/split_0/resnet2d_mtl/Embedded").is_dir()
    assert (project / "data/06_models/embedded_mtl/split_1/resnet2d_mtl/Embedded").is_dir()  # conf/test: split seeds [0, 1]
    assert (project / "data/08_reporting/embedded_mtl.ucr_mtl_significance.png").is_dir()
    assert set(pd.read_csv(latest_version(project / "data/07_model_output/embedded_mtl.ucr_mtl_results.csv"))["split_seed"]) == {0, 1}
    assert (project / "data/08_reporting/embedded_mtl.ucr_mtl_tsne.png").is_dir()
    # notebooks/resnet2d_multitask_tsc.ipynb on what the default run writes: tests/test_notebooks.py
