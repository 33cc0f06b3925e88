from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import report_ett_splits, split_ett_files


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(split_ett_files, ["ett_archive", "params:ett"], "ett_splits", name="split_ett_files", tags=INGEST),
            Node(report_ett_splits, "ett_splits", "ett_report", name="report_ett_splits", tags=REPORT),
        ],
        ["data", "trep"],
        namespace="ingest_ett",
    )
