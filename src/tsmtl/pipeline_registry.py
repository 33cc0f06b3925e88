"""Project pipelines.

Every folder under ``tsmtl/pipelines`` with a ``create_pipeline`` is
registered under its folder name (``kedro run --pipeline ingest_ucr``).
The default pipeline runs on data that needs no download (aeon's shipped
datasets and generated series) and finishes in minutes on a CPU.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

DEFAULT_PIPELINES = ("embedded",)


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum((pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines), Pipeline([]))
    return pipelines
