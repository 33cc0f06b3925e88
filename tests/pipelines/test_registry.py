"""The registry never lies (issue #11): every listed pipeline runs and describes, typos end in one line.

Also the conventions every pipeline follows: each node carries a paper tag and one stage tag,
each experiment pipeline includes the ingest that makes its inputs (``ucr_mtl`` runs on a fresh
project with only raw data present), the download families form one ``download`` pipeline.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from kedro.config import OmegaConfigLoader
from kedro.framework.cli.cli import KedroCLI
from kedro.framework.project import pipelines as kedro_pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.pipelines.kedro_project import PROJECT_ROOT, latest_version, make_project_copy
from tests.pipelines.test_ingest_pipelines import _write_ucr
from tsmtl.pipeline_registry import DEFAULT_PIPELINES, pipeline_names, register_pipelines
from tsmtl.pipelines.tags import PAPER_TAGS, STAGE_TAGS
from tsmtl.settings import CONFIG_LOADER_ARGS

RAW_DATASETS = {
    "ucr_archive", "uea_archive", "ett_archive", "physionet_raw", "stock_prices", "stock_earnings", "yahoo_s5",
    "embedded_classification", "embedded_anomaly", "kaggle_credentials",
}  # fmt: skip


@pytest.fixture(scope="module")
def registry():
    bootstrap_project(PROJECT_ROOT)
    return register_pipelines()


@pytest.fixture(scope="module")
def kedro_cli():
    """``kedro`` as the console runs it in the project root (the project's cli.py ahead of Kedro's commands)."""
    cli = KedroCLI(project_path=PROJECT_ROOT)
    yield cli
    kedro_pipelines.set_requested(None)  # describe narrows the lazy registry to one name


def test_the_registry_is_sorted_and_pipeline_names_lists_it_without_importing(registry):
    names = list(registry)
    assert names == sorted(names)
    assert names == pipeline_names()
    assert names[0] == "__default__"
    assert {"embedded_mtl", "download", "ucr_mtl", "ingest_ucr"} <= set(names)


def test_every_registered_pipeline_is_describable_through_the_cli(registry, kedro_cli):
    runner = CliRunner()
    for name, pipeline in registry.items():
        result = runner.invoke(kedro_cli, ["registry", "describe", name])
        assert result.exit_code == 0, (name, result.output)
        described = yaml.safe_load(result.output)["Nodes"]
        assert [line.split(" (")[0] for line in described] == [node.name for node in pipeline.nodes], name
    listed = yaml.safe_load(runner.invoke(kedro_cli, ["registry", "list"]).output)
    assert listed == pipeline_names()


def test_an_unknown_name_is_one_line_naming_the_sorted_pipelines(kedro_cli):
    expected = f"Error: no pipeline 'ucr_mtll' (did you mean 'ucr_mtl'?); available: {', '.join(pipeline_names())}"
    result = CliRunner().invoke(kedro_cli, ["registry", "describe", "ucr_mtll"])
    assert result.exit_code == 1
    assert result.output.strip() == expected

    # the real console: the last line of stderr, exit status 1, no traceback, nothing run
    run = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "embedded,ucr_mtll"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == expected
    assert "Traceback" not in run.stdout + run.stderr
    assert "Running node" not in run.stdout + run.stderr


def test_the_tsmtl_script_outside_a_project_says_where_to_run_it_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tsmtl"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"tsmtl: no Kedro project in {tmp_path} or above it; run tsmtl inside the tsmtl project "
        "(the folder with pyproject.toml, or any folder below it)"
    )


def test_every_node_has_a_paper_tag_and_one_stage_tag(registry):
    for name, pipeline in registry.items():
        for node in pipeline.nodes:
            assert node.tags & set(PAPER_TAGS), (name, node.name, node.tags)
            assert len(node.tags & set(STAGE_TAGS)) == 1, (name, node.name, node.tags)
    assert {node.name for node in registry["__default__"].only_nodes_with_tags("resnet2d").nodes} == {
        node.name for node in registry["embedded_mtl"].nodes
    }


def test_every_pipeline_reads_only_raw_data_and_parameters_that_exist(registry):
    """The ingest convention: no pipeline needs an output that another pipeline must make first.

    Every parameter (sub-)key a node takes exists in every environment (an environment's
    top-level key replaces the base one whole).
    """
    made = set().union(*(pipeline.all_outputs() for pipeline in registry.values()))
    for name, pipeline in registry.items():
        data = {item for item in pipeline.inputs() if not item.startswith("params:")}
        assert data <= RAW_DATASETS, (name, data - RAW_DATASETS)
        assert not data & made, (name, data & made)
    for env in ("local", "quick", "test"):
        parameters = OmegaConfigLoader(conf_source=str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)["parameters"]
        for name, pipeline in registry.items():
            for parameter in (item[len("params:"):] for item in pipeline.inputs() if item.startswith("params:")):
                value = parameters
                for key in parameter.split("."):
                    assert isinstance(value, dict) and key in value, (env, name, parameter)
                    value = value[key]


def test_ucr_mtl_includes_its_ingest_and_embedded_mtl_reuses_its_experiment(registry):
    ucr_mtl, ingest = registry["ucr_mtl"], registry["ingest_ucr"]
    assert set(ingest.nodes) <= set(ucr_mtl.nodes)
    assert all(node.name.startswith("ingest_ucr.") for node in ingest.nodes)
    assert "ucr_raw_tasks" not in ucr_mtl.inputs() and "ucr_archive" in ucr_mtl.inputs()
    experiment = [node.name for node in ucr_mtl.nodes if node not in set(ingest.nodes)]
    assert sorted(f"embedded_mtl.{name}" for name in experiment) == sorted(node.name for node in registry["embedded_mtl"].nodes)
    assert set(registry["__default__"].nodes) == set().union(*(registry[name].nodes for name in DEFAULT_PIPELINES))


def test_download_is_the_families_that_need_no_account_in_one_namespace(registry):
    download = registry["download"]
    families = ["download_ucr", "download_uea", "download_ett", "download_physionet"]
    assert set(download.nodes) == set().union(*(registry[name].nodes for name in families))
    assert {node.namespace for node in download.nodes} == {"download"}
    assert download.outputs() == {f"{family.split('_')[1]}_download_report" for family in families}
    assert registry["download_stocks"].inputs() & {"kaggle_credentials"}
    assert not set(registry["download_stocks"].nodes) & set(download.nodes)


@pytest.mark.slow
def test_ucr_mtl_runs_on_a_fresh_project_with_only_the_raw_ucr_folder(tmp_path, monkeypatch):
    """``kedro run --pipelines ucr_mtl --env quick`` with nothing ingested: ingest_ucr runs first."""
    raw = tmp_path / "shared_data"
    _write_ucr(raw, "DodgerLoopDay", n_per_class=5, length=24, classes=(1, 2, 3), gap=True, seed=1)
    _write_ucr(raw, "DodgerLoopGame", n_per_class=6, length=24, classes=(1, 2), seed=2)
    monkeypatch.setenv("TSMTL_DATA_DIR", str(raw))
    project = make_project_copy(tmp_path)
    small = {
        "ucr_mtl": {
            "select": ["1nn_dtw", "resnet1d"], "split_seeds": [0], "fanout": {"n_jobs": 1},
            "feeding": {"resample_length": 24}, "training": {"epochs": 1},
            "checkpoint_dir": str(project / "data/06_models/ucr_mtl_quick"),
        }
    }  # fmt: skip
    monkeypatch.chdir(project)
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="quick", runtime_params=small) as session:
        session.run(pipeline_names=["ucr_mtl"])
    assert latest_version(project / "data/02_intermediate/ucr_raw_tasks.pkl").is_file()  # written by ingest_ucr
    table = pd.read_csv(latest_version(project / "data/08_reporting/ucr_mtl_accuracy_report.csv"))
    assert set(table["task"]) == {"DodgerLoopDay", "DodgerLoopGame"}
