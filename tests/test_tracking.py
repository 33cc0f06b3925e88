"""Experiment tracking (issue #11): kedro-mlflow, optional, off unless installed and ``TSMTL_TRACKING=1``.

* a real ``kedro run`` of ``embedded_mtl`` (one method, one split, 2 epochs) with tracking on in a
  fresh project copy, read back with :class:`mlflow.tracking.MlflowClient`: the run's parameters,
  every per-epoch metric equal to the epoch records of the fit's ``last.pt`` checkpoint (one value
  per epoch, step = epoch), the Markdown, CSV and PNG artifacts equal to what the catalog saved;
* the same project without ``TSMTL_TRACKING``: no ``mlruns/``, nothing of mlflow on the console;
* the epoch events: one emit per epoch of a Trainer fit, the record its history keeps, on the
  listeners registered; the MLflow listener keeps two fits with one label apart and does nothing
  without an active run;
* the switch, the metric names and the SQLite URI.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.image import imread

from tests.pipelines.kedro_project import latest_version, make_project_copy
from tests.toy_fit import toy_fit
from tsmtl import tracking
from tsmtl.training import events
from tsmtl.training.loop import Trainer

PIPELINE = "embedded_mtl"
FIT_PREFIX = "embedded_mtl.run_methods/split_0/resnet1d_mtl/Embedded"  # <node>/<fit label>
EPOCHS = 2


@pytest.fixture(scope="module")
def kedro_mlflow_installed():
    """kedro-mlflow (the [tracking] extra, also in [test]): skipped when absent, except in CI."""
    if importlib.util.find_spec("kedro_mlflow") is None:
        message = 'kedro-mlflow is not installed (pip install -e ".[tracking]")'
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _kedro_run(project: Path, *arguments: str, tracking_on: bool) -> subprocess.CompletedProcess:
    """``kedro run --env test <arguments>`` in ``project``, in a fresh interpreter (settings.py reads the switch once)."""
    environment = {key: value for key, value in os.environ.items() if key not in (tracking.TRACKING_ENV, "MLFLOW_TRACKING_URI")}
    if tracking_on:
        environment[tracking.TRACKING_ENV] = "1"
    command = [sys.executable, "-m", "kedro", "run", "--env", "test", *arguments]
    return subprocess.run(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
        env={**environment, "COLUMNS": "120", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip


@pytest.mark.slow
def test_a_tracked_run_holds_parameters_epoch_metrics_and_result_files(tmp_path, kedro_mlflow_installed):
    from mlflow.tracking import MlflowClient

    project = make_project_copy(tmp_path)
    params = f"{PIPELINE}.select=resnet1d_mtl,{PIPELINE}.split_seeds=[0],{PIPELINE}.training.epochs={EPOCHS}"
    run = _kedro_run(project, "--pipelines", PIPELINE, "--params", params, tracking_on=True)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "Add type hints" not in run.stdout and "register_new_resolver" not in run.stdout
    assert (project / "mlruns" / "mlflow.db").is_file()

    client = MlflowClient(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tsmtl")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    tracked = runs[0]
    assert tracked.info.run_name == PIPELINE and tracked.info.status == "FINISHED"

    # parameters: the node inputs, flattened, with the runtime overrides
    assert tracked.data.params[f"{PIPELINE}.training.epochs"] == str(EPOCHS)
    assert tracked.data.params[f"{PIPELINE}.select"] == "resnet1d_mtl"
    assert tracked.data.params[f"{PIPELINE}.feeding.resample_length"] == "24"

    # per-epoch metrics: the fit's epoch records, as its checkpoint saved them
    checkpoints = list((project / "data" / "06_models" / PIPELINE / "split_0" / "resnet1d_mtl" / "Embedded").glob("*/last.pt"))
    assert len(checkpoints) == 1, checkpoints
    history = torch.load(checkpoints[0], weights_only=True)["history"]
    assert [record["epoch"] for record in history] == list(range(EPOCHS))
    expected_keys = {f"{FIT_PREFIX}/{key}" for key in history[0] if key != "epoch"}
    assert {f"{FIT_PREFIX}/train_loss", f"{FIT_PREFIX}/val_accuracy", f"{FIT_PREFIX}/train_loss/GunPoint"} <= expected_keys
    assert set(tracked.data.metrics) == expected_keys  # every metric of the run comes from that one fit
    for key in history[0]:
        if key == "epoch":
            continue
        logged = sorted((m.step, m.value) for m in client.get_metric_history(tracked.info.run_id, f"{FIT_PREFIX}/{key}"))
        assert logged == [(record["epoch"], float(record[key])) for record in history], key  # float64 both ways: exact

    # artifacts: the report table, its Markdown and both figures, equal to the catalog's files
    reporting = project / "data" / "08_reporting"
    artifacts = sorted(item.path for item in client.list_artifacts(tracked.info.run_id))
    assert artifacts == [
        f"{PIPELINE}.ucr_mtl_accuracy_markdown.md",
        f"{PIPELINE}.ucr_mtl_accuracy_report.csv",
        f"{PIPELINE}.ucr_mtl_significance_plot.png",
        f"{PIPELINE}.ucr_mtl_tsne_plot.png",
    ]
    downloaded = Path(client.download_artifacts(tracked.info.run_id, "", str(tmp_path / "artifacts")))
    markdown = (downloaded / f"{PIPELINE}.ucr_mtl_accuracy_markdown.md").read_text()
    assert markdown == latest_version(reporting / f"{PIPELINE}.ucr_mtl_accuracy.md").read_text()
    assert "ResNet1D w/ MTL" in markdown
    pd.testing.assert_frame_equal(
        pd.read_csv(downloaded / f"{PIPELINE}.ucr_mtl_accuracy_report.csv"),
        pd.read_csv(latest_version(reporting / f"{PIPELINE}.ucr_mtl_accuracy_report.csv")),
    )
    for figure in ("significance", "tsne"):
        logged = imread(downloaded / f"{PIPELINE}.ucr_mtl_{figure}_plot.png")
        saved = imread(latest_version(reporting / f"{PIPELINE}.ucr_mtl_{figure}.png"))
        assert logged.shape == saved.shape and logged.shape[0] > 50
        np.testing.assert_array_equal(logged, saved)


@pytest.mark.slow
def test_without_the_switch_a_run_writes_no_mlruns_and_prints_nothing_of_mlflow(tmp_path):
    project = make_project_copy(tmp_path)
    run = _kedro_run(project, "--pipelines", PIPELINE, "--nodes", f"{PIPELINE}.select_groups", tracking_on=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "finished 1 nodes" in run.stdout
    assert not (project / "mlruns").exists() and not (project / "mlflow.db").exists()
    assert "mlflow" not in run.stdout.lower() and "Add type hints" not in run.stdout


def _toy_fit(epochs: int, label: str = "toy") -> Trainer:
    return toy_fit(epochs=epochs, label=label)


def test_a_fit_emits_each_finished_epoch_record_to_the_listeners_until_removed():
    received: list[tuple[dict, object]] = []
    remove = events.add_epoch_listener(lambda record, context: received.append((dict(record), context)))
    try:
        trainer = _toy_fit(epochs=3)
    finally:
        remove()
    assert [record for record, _ in received] == trainer.result.history  # complete records, in order
    assert [record["epoch"] for record, _ in received] == [0, 1, 2]
    assert {"train_loss", "val_accuracy", "seconds"} <= set(received[0][0])
    assert all(context is trainer for _, context in received)

    _toy_fit(epochs=1)  # removed: no more calls
    assert len(received) == 3
    events.remove_epoch_listener(print)  # not registered: nothing happens


def test_the_mlflow_listener_names_each_fit_and_logs_only_into_an_active_run(tmp_path, kedro_mlflow_installed):
    import mlflow
    from mlflow.tracking import MlflowClient

    listener = tracking.EpochMetricsLogger()
    remove = events.add_epoch_listener(listener)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        _toy_fit(epochs=1)  # no active run: nothing is logged, nothing fails
        experiment = mlflow.create_experiment("toy", artifact_location=(tmp_path / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment) as active:
            token = tracking._current_node.set("train_toy")
            try:
                first, second = _toy_fit(epochs=2), _toy_fit(epochs=3)  # the same label twice
            finally:
                tracking._current_node.reset(token)
            _toy_fit(epochs=1, label="split_0/a+b")  # outside a node; a character MLflow refuses
    finally:
        remove()
        mlflow.set_tracking_uri(previous_uri)

    client = MlflowClient(uri)
    assert len(client.search_runs([experiment])) == 1
    metrics = client.get_run(active.info.run_id).data.metrics
    prefixes = ("train_toy/toy", "train_toy/toy_2", "split_0/a_b")  # <node>/<label>, <label>_2, no node
    assert set(metrics) == {f"{prefix}/{key}" for prefix in prefixes for key in ("train_loss", "val_accuracy", "seconds")}
    for prefix, fit in (("train_toy/toy", first), ("train_toy/toy_2", second)):
        logged = sorted((m.step, m.value) for m in client.get_metric_history(active.info.run_id, f"{prefix}/train_loss"))
        assert logged == [(record["epoch"], record["train_loss"]) for record in fit.result.history]


def test_the_switch_and_what_it_registers(monkeypatch):
    assert tracking.tracking_enabled({"TSMTL_TRACKING": "1"}) and tracking.tracking_enabled({"TSMTL_TRACKING": " True "})
    for value in ("", "0", "false", "off", "no", "2"):
        assert not tracking.tracking_enabled({"TSMTL_TRACKING": value}), value
    assert not tracking.tracking_enabled({})

    monkeypatch.delenv("TSMTL_TRACKING", raising=False)
    assert tracking.tracking_hooks() == ()
    monkeypatch.setenv("TSMTL_TRACKING", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert tracking.tracking_hooks() == ()  # torchrun: rank 0 alone tracks
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "kedro_mlflow" else find_spec(name, *a))
    with pytest.raises(ImportError, match=r'pip install -e "\.\[tracking\]"'):
        tracking.tracking_hooks()


def test_tracking_hooks_when_enabled_are_kedro_mlflows_and_ours(monkeypatch, kedro_mlflow_installed):
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook, mlflow_hook

    monkeypatch.setenv("TSMTL_TRACKING", "1")
    hooks = tracking.tracking_hooks()
    assert [type(hook) for hook in hooks] == [MlflowHook, tracking.TrackingHook]
    assert hooks[0] is not mlflow_hook  # not the entry point's instance, which DISABLE_HOOKS_FOR_PLUGINS unregisters


def test_metric_names_and_the_sqlite_uri(tmp_path):
    assert tracking.metric_key("node.a", "split_0/m/G", "train_loss/Task 1") == "node.a/split_0/m/G/train_loss/Task 1"
    assert tracking.metric_key("fit", "val_accuracy/x+y(z)") == "fit/val_accuracy/x_y_z_"
    assert tracking.metric_key("a//b", "./c", "../d") == "a/b/c/d"  # MLflow refuses empty, . and .. segments

    absolute = f"sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db"
    assert tracking.project_sqlite_uri("sqlite:///mlruns/mlflow.db", tmp_path) == absolute
    for unchanged in ("sqlite:////abs/mlflow.db", "sqlite:///:memory:", "http://127.0.0.1:5000", "mlruns", None):
        assert tracking.project_sqlite_uri(unchanged, tmp_path) == unchanged
