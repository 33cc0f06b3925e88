"""Project pipelines.

Every folder under ``tsmtl/pipelines`` with a ``create_pipeline`` is
registered under its folder name (``kedro run --pipeline ingest_ucr``).
``embedded_mtl`` reuses the ``ucr_mtl`` pipeline on the embedded aeon tasks
(a Kedro namespace: its outputs are ``embedded_mtl.<name>``).
The default pipeline runs on data that needs no download (aeon's shipped
datasets) and finishes in minutes on a CPU.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

DEFAULT_PIPELINES = ("embedded", "embedded_mtl")


def embedded_mtl_pipeline(ucr_mtl: Pipeline) -> Pipeline:
    """``ucr_mtl`` fed with the aeon tasks (``embedded_classification``), split as ``embedded.split``, and the ``embedded_mtl`` parameters."""
    return Pipeline(
        ucr_mtl,
        inputs={"ucr_raw_tasks": "embedded_classification"},
        parameters={
            "params:ucr.groups": "params:embedded_groups",
            "params:ucr.split": "params:embedded.split",
            "params:ucr_mtl": "params:embedded_mtl",
            "params:ucr_mtl.feeding": "params:embedded_mtl.feeding",
            "params:device": "params:device",
        },
        namespace="embedded_mtl",
    )


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    if "ucr_mtl" in pipelines:
        pipelines["embedded_mtl"] = embedded_mtl_pipeline(pipelines["ucr_mtl"])
    pipelines["__default__"] = sum((pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines), Pipeline([]))
    return pipelines
