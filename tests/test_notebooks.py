"""Every notebook under ``notebooks/`` executed for real on what its runs write (issue #11, Notebooks).

One project copy for the module; each test runs the pipelines its notebook reads (``--env test``,
the slowest trimmed to their smallest case through runtime parameters, as ``--params`` would),
then executes the notebook with nbclient on the ``python3`` kernel, ``%load_ext kedro.ipython``
included (:func:`tests.pipelines.kedro_project.execute_notebook`). A last cell appended by the
test prints what the notebook computed; it is checked against the run's files read here.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.pipelines.kedro_project import (
    PROJECT_ROOT,
    execute_notebook,
    latest_version,
    make_project_copy,
)
from tsmtl.config import data_dir
from tsmtl.evaluation.reports import repeated_accuracy_table

pytestmark = pytest.mark.slow

NOTEBOOKS = PROJECT_ROOT / "notebooks"

# The runs each notebook reads (pipeline, runtime parameters); None: the default `kedro run`.
RUNS: dict[str, list[tuple[str | None, dict | None]]] = {
    "resnet2d_multitask_tsc.ipynb": [(None, None)],
    "dtw_approximation.ipynb": [("dtw_approximation", None)],
    "foreclassnet.ipynb": [
        ("foreclassnet_simulations", {"foreclassnet_simulations": {"methods": ["foreclassnet", "oracle", "majority"]}}),
        ("foreclassnet_ecg", {"foreclassnet_ecg": {"protocols": ["9"]}}),
        (
            "foreclassnet_stocks",
            {"foreclassnet_stocks": {"splits": ["random"], "seeds": [0], "methods": ["foreclassnet", "majority"]}},
        ),
    ],
    "trep.ipynb": [(name, None) for name in ("trep_classification", "trep_forecasting", "trep_missing_data", "trep_anomaly")],
    "mtl_joint.ipynb": [("mtl_joint", None)],
}

# Prints the tables the paper notebooks plotted (``shown``: name -> DataFrame) as {name: {"row|column": value}}.
REPORT_SHOWN = """
import json
def _flat(frame):
    return {"|".join(map(str, key if isinstance(key, tuple) else (key,))) + "|" + str(column): float(value)
            for key, row in frame.iterrows() for column, value in row.items() if value == value}
print("NOTEBOOK-REPORT " + json.dumps({name: _flat(frame) for name, frame in shown.items()}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """One project copy for every notebook; ``TSMTL_DATA_DIR`` absolute (the runs and kernels start elsewhere).

    The runs train with one torch thread: their tiny models only lose from more on a shared
    machine (and a run can leave torch's thread count raised for the next: OpenMP's is global).
    """
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TSMTL_DATA_DIR", str(data_dir().resolve()))
        yield make_project_copy(tmp_path_factory.mktemp("notebooks"))
    torch.set_num_threads(threads)


def run_for(project: Path, notebook: str) -> None:
    """The runs ``notebook`` reads, in ``project``, environment ``test``."""
    previous = os.getcwd()
    os.chdir(project)
    try:
        for pipeline, params in RUNS[notebook]:
            torch.set_num_threads(1)
            bootstrap_project(project)
            with KedroSession.create(project_path=project, env="test", runtime_params=params) as session:
                session.run(pipeline_name=pipeline)
    finally:
        os.chdir(previous)


def images(nb) -> int:
    """How many figures the executed notebook shows."""
    return sum("image/png" in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


def read(project: Path, folder: str, name: str) -> pd.DataFrame:
    return pd.read_csv(latest_version(project / "data" / folder / f"{name}.csv"))


def test_every_notebook_is_executed_here():
    assert {path.name for path in NOTEBOOKS.glob("*.ipynb")} == set(RUNS)


def test_resnet2d_notebook_on_the_default_run(project):
    run_for(project, "resnet2d_multitask_tsc.ipynb")
    nb, shown = execute_notebook(
        NOTEBOOKS / "resnet2d_multitask_tsc.ipynb",
        project,
        report_code="""
import json
print("NOTEBOOK-REPORT " + json.dumps({
    "table_i": {f"{group}/{task}": row for (group, task), row in table_i.astype(str).to_dict(orient="index").items()},
    "split_ranks": {str(seed): ranks for seed, ranks in split_ranks.to_dict(orient="index").items()},
    "curves": history.astype({"epoch": int, "split_seed": int}).to_dict(orient="records"),
    "example_tasks": example_tasks,
    "tsne": {f"{method}/{task}": list(points.shape) for (method, task), points in embeddings.items()},
}))
""",
    )
    params = yaml.safe_load((PROJECT_ROOT / "conf/test/parameters_embedded.yml").read_text())["embedded_mtl"]
    methods = [m["name"] for m in params["methods"]]
    neural = [m["name"] for m in params["methods"] if m.get("kind") != "1nn_dtw"]
    tasks = {"GunPoint", "ArrowHead", "ItalyPowerDemand"}
    results = read(project, "07_model_output", "embedded_mtl.ucr_mtl_results")
    seeds = sorted(results["split_seed"].unique())
    assert seeds == params["split_seeds"]

    # Table I: every cell is the mean ± std over the split seeds of the long results
    assert set(shown["table_i"]) == {f"Embedded/{task}" for task in tasks} | {"all/average rank"}
    for (task, method), cell in results.groupby(["task", "method"])["accuracy"]:
        assert shown["table_i"][f"Embedded/{task}"][method] == f"{cell.mean():.3f} ± {cell.std():.3f}"
    # the average rank row and the rank plot: each split's average rank, as the library computes them
    _, ranks, _ = repeated_accuracy_table(results, methods)
    for method in methods:
        mean, std = ranks.loc[method, "mean"], ranks.loc[method, "std"]
        assert shown["table_i"]["all/average rank"][method] == f"{mean:.3f} ± {std:.3f}"
        for seed in seeds:
            assert shown["split_ranks"][str(seed)][method] == pytest.approx(ranks.loc[method, "per_split"][seed], abs=1e-3)

    # training curves: every neural fit of every split seed, one point per epoch, and the validation
    # accuracy of the best epoch is the one in the results
    curves = pd.DataFrame(shown["curves"])
    fits = curves[["method", "split_seed", "task"]].drop_duplicates()
    assert len(fits) == len(neural) * len(seeds) * len(tasks) and set(fits["method"]) == set(neural)
    assert sorted(curves["epoch"].unique()) == list(range(params["training"]["epochs"]))
    best = results.dropna(subset=["best_epoch"])
    for row in best.itertuples():
        val = curves.query("method == @row.method and split_seed == @row.split_seed and task == @row.task "
                           "and metric == 'val_accuracy' and epoch == @row.best_epoch")["value"]  # fmt: skip
        assert val.tolist() == [pytest.approx(row.val_accuracy)]

    assert set(shown["example_tasks"]) == tasks
    # t-SNE: one 2-D point per test case of every task, for both MTL methods
    features = pickle.loads(latest_version(project / "data/04_feature/embedded_mtl.ucr_mtl_mtl_features.pkl").read_bytes())
    expected = {f"{m['method']}/{task}": [len(item["labels"]), 2] for m in features if m for task, item in m["tasks"].items()}
    assert shown["tsne"] == expected and len(expected) == 2 * len(tasks)
    assert images(nb) == 5  # rank plot, significance diagram, curves, examples, t-SNE


def test_dtw_approximation_notebook(project):
    run_for(project, "dtw_approximation.ipynb")
    nb, shown = execute_notebook(
        NOTEBOOKS / "dtw_approximation.ipynb",
        project,
        report_code="""
import json
print("NOTEBOOK-REPORT " + json.dumps(
    {"windows": [float(w) for w in windows], "models": models, "curves": int(training.groupby(["model", "window"]).ngroups)}
))
""",
    )
    params = yaml.safe_load((PROJECT_ROOT / "conf/test/parameters_dtw_approximation.yml").read_text())["dtw_approximation"]
    n_fits = len(params["windows"]) * len(params["models"])
    assert shown == {"windows": params["windows"], "models": params["models"], "curves": n_fits}
    assert images(nb) == 5  # error box plots (ours and the run's), predictions vs DTW, training curves, importance maps


def test_foreclassnet_notebook(project, real_data_dir):
    run_for(project, "foreclassnet.ipynb")
    nb, shown = execute_notebook(NOTEBOOKS / "foreclassnet.ipynb", project, report_code=REPORT_SHOWN)
    assert set(shown) == {"foreclassnet_simulations", "foreclassnet_ecg", "foreclassnet_stocks"}
    for pipeline, plotted in shown.items():
        report = read(project, "08_reporting", f"{pipeline}_report")
        accuracy = report[report["metric"] == "accuracy"]
        cells = accuracy.dropna(subset=["mean"]).itertuples()
        assert plotted == {f"{r.table}|{r.method}|{r.column}": pytest.approx(r.mean) for r in cells}
    assert {key.split("|")[0] for key in shown["foreclassnet_ecg"]} == {"9"}  # the protocol asked for
    assert images(nb) == 5  # three report plots, the filter lengths and the saliency


def test_trep_notebook(project, real_data_dir):
    run_for(project, "trep.ipynb")
    nb, shown = execute_notebook(NOTEBOOKS / "trep.ipynb", project, report_code=REPORT_SHOWN)
    classification = read(project, "08_reporting", "trep_classification_report")
    forecasting = read(project, "08_reporting", "trep_forecasting_report").query("dataset != 'average'")
    missing = read(project, "08_reporting", "trep_missing_data_report")
    anomaly = read(project, "08_reporting", "trep_anomaly_report")
    f1 = anomaly[anomaly["metric"].str.startswith("f1")]
    assert shown == {
        "trep_classification": {f"{r.dataset}|{r.method}": pytest.approx(r.mean) for r in classification.itertuples()},
        "trep_forecasting": {
            f"{r.dataset}|{r.setting}|{r.horizon}|{r.method}": pytest.approx(r.mse_mean) for r in forecasting.itertuples()
        },
        "trep_missing_data": {f"{r.dataset}|{r.rate}|{r.method}": pytest.approx(r.mean) for r in missing.itertuples()},
        "trep_anomaly": {f"{r.task}|{r.metric}|{r.method}": pytest.approx(r.mean) for r in f1.itertuples()},
    }
    assert images(nb) == 8  # 4 plots of ours, the forecasting, missing-data, heat map and anomaly PNGs


def test_mtl_joint_notebook(project, real_data_dir):
    run_for(project, "mtl_joint.ipynb")
    nb, shown = execute_notebook(NOTEBOOKS / "mtl_joint.ipynb", project, report_code=REPORT_SHOWN)
    assert set(shown) == {"etth1", "physionet"}
    for name, plotted in shown.items():
        report = read(project, "08_reporting", f"mtl_joint_{name}_report").set_index("model")
        metrics = [c for c in report.columns if f"{c} std" in report.columns and c != "delta_m"]
        assert metrics and plotted == {f"{model}|{metric}": pytest.approx(report.loc[model, metric]) for model in report.index
                                       for metric in metrics if pd.notna(report.loc[model, metric])}  # fmt: skip
    assert images(nb) == 6  # per data set: the report, the curves, the run's weights plot
