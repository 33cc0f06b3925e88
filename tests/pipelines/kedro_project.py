"""Run the real project (conf/, catalog factories, versioning) in a temporary copy."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

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


def run_notebook_code(notebook: Path, project: Path, env: str = "test") -> dict[str, Any]:
    """Execute a notebook's code cells in order, with ``catalog`` from ``project``'s session.

    Stands in for ``%load_ext kedro.ipython`` (IPython magics, the lines starting with ``%``, are
    skipped); returns the namespace the cells leave behind.
    """
    cells = json.loads(notebook.read_text())["cells"]
    previous = os.getcwd()
    os.chdir(project)
    try:
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env=env) as session:
            namespace: dict[str, Any] = {"catalog": session.load_context().catalog}
            for index, cell in enumerate(c for c in cells if c["cell_type"] == "code"):
                source = "".join(line for line in cell["source"] if not line.lstrip().startswith("%"))
                exec(compile(source, f"{notebook.name}[code cell {index}]", "exec"), namespace)  # noqa: S102
            return namespace
    finally:
        os.chdir(previous)
