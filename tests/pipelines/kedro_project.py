"""Run the real project (conf/, catalog factories, versioning) in a temporary copy."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

if TYPE_CHECKING:
    import nbformat

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def make_project_copy(tmp_path: Path) -> Path:
    """``conf/``, ``pyproject.toml`` and an empty ``data/`` tree under ``tmp_path/project``."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("credentials.yml"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(PROJECT_ROOT / ".telemetry", project / ".telemetry")
    (project / "data").mkdir()
    (project / "src").mkdir()  # the package itself is installed; kedro only wants the folder
    return project


def run_pipeline(project: Path, pipeline_name: str | None = None, env: str = "test", **run_kwargs):
    """``kedro run --pipeline <pipeline_name> --env <env>`` from inside ``project`` (as the CLI runs)."""
    previous = os.getcwd()
    os.chdir(project)
    try:
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env=env) as session:
            return session.run(pipeline_name=pipeline_name, **run_kwargs)
    finally:
        os.chdir(previous)


def latest_version(path: Path) -> Path:
    """The newest file of a versioned dataset folder ``<path>/<version>/<name>``."""
    versions = sorted(p for p in path.iterdir() if p.is_dir())
    assert versions, f"no version written under {path}"
    return versions[-1] / path.name


def execute_notebook(
    notebook: Path, project: Path, env: str = "test", report_code: str | None = None, timeout: int = 600
) -> tuple[nbformat.NotebookNode, Any]:
    """Execute ``notebook`` for real, as Jupyter would, on what the runs in ``project`` wrote.

    The notebook is copied to ``project/notebooks`` and run there by nbclient on the ``python3``
    kernel of this interpreter (ipykernel's own, so no kernel needs registering), its magics
    included: ``%load_ext kedro.ipython`` finds ``project`` from that folder and reads the ``env``
    environment (``KEDRO_ENV``, as ``kedro jupyter lab --env <env>`` sets it). A failing cell raises
    ``nbclient.exceptions.CellExecutionError`` naming the cell and the error.

    ``report_code``, when given, is one more cell appended at the end; it prints one line
    ``NOTEBOOK-REPORT <json>`` of the values the notebook computed, returned parsed (else None),
    with the executed notebook (outputs included).
    """
    import nbclient
    import nbformat

    folder = project / "notebooks"
    folder.mkdir(exist_ok=True)
    target = folder / notebook.name
    shutil.copy(notebook, target)
    nb = nbformat.read(target, as_version=4)
    if report_code is not None:
        nb.cells.append(nbformat.v4.new_code_cell(report_code))
    kernel_env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # the inline backend, as in Jupyter
    kernel_env["KEDRO_ENV"] = env
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(folder)}})
    client.execute(env=kernel_env)
    report = None
    if report_code is not None:
        lines = [
            line
            for output in nb.cells[-1].outputs
            if output.get("output_type") == "stream"
            for line in output.get("text", "").splitlines()
            if line.startswith("NOTEBOOK-REPORT ")
        ]
        assert lines, f"{notebook.name}: the report cell printed no NOTEBOOK-REPORT line"
        report = json.loads(lines[-1].removeprefix("NOTEBOOK-REPORT "))
    return nb, report
