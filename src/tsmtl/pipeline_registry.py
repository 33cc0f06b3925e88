"""Project pipelines (issue #11: a registry that never lies).

Every folder under ``tsmtl/pipelines`` with a ``create_pipeline`` is registered under its folder
name, because Kedro 1.7 imports ``tsmtl.pipelines.<name>`` for ``kedro run --pipelines <name>``
and ``kedro registry describe <name>``: a pipeline built anywhere else would be listed but not
runnable. :func:`pipeline_names` lists the same names from the folders without importing them
(the project CLI, :mod:`tsmtl.cli`, checks ``--pipelines`` against it).

The default pipeline (``embedded`` + ``embedded_mtl``) runs on data that needs no download
(aeon's shipped datasets) and finishes in minutes on a CPU.
"""

from __future__ import annotations

from importlib.resources import files

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

DEFAULT_PIPELINES = ("embedded", "embedded_mtl")
PIPELINES_PACKAGE = "tsmtl.pipelines"


def pipeline_names() -> list[str]:
    """Every registered name, sorted: ``__default__`` and the package folders of ``tsmtl.pipelines``.

    The folders are those ``find_pipelines`` walks (not ``__pycache__``, not hidden), with an ``__init__.py``.
    """
    folders = [
        entry.name
        for entry in files(PIPELINES_PACKAGE).iterdir()
        if entry.is_dir()
        and entry.name != "__pycache__"
        and not entry.name.startswith(".")
        and entry.joinpath("__init__.py").is_file()
    ]
    return sorted(["__default__", *folders])


def register_pipelines() -> dict[str, Pipeline]:
    """The pipelines Kedro asked for (all of them, or those of ``--pipelines``), sorted by name.

    ``__default__`` is registered when both :data:`DEFAULT_PIPELINES` were loaded (always, unless
    ``kedro run --pipelines`` asked for others only).
    """
    pipelines = find_pipelines(raise_errors=True)
    pipelines.pop("__default__", None)  # find_pipelines' empty placeholder: tsmtl has no pipeline.py module
    if all(name in pipelines for name in DEFAULT_PIPELINES):
        pipelines["__default__"] = sum((pipelines[name] for name in DEFAULT_PIPELINES), Pipeline([]))
    return dict(sorted(pipelines.items()))
